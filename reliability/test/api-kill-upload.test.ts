import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { expectStatus, multipart, scanStore, sleep, speechWav } from '../src/harness.ts';
import { clusterPerFile } from './cluster-fixture.ts';

/**
 * The api SIGKILLed while a multipart upload is half sent: the batch is all-or-nothing (DESIGN §5), so no
 * clip of it is stored and no temp file is left; the restarted api takes the same upload in full.
 */
const USER = 'faults-api-kill';
/** Bytes per write of the slow half, and the pause between writes. */
const CHUNK_BYTES = 2_048;
const CHUNK_PAUSE_MS = 20;

const cluster = clusterPerFile({ workers: 0 });

/** The request line and headers of an upload, as bytes a raw socket can send. */
function uploadHead(port: number, token: string, headers: Record<string, string>, length: number): Buffer {
  return Buffer.from(
    `POST /v1/users/${USER}/enrollments HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      `Authorization: Bearer ${token}\r\nContent-Type: ${headers['content-type']}\r\n` +
      `Content-Length: ${length}\r\nConnection: close\r\n\r\n`,
  );
}

/** Collects what the server sends until it closes the connection (or errors: reset by a dead peer). */
function received(socket: Socket): Promise<{ text: string; error?: string }> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.once('error', (err) => done({ text: Buffer.concat(chunks).toString(), error: err.message }));
    socket.once('close', () => done({ text: Buffer.concat(chunks).toString() }));
  });
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((ok, fail) => {
    socket.once('connect', ok);
    socket.once('error', fail);
  });
  return socket;
}

function write(socket: Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((ok, fail) => socket.write(bytes, (err) => (err ? fail(err) : ok())));
}

describe('the api killed in the middle of a multipart upload', () => {
  it('stores nothing of the batch, leaves no temp file, and takes the same upload after a restart', async () => {
    const { client, api, dataDir } = cluster();
    const { token } = await client.createUser(USER);
    expectStatus(
      await client.uploadClips(USER, token, [speechWav(0.7, { seed: 1 }), speechWav(0.9, { seed: 2 })]),
      201,
      'the first upload',
    );
    const listing = async () =>
      expectStatus(await client.listClips(USER, token), 200, 'listing').json<{
        clips: { clipId: string }[];
      }>().clips;
    const before = await listing();
    const scanBefore = await scanStore(dataDir);

    const files = [1.2, 1.5, 1.1].map((s, i) => ({
      name: `retry-${i}.wav`,
      bytes: speechWav(s, { seed: 10 + i }),
    }));
    const form = await multipart(files);
    const head = uploadHead(api.port, token, form.headers, form.payload.byteLength);
    const half = form.payload.subarray(0, form.payload.byteLength >> 1);

    const socket = await open(api.port);
    const answer = received(socket);
    await write(socket, head);
    for (let at = 0; at < half.byteLength; at += CHUNK_BYTES) {
      await write(socket, half.subarray(at, at + CHUNK_BYTES));
      await sleep(CHUNK_PAUSE_MS);
    }
    // The api has the first file whole and part of the second; it is waiting for the rest.
    await sleep(300);
    const oldPid = api.process.pid;
    await api.kill();
    const reply = await answer;
    expect(reply.text).toBe('');

    // Nothing of the batch on disk: no new clip file, no temp file, the index unchanged.
    const scanDead = await scanStore(dataDir);
    expect([scanDead.tempFiles, scanDead.staging, scanDead.partialVersions]).toEqual([[], [], []]);
    expect([...scanDead.files.keys()].sort()).toEqual([...scanBefore.files.keys()].sort());

    const restartStart = performance.now();
    await api.restart();
    const restartMs = performance.now() - restartStart;
    expect(api.process.pid).not.toBe(oldPid);
    expect(await listing()).toEqual(before);

    // The same request, sent whole over a raw socket, is stored.
    const retry = await open(api.port);
    const retryAnswer = received(retry);
    await write(retry, Buffer.concat([head, form.payload]));
    const retried = await retryAnswer;
    expect(retried.text.split('\r\n')[0], retried.text).toBe('HTTP/1.1 201 Created');
    const after = await listing();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after).toHaveLength(before.length + files.length);
    const scanAfter = await scanStore(dataDir);
    expect([scanAfter.tempFiles, scanAfter.staging]).toEqual([[], []]);

    process.stdout.write(
      `api-kill-upload: killed after ${half.byteLength} of ${form.payload.byteLength} body bytes; ` +
        `connection ${reply.error ? `reset (${reply.error})` : 'closed'} with no reply; api back in ` +
        `${(restartMs / 1000).toFixed(1)} s; retry 201 with ${files.length} clips\n`,
    );
  });
});
