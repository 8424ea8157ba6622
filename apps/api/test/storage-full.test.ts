import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errors } from '../src/errors.ts';
import { speechWav } from './audio.ts';
import {
  bearer,
  createUser,
  deleteRedisKeys,
  errorOf,
  startTestApp,
  type TestApp,
  upload,
} from './helpers.ts';

/** DESIGN §7: as root, a tmpfs mount gives a real small disk. */
const canMount = process.getuid?.() === 0;

describe.skipIf(!canMount)('a full disk through the API (1 MB tmpfs)', () => {
  let mountDir: string;
  let t: TestApp;
  beforeEach(async () => {
    mountDir = await mkdtemp(join(tmpdir(), 'kws-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountDir]);
    t = await startTestApp({ dataDir: mountDir });
  });
  afterEach(async () => {
    await t.app.close();
    await deleteRedisKeys(t.config.queuePrefix);
    execFileSync('umount', [mountDir]);
    await rm(mountDir, { recursive: true, force: true });
  });

  it('an upload that does not fit is 507 KWS_ERR_STORAGE_FULL and leaves nothing', async () => {
    const { token } = await createUser(t, 'crowded');
    // Stored as 16 kHz 16-bit: 4.5 s ≈ 144 KB each, 10 of them ≈ 1.4 MB > 1 MB.
    const files = Array.from({ length: 10 }, (_, i) => ({
      name: `c${i}.wav`,
      bytes: speechWav(4.5, { seed: i }),
    }));
    const res = await upload(t, 'crowded', token, files);
    expect([res.statusCode, errorOf(res).code]).toEqual([507, errors.STORAGE_FULL.code]);
    expect(errorOf(res).message).toMatch(/storage is full .*nothing was kept/);
    expect(await readdir(join(mountDir, 'users/crowded/clips'))).toEqual([]);
    expect(await readdir(join(mountDir, 'tmp'))).toEqual([]);
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/users/crowded/enrollments',
      headers: bearer(token),
    });
    expect(list.json().clips).toEqual([]);
    // The service is fine afterwards: a batch that fits is stored.
    const small = await upload(t, 'crowded', token, files.slice(0, 2));
    expect(small.statusCode).toBe(201);
  });
});
