# One image for the api and the worker (docker-compose.yml picks the command). No build step: tsx runs the
# TypeScript sources.
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
