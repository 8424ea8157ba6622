/**
 * A child process that writes to a store as fast as it can, for crash-consistency tests: it is SIGKILLed at
 * a random moment and the parent checks what a reader sees. Each round adds 1–3 clips (deleting the oldest
 * when the user is near the limit), stores a model version of 64–512 KB and makes it current, and prints
 * `round <n>` once the round is done.
 *
 *   node --import tsx reliability/src/store-writer.ts <dataDir> <userId>
 */
import { randomBytes } from 'node:crypto';
import { MAX_CLIPS_PER_USER, Store } from '@kws/store';

const QUALITY = { peakDb: -6, snrDb: 30, speechS: 0.5, clippingFraction: 0 };

async function run(dataDir: string, userId: string): Promise<void> {
  const store = await Store.open(dataDir);
  if (!(await store.getUser(userId))) await store.createUser(userId);
  for (let round = 1; ; round++) {
    const clips = await store.listClips(userId);
    const adding = 1 + (round % 3);
    for (const old of clips.slice(0, Math.max(0, clips.length + adding - MAX_CLIPS_PER_USER))) {
      await store.deleteClip(userId, old.clipId);
    }
    await store.addClips(
      userId,
      Array.from({ length: adding }, (_, i) => ({
        wav: randomBytes(16_000 + 8_000 * i),
        durationS: 1,
        quality: QUALITY,
        fileName: `r${round}-${i}.wav`,
      })),
    );
    const version = `r${round}-${randomBytes(4).toString('hex')}`;
    await store.putModelVersion(userId, version, { 'model.kws': randomBytes(64 * 1024 * (1 + (round % 8))) });
    await store.setCurrentModel(userId, version);
    process.stdout.write(`round ${round}\n`);
  }
}

const [dataDir, userId] = process.argv.slice(2);
if (!dataDir || !userId) {
  process.stderr.write('usage: store-writer.ts <dataDir> <userId>\n');
  process.exit(2);
}
await run(dataDir, userId);
