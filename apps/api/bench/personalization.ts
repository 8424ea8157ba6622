/**
 * Personalization end to end (DESIGN §8): a user uploads 5 keyword clips, asks for a model, polls the job and
 * downloads the model — against the api process and real worker processes training with the default budget
 * on the committed base model. Each user is a held-out voice (never in the base model's training data).
 */
import type { Agent } from 'node:http';
import { encodeWav } from '@kws/audio';
import { DEFAULT_KEYWORD, HELDOUT_VOICES, synthesize } from '@kws/detector';
import { multipart } from '../test/helpers.ts';
import { createUser, type LatencySummary, send, sendJson, summarize } from './http.ts';

/** How often a user's app polls its job: latency is measured to within this. */
const POLL_MS = 50;
/** A job that takes longer than this fails the bench (the worker's own limit is 600 s). */
const JOB_DEADLINE_MS = 600_000;

export interface UserTiming {
  voice: string;
  /** From the start of the upload to the model downloaded. */
  totalMs: number;
  uploadMs: number;
  /** From the training request until the job was first seen active. */
  queuedMs: number;
  /** From first seen active until seen completed. */
  trainingMs: number;
  downloadMs: number;
}

export interface PersonalizationResult extends LatencySummary {
  case: 'personalization-idle' | 'personalization-burst';
  users: number;
  workers: number;
  /** Jobs completed per minute, from the first upload to the last download. */
  jobsPerMin: number;
  /** CPU seconds the worker process(es) used per job (all threads), when /proc tells. */
  workerCpuSPerJob?: number;
  timings: UserTiming[];
}

interface BenchUser {
  userId: string;
  voice: string;
  auth: Record<string, string>;
  form: { payload: Buffer; headers: Record<string, string> };
}

/**
 * Five takes of the keyword, varied in speed and pitch; `shift` (0–19) moves them so that users sharing a
 * voice still send different clips (the worker seeds training from the clips' bytes).
 */
async function enrollmentTakes(voice: string, shift: number): Promise<Uint8Array[]> {
  return Promise.all(
    Array.from({ length: 5 }, async (_, i) => {
      const take = { speed: 150 + 14 * i + 2 * shift, pitch: 40 + 5 * i + shift };
      return encodeWav(await synthesize(DEFAULT_KEYWORD, voice, take), 16_000);
    }),
  );
}

/** Users `first … first + count − 1`, created with their clips ready to send (nothing uploaded yet). */
async function prepareUsers(agent: Agent, port: number, adminKey: string, first: number, count: number) {
  return Promise.all(
    Array.from({ length: count }, async (_, k): Promise<BenchUser> => {
      const n = first + k;
      const voice = HELDOUT_VOICES[n % HELDOUT_VOICES.length];
      const userId = `bench-personal-${n}`;
      const takes = await enrollmentTakes(voice, n % 20);
      const form = await multipart(takes.map((bytes, i) => ({ bytes, name: `take${i + 1}.wav` })));
      return { userId, voice, auth: await createUser(agent, port, adminKey, userId), form };
    }),
  );
}

/** What a phone app does: upload, request training, poll the job, download the model. */
async function personalizeOne(
  agent: Agent,
  port: number,
  user: BenchUser,
  start: number,
): Promise<UserTiming> {
  const base = `/v1/users/${user.userId}`;
  await sendJson(agent, port, `${base}/enrollments`, 201, {
    method: 'POST',
    headers: { ...user.auth, ...user.form.headers },
    body: user.form.payload,
  });
  const uploaded = performance.now();
  const { jobId } = await sendJson<{ jobId: string }>(agent, port, `${base}/models`, 202, {
    method: 'POST',
    headers: user.auth,
  });
  let active: number | undefined;
  for (;;) {
    const job = await sendJson<{ state: string; error?: { code: string; message: string } }>(
      agent,
      port,
      `/v1/jobs/${encodeURIComponent(jobId)}`,
      200,
      { headers: user.auth },
    );
    const now = performance.now();
    if (job.state === 'failed') throw new Error(`job ${jobId} failed: ${JSON.stringify(job.error)}`);
    if (job.state !== 'queued') active ??= now;
    if (job.state === 'completed') break;
    if (now - start > JOB_DEADLINE_MS)
      throw new Error(`job ${jobId} still ${job.state} after ${JOB_DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const completed = performance.now();
  const model = await send(agent, port, `${base}/model`, { headers: user.auth });
  if (model.status !== 200) throw new Error(`model download of ${user.userId} answered ${model.status}`);
  const downloaded = performance.now();
  return {
    voice: user.voice,
    totalMs: downloaded - start,
    uploadMs: uploaded - start,
    queuedMs: (active ?? completed) - uploaded,
    trainingMs: completed - (active ?? completed),
    downloadMs: downloaded - completed,
  };
}

/** CPU seconds the worker processes have used so far, or undefined where that is unknown. */
export type CpuMeter = () => number | undefined;

function result(
  name: PersonalizationResult['case'],
  workers: number,
  timings: UserTiming[],
  elapsedMs: number,
  workerCpuS: number | undefined,
): PersonalizationResult {
  return {
    case: name,
    users: timings.length,
    workers,
    jobsPerMin: (timings.length / elapsedMs) * 60_000,
    ...(workerCpuS !== undefined ? { workerCpuSPerJob: workerCpuS / timings.length } : {}),
    timings,
    ...summarize(timings.map((t) => t.totalMs)),
  };
}

/** One job at a time on an idle worker, `repeats` times, after one unreported warm-up job. */
export async function benchIdle(
  agent: Agent,
  port: number,
  adminKey: string,
  repeats: number,
  workerCpu: CpuMeter,
): Promise<{ warmUp: UserTiming; result: PersonalizationResult }> {
  const [first, ...users] = await prepareUsers(agent, port, adminKey, 0, repeats + 1);
  const warmUp = await personalizeOne(agent, port, first, performance.now());
  const cpuBefore = workerCpu();
  const start = performance.now();
  const timings: UserTiming[] = [];
  for (const user of users) timings.push(await personalizeOne(agent, port, user, performance.now()));
  const elapsed = performance.now() - start;
  const cpuAfter = workerCpu();
  const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  return { warmUp, result: result('personalization-idle', 1, timings, elapsed, cpu) };
}

/** `count` users upload and request training at the same moment; `workers` worker processes. */
export async function benchBurst(
  agent: Agent,
  port: number,
  adminKey: string,
  count: number,
  workers: number,
  workerCpu: CpuMeter,
): Promise<PersonalizationResult> {
  const users = await prepareUsers(agent, port, adminKey, 20, count);
  const cpuBefore = workerCpu();
  const start = performance.now();
  const timings = await Promise.all(users.map((user) => personalizeOne(agent, port, user, start)));
  const elapsed = performance.now() - start;
  const cpuAfter = workerCpu();
  const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  return result('personalization-burst', workers, timings, elapsed, cpu);
}
