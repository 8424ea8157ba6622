# One image for the api and the worker (docker-compose.yml picks the command). No build step: tsx runs the
# TypeScript sources.
# No Docker engine runs on the machines this repo is developed on, so the image itself has not been built.
# Checked by hand instead (2026-11-26): the COPY'd paths from `git archive HEAD`, `npm ci --omit=dev` (122 MB
# of node_modules), then both commands with REDIS_URL/KWS_DATA_DIR set: the api answered /readyz "ready"
# and the worker logged "waiting for personalization jobs"; at c970cbd a user created, five 48 kHz clips
# uploaded (checked on the api's check thread), a job trained and the model downloaded (200, 182,116 B).
FROM node:20-bookworm-slim

WORKDIR /app
# Sources first: npm ci links the workspaces' bin scripts, which must exist.
COPY package.json package-lock.json ./
COPY packages ./packages
COPY apps ./apps
COPY scripts ./scripts
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

RUN mkdir -p /data && chown node:node /data
ENV HOST=0.0.0.0 \
    PORT=8080 \
    KWS_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER node

CMD ["node", "--import", "tsx", "apps/api/src/main.ts"]
