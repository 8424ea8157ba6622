/**
 * ProjectedWindows' bookkeeping against the whole network run on each window (`WholeWindows`, the plain
 * forward pass that nn's tfjs parity tests prove): irregular window starts of both convolution phases,
 * rings that wrap many times, runs of one window (from the per-position store) between runs of several
 * (whole), and long gaps between windows. window-parity.test.ts checks the streaming
 * detector end to end against a float64 reference.
 */
import { describe, expect, it } from 'vitest';
import { networkGeometry } from '../model/model-file.ts';
import { ProjectedWindows } from './projected-windows.ts';
import { loudnessModel, randomDetector } from './testing.ts';
import { FrameRing, WholeWindows } from './window-batch.ts';

/** Small so that the rings wrap often. */
const MAX_FRAMES = 16;
const MAX_BATCH = 3;

describe('ProjectedWindows', () => {
  const { network } = randomDetector();
  const g = networkGeometry(network);

  it('applies to conv → per-frame layers → recurrent networks only', () => {
    const ring = new FrameRing(g.inputFrames + 2 * MAX_FRAMES, g.numMfcc);
    const whole = () => new WholeWindows(network, g, ring, MAX_BATCH);
    const batch = ProjectedWindows.create(network, g, ring, MAX_BATCH, MAX_FRAMES, whole());
    expect(batch).toBeInstanceOf(ProjectedWindows);
    batch?.release();
    const plain = loudnessModel().network;
    const plainGeometry = networkGeometry(plain);
    const plainWhole = new WholeWindows(plain, plainGeometry, ring, MAX_BATCH);
    expect(ProjectedWindows.create(plain, plainGeometry, ring, MAX_BATCH, MAX_FRAMES, plainWhole)).toBeNull();
    plainWhole.release();
    const short = new FrameRing(g.inputFrames, g.numMfcc);
    expect(() => ProjectedWindows.create(network, g, short, 1, 16, whole())).toThrow(/needs 180/);
  });

  it('scores every window as the whole network does', () => {
    const t = g.inputFrames;
    const n = g.numMfcc;
    const ringP = new FrameRing(t + 2 * MAX_FRAMES, n);
    const ringW = new FrameRing(t + 2 * MAX_FRAMES, n);
    const ownWhole = new WholeWindows(network, g, ringP, MAX_BATCH);
    const projected = ProjectedWindows.create(network, g, ringP, MAX_BATCH, MAX_FRAMES, ownWhole)!;
    const whole = new WholeWindows(network, g, ringW, MAX_BATCH);
    // Starts of both parities, close together and far apart (a gap of 700 frames: positions computed long
    // ago are gone from the ring), in runs longer than one batch.
    const starts = [0, 1, 3, 4, 25, 50, 51, 52, 53, 80, 800, 801, 813, 838, 901, 902, 903, 904, 905, 990];
    let a = 5;
    const frame = new Float32Array(MAX_FRAMES * n);
    let next = 0;
    let compared = 0;
    let worst = 0;
    const runBoth = () => {
      if (projected.starts.length === 0) return;
      expect(projected.starts).toEqual(whole.starts);
      const got = projected.run();
      const want = whole.run();
      expect(got.length).toBe(want.length);
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      compared += got.length / g.outputFrames;
    };
    while (next < starts.length) {
      // 1 to MAX_FRAMES frames at a time, of varied sizes.
      const count = 1 + (ringP.frames % MAX_FRAMES);
      for (let i = 0; i < count * n; i++) {
        a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
        frame[i] = 4 * (a / 2 ** 32) - 2;
      }
      if (!projected.hasRoomFor(count)) runBoth();
      ringP.append(frame, 0, count);
      ringW.append(frame, 0, count);
      while (next < starts.length && starts[next] + t <= ringP.frames) {
        if (projected.starts.length === MAX_BATCH) runBoth();
        projected.queue(starts[next]);
        whole.queue(starts[next]);
        next++;
      }
      // Mostly one window per run (what the store is for), sometimes several (run whole).
      if (next % 7 !== 0) runBoth();
    }
    runBoth();
    expect(compared).toBe(starts.length);
    expect(worst).toBeLessThan(1e-5);
    projected.release();
    whole.release();
  });
});
