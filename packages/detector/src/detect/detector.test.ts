import { describe, expect, it } from 'vitest';
import { detect, StreamingDetector } from './detector.ts';
import { loudnessModel, RATE, scene, WINDOW } from './testing.ts';

describe('StreamingDetector', () => {
  it('finds each burst once, with the span of frames above threshold around it', () => {
    const audio = scene(10, [
      [1.2, 1.5, 0.3],
      [4.0, 4.2, 0.3],
      [7.3, 7.7, 0.3],
    ]);
    const result = detect(loudnessModel(), audio);
    expect(result.detected).toBe(true);
    expect(result.detections.length).toBe(3);
    const expected = [
      [1.2, 1.5],
      [4.0, 4.2],
      [7.3, 7.7],
    ];
    result.detections.forEach((d, i) => {
      // Frames (25 ms long, every 20 ms at the output) that overlap the burst by more than half are loud.
      expect(Math.abs(d.start_s - expected[i][0])).toBeLessThan(0.03);
      expect(Math.abs(d.end_s - expected[i][1])).toBeLessThan(0.03);
      expect(d.score).toBeGreaterThan(0.98);
    });
    expect(result.score).toBe(Math.max(...result.detections.map((d) => d.score)));
  });

  it('gives the same result whatever the chunk sizes, and streams out detections once they are final', () => {
    const model = loudnessModel();
    // 5.03 s: the last hop-aligned window starts at 3.5 s, within 1 s of the second burst.
    const audio = scene(5.03, [
      [0.5, 0.8, 0.3],
      [3.1, 3.3, 0.3],
    ]);
    const whole = detect(model, audio, {}, audio.length);
    for (const chunk of [1, 159, 160, 4000, 23_921]) {
      expect(detect(model, audio, {}, chunk)).toEqual(whole);
    }
    const live = new StreamingDetector(model);
    const emitted: number[] = [];
    for (let i = 0; i < audio.length; i += 1600) {
      for (const d of live.push(audio.subarray(i, i + 1600))) emitted.push(d.start_s);
      // A detection is final once a window starts more than the refractory period after its peak.
      if (i / RATE < 0.8 + 1) expect(emitted.length).toBe(0);
    }
    expect(emitted.length).toBe(1); // the second burst is still open until finish
    expect(live.finish()).toEqual(whole);
  });

  it('merges peaks within the refractory period and separates them beyond it', () => {
    const audio = scene(5, [
      [1.0, 1.2, 0.3],
      [1.7, 1.9, 0.3],
    ]);
    const merged = detect(loudnessModel({ refractory_s: 1 }), audio);
    expect(merged.detections.length).toBe(1);
    expect(merged.detections[0].start_s).toBeLessThan(1.05);
    expect(merged.detections[0].end_s).toBeGreaterThan(1.85);
    const separate = detect(loudnessModel({ refractory_s: 0.3 }), audio);
    expect(separate.detections.length).toBe(2);
  });

  it('reports the best score but no detection below the threshold', () => {
    const audio = scene(4, [[2, 2.4, 0.3]]);
    const low = detect(loudnessModel({}, 0.9995), audio);
    expect(low.detected).toBe(false);
    expect(low.detections).toEqual([]);
    expect(low.score).toBeGreaterThan(0.98);
    expect(low.score).toBeLessThan(0.9995);
    expect(detect(loudnessModel(), scene(4, [])).score).toBeLessThan(0.02);
  });

  it('pads audio shorter than a window and covers a tail that ends between hops', () => {
    // 0.6 s: fewer frames than one window.
    const short = detect(loudnessModel(), scene(0.6, [[0.2, 0.4, 0.3]]));
    expect(short.detections.length).toBe(1);
    expect(short.detections[0].end_s).toBeLessThan(0.45);
    // A burst in the last 0.1 s of 3.05 s: only the tail window (aligned to the end) sees it whole.
    const tail = detect(loudnessModel(), scene(3.05, [[2.95, 3.05, 0.3]]));
    expect(tail.detections.length).toBe(1);
    expect(tail.detections[0].end_s).toBeLessThanOrEqual(3.05);
    expect(tail.detections[0].end_s).toBeGreaterThan(3.0);
    // Less than one MFCC frame: nothing to score.
    expect(detect(loudnessModel(), new Float32Array(399))).toEqual({
      detected: false,
      score: 0,
      detections: [],
    });
  });

  it('evaluates one window per hop (25 frames at 0.25 s) and rejects a hop longer than the window', () => {
    const d = new StreamingDetector(loudnessModel());
    d.push(new Float32Array(160_800));
    // Frames of 10.05 s: 1 + ⌊(160800 − 400) / 160⌋ = 1003; windows start every 25 frames while
    // start + 148 ≤ 1003, the last at frame 850, so frames 998…1002 wait for the tail window.
    expect(d.windows).toBe(Math.floor((1003 - WINDOW) / 25) + 1);
    d.finish();
    expect(d.windows).toBe(Math.floor((1003 - WINDOW) / 25) + 2);
    const exact = new StreamingDetector(loudnessModel());
    exact.push(new Float32Array(160_000)); // 998 frames: the windows end exactly at the last frame
    expect(exact.finish().score).toBeLessThan(0.02);
    expect(exact.windows).toBe((998 - WINDOW) / 25 + 1);
    expect(() => new StreamingDetector(loudnessModel(), { hopS: 2 })).toThrow(
      /hop 2 s is 200 frames; expected 1 to 148/,
    );
    expect(() => new StreamingDetector(loudnessModel(), { threshold: 0 })).toThrow(
      /threshold must be a probability/,
    );
  });
});
