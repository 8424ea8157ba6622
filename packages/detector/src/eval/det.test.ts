import { describe, expect, it } from 'vitest';
import { detect, type WindowScore } from '../detect/detector.ts';
import { loudnessModel, scene } from '../detect/testing.ts';
import { countDetections, detCurve, falseRejectRate, pointAtFaBudget, THRESHOLD_GRID } from './det.ts';
import { detSvg } from './plot.ts';

describe('DET from one detection pass', () => {
  it('counts, at every threshold, exactly the detections the streaming detector makes at that threshold', () => {
    // Bursts of graded loudness give graded window scores; some sit within the refractory period of others.
    const audio = scene(30, [
      [1.0, 1.3, 0.3],
      [1.8, 2.0, 0.02],
      [5.0, 5.2, 0.01],
      [9.0, 9.4, 0.005],
      [9.9, 10.1, 0.3],
      [14.0, 14.3, 0.003],
      [20.0, 20.2, 0.05],
      [26.0, 26.5, 0.002],
    ]);
    for (const refractory of [0.5, 1, 3]) {
      const model = loudnessModel({ refractory_s: refractory, window_frames: 3 });
      const windows: WindowScore[] = [];
      detect(model, audio, { onWindow: (w) => windows.push(w), threshold: 0.5 });
      const distinct = new Set(windows.map((w) => w.score.toFixed(3)));
      expect(distinct.size).toBeGreaterThan(5); // the scores really are graded
      for (const t of [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97]) {
        const real = detect(model, audio, { threshold: t }).detections.length;
        expect(countDetections(windows, t, refractory), `threshold ${t}, refractory ${refractory}`).toBe(
          real,
        );
      }
    }
  });

  it('turns scores and streams into FRR and FA/h per threshold, and finds the FA budget point', () => {
    expect(falseRejectRate([0.2, 0.6, 0.9, 0.95], 0.7)).toBe(0.5);
    expect(falseRejectRate([], 0.5)).toBe(0);
    const stream = {
      durationS: 1800,
      windows: [
        { startS: 0, peakS: 1, score: 0.4 },
        { startS: 100, peakS: 101, score: 0.8 },
      ],
    };
    const curve = detCurve([0.3, 0.9], [stream], 1, [0.35, 0.5, 0.85]);
    expect(curve).toEqual([
      { threshold: 0.35, frr: 0.5, fa_per_hour: 4 },
      { threshold: 0.5, frr: 0.5, fa_per_hour: 2 },
      { threshold: 0.85, frr: 0.5, fa_per_hour: 0 },
    ]);
    expect(pointAtFaBudget(curve, 0.5)?.threshold).toBe(0.85);
    expect(pointAtFaBudget(curve, 3)?.threshold).toBe(0.5);
    expect(pointAtFaBudget([{ threshold: 0.9, frr: 0, fa_per_hour: 1 }], 0.5)).toBeNull();
    expect(THRESHOLD_GRID.length).toBe(99);
  });

  it('plots curves as SVG with a point per threshold and the operating point circled', () => {
    const points = THRESHOLD_GRID.map((t) => ({ threshold: t, frr: t, fa_per_hour: 10 * (1 - t) }));
    const svg = detSvg([{ label: 'a<b', points, threshold: 0.5 }]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('<title>DET curve</title>');
    const polyline = /<polyline[^>]*points="([^"]+)"/.exec(svg);
    expect(polyline?.[1].split(' ').length).toBe(99);
    expect(svg).toContain('<circle');
    expect(svg).toContain('a&lt;b');
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });
});
