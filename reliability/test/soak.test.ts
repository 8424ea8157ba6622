/**
 * The soak of `reliability/scripts/soak.ts`, short: 45 s of the same mix (uploads and deletes, downloads,
 * revalidations, training requests, job polls) against a real api and 2 real workers. Workers train with
 * KWS_TRAINING_STEPS=20 (personalize's default is 150) so that jobs keep completing within the run.
 * No error of any kind, every requested job completed, RSS without a leak's growth.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatReport, runSoak } from '../scripts/soak.ts';
import { killAll } from '../src/harness.ts';

const LOAD_S = 45;
/**
 * Growth (mean of the last third of the samples minus the first third's, after a 15 s warm-up) that fails the
 * test. Generous for a loaded 2-core machine, whose GC timing moves RSS by tens of MB; a leak of each
 * request's body or of each job's training thread grows past it within the run.
 */
const MAX_API_GROWTH_MB = 40;
const MAX_WORKER_GROWTH_MB = 120;

afterAll(async () => {
  await killAll();
});

describe('soak (short)', () => {
  it(`${LOAD_S} s of steady mixed load: no error, every job completed, RSS does not grow`, async () => {
    const report = await runSoak({
      durationS: LOAD_S,
      warmupS: 15,
      trainingSteps: 20,
      workers: 2,
      devices: 2,
      // Half the script's default rates: the point here is errors, jobs and memory, not throughput.
      rates: { upload: 2, download: 5, revalidate: 20 },
    });
    const text = formatReport(report);
    console.log(text);
    expect(report.errors, text).toBe(0);
    expect(report.requests).toBeGreaterThan(LOAD_S * 10);
    expect(report.jobs.requested, text).toBeGreaterThan(0);
    expect(report.jobs.completed, text).toBe(report.jobs.requested);
    expect(report.rss.api.growthMb, text).toBeLessThan(MAX_API_GROWTH_MB);
    for (const [name, trend] of Object.entries(report.rss)) {
      if (name.startsWith('worker'))
        expect(trend.growthMb, `${name}\n${text}`).toBeLessThan(MAX_WORKER_GROWTH_MB);
    }
  }, 240_000);
});
