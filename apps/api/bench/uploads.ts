/**
 * Enrollment upload of one 2 s clip (issue 6 target: p99 < 50 ms): the whole request — multipart parsing,
 * WAV decoding, resampling to 16 kHz, quality analysis, the atomic (fsynced) store write — as a phone sends
 * it. Uploads go round-robin to many users, so the 20-clips-per-user limit and the store's per-user lock
 * don't shape the figures.
 */
import { encodeWav, resample } from '@kws/audio';
import { HELDOUT_VOICES, synthesize } from '@kws/detector';
import { MAX_CLIPS_PER_USER } from '@kws/store';
import { multipart } from '../test/helpers.ts';
import { closedLoop, createUser, keepAlive, type LatencySummary, send, summarize } from './http.ts';
import { type ApiProcess, cpuSeconds } from './processes.ts';

export const CLIP_SECONDS = 2;

export interface UploadResult extends LatencySummary {
  case: 'upload';
  sampleRate: number;
  fileBytes: number;
  concurrency: number;
  seconds: number;
  reqPerS: number;
  /** CPU time of the api process per upload (all its threads), when /proc tells. */
  apiCpuMs?: number;
  /**
   * CPU time of the api's main thread per upload: what each upload holds the event loop for (clip checks run
   * on other threads), the figure concurrent uploads queue behind.
   */
  apiMainThreadCpuMs?: number;
  statuses: Record<number, number>;
}

/** 2 s of a held-out voice speaking (the keyword and more), 16 kHz. */
async function twoSecondsOfSpeech(): Promise<Float32Array> {
  const speech = await synthesize('hey nova, what is the weather like today', HELDOUT_VOICES[0]);
  const clip = new Float32Array(CLIP_SECONDS * 16_000);
  clip.set(speech.subarray(0, clip.length));
  return clip;
}

/** One case per (sample rate, concurrency): `count` uploads of the same 2 s clip, after a warm-up. */
export async function benchUploads(
  api: ApiProcess,
  sampleRates: readonly number[],
  concurrencies: readonly number[],
  count: number,
): Promise<UploadResult[]> {
  const speech = await twoSecondsOfSpeech();
  const { port } = api;
  const agent = keepAlive(Math.max(...concurrencies));
  const results: UploadResult[] = [];
  let users = 0;
  try {
    for (const sampleRate of sampleRates) {
      const wav = encodeWav(
        sampleRate === 16_000 ? speech : resample(speech, 16_000, sampleRate),
        sampleRate,
      );
      const form = await multipart([{ bytes: wav, name: 'take.wav' }]);
      for (const concurrency of [0, ...concurrencies]) {
        // Concurrency 0 is the warm-up: as many uploads at 1, not reported.
        const firstUser = users;
        const n = Math.ceil(count / MAX_CLIPS_PER_USER);
        const auths = await Promise.all(
          Array.from({ length: n }, (_, k) =>
            createUser(agent, port, api.adminKey, `bench-upload-${firstUser + k}`),
          ),
        );
        users += n;
        const { pid } = api.process;
        const cpuBefore = cpuSeconds(pid);
        const mainBefore = cpuSeconds(pid, pid);
        const r = await closedLoop(Math.max(1, concurrency), { count }, (i) => {
          const k = i % n;
          return send(agent, port, `/v1/users/bench-upload-${firstUser + k}/enrollments`, {
            method: 'POST',
            headers: { ...auths[k], ...form.headers },
            body: form.payload,
          });
        });
        if (r.statuses[201] !== r.requests) {
          throw new Error(`uploads answered ${JSON.stringify(r.statuses)}, expected only 201`);
        }
        const cpuAfter = cpuSeconds(pid);
        const mainAfter = cpuSeconds(pid, pid);
        if (concurrency === 0) continue;
        results.push({
          case: 'upload',
          sampleRate,
          fileBytes: wav.byteLength,
          concurrency,
          seconds: r.seconds,
          reqPerS: r.requests / r.seconds,
          ...(cpuBefore !== undefined && cpuAfter !== undefined
            ? { apiCpuMs: ((cpuAfter - cpuBefore) * 1000) / r.requests }
            : {}),
          ...(mainBefore !== undefined && mainAfter !== undefined
            ? { apiMainThreadCpuMs: ((mainAfter - mainBefore) * 1000) / r.requests }
            : {}),
          statuses: r.statuses,
          ...summarize(r.latenciesMs),
        });
      }
    }
    return results;
  } finally {
    agent.destroy();
  }
}
