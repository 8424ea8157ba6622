import { ModelFileError, readModelFile, writeModelFile } from '@kws/nn';
import { describe, expect, it } from 'vitest';
import { createDetectorNetwork, DEFAULT_SIZES, type DetectorSizes, detectorLayers } from './architecture.ts';
import { DetectorModelError, detectorHeader } from './header.ts';
import { loadDetectorModel, modelSha256, networkGeometry, saveDetectorModel } from './model-file.ts';

const TINY: Partial<DetectorSizes> = {
  windowFrames: 20,
  convFilters: 4,
  convKernelSize: 3,
  lstmUnits: [3, 2],
};
const CREATED_AT = '2026-11-25T12:00:00.000Z';

function randomInput(frames: number, seed: number): { shape: number[]; data: Float32Array } {
  let a = seed;
  const data = new Float32Array(2 * frames * 13).map(() => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a / 2 ** 32) * 40 - 20;
  });
  return { shape: [2, frames, 13], data };
}

/** Reads the JSON header straight from the bytes, as a device would (DESIGN §3), without packages/nn. */
function rawHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('KWS1');
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  return { header, dataStart: Math.ceil((8 + length) / 16) * 16 };
}

describe('detector network', () => {
  it('maps a 148-frame MFCC window to 74 posteriors with the sizes the constants name', () => {
    const net = createDetectorNetwork();
    expect(net.inputShape).toEqual([148, 13]);
    expect(net.outputShape).toEqual([74, 1]);
    expect(net.layers.map((l) => l.className)).toEqual([
      'Conv1D',
      'BatchNormalization',
      'Activation',
      'Bidirectional',
      'BatchNormalization',
      'Bidirectional',
      'TimeDistributed',
    ]);
    // Parameter count from the Keras formulas: conv k·in·f + f; BN 4·f; BiLSTM 2·4u(in + u + 1); Dense in + 1.
    const { convFilters: f, convKernelSize: k, lstmUnits } = DEFAULT_SIZES;
    const [u1, u2] = lstmUnits;
    const expected =
      k * 13 * f +
      f +
      4 * f +
      2 * 4 * u1 * (f + u1 + 1) +
      4 * 2 * u1 +
      2 * 4 * u2 * (2 * u1 + u2 + 1) +
      2 * u2 +
      1;
    expect(net.weights.reduce((n, w) => n + w.value.length, 0)).toBe(expected);
  });

  it('draws its initial weights from the seed alone, with Keras-shaped initializers', () => {
    const a = createDetectorNetwork({ sizes: TINY, seed: 'x' });
    const b = createDetectorNetwork({ sizes: TINY, seed: 'x' });
    const c = createDetectorNetwork({ sizes: TINY, seed: 'y' });
    a.weights.forEach((w, i) => {
      expect(Array.from(b.weights[i].value)).toEqual(Array.from(w.value));
    });
    expect(Array.from(c.weights[0].value)).not.toEqual(Array.from(a.weights[0].value));

    const conv = a.layers[0].weights[0]; // [3, 13, 4]: Glorot limit √(6 / (3·13 + 3·4))
    const limit = Math.sqrt(6 / (3 * 13 + 3 * 4));
    expect(Math.max(...Array.from(conv.value, Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...Array.from(conv.value, Math.abs))).toBeGreaterThan(0.5 * limit);

    const rec = a.layers[3].weights.find((w) => w.name === 'forward_lstm/recurrent_kernel');
    if (!rec) throw new Error('no forward recurrent kernel');
    const [u, cols] = rec.shape; // orthonormal rows: R · Rᵀ = I
    for (let i = 0; i < u; i++) {
      for (let j = 0; j < u; j++) {
        let dot = 0;
        for (let c2 = 0; c2 < cols; c2++) dot += rec.value[i * cols + c2] * rec.value[j * cols + c2];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 5);
      }
    }
    // LSTM unit forget bias: the forget-gate slice of the bias is 1, the rest 0.
    const bias = a.layers[3].weights.find((w) => w.name === 'forward_lstm/bias');
    expect(Array.from(bias?.value ?? [])).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('rejects sizes that are not positive integers, naming the size', () => {
    expect(() => detectorLayers({ convFilters: 0 })).toThrow(/convFilters must be an integer ≥ 1, got 0/);
    expect(() => detectorLayers({ lstmUnits: [8, 2.5] })).toThrow(/lstmUnits\[1\]/);
  });
});

describe('detector model file', () => {
  it('writes exactly the DESIGN §3 header fields (golden) with the tfjs weight names', () => {
    const network = createDetectorNetwork({ sizes: TINY, seed: 5 });
    const bytes = saveDetectorModel({
      network,
      header: detectorHeader({ keyword: 'hey nova', created_at: CREATED_AT, threshold: 0.62 }),
    });
    const { header, dataStart } = rawHeader(bytes);
    const { layers, tensors, ...fields } = header as {
      layers: unknown[];
      tensors: Record<string, unknown>[];
    };
    expect(fields).toEqual({
      format_version: 1,
      keyword: 'hey nova',
      created_at: CREATED_AT,
      base_model_sha256: null,
      feature_config: {
        sample_rate: 16000,
        frame_length: 400,
        frame_step: 160,
        fft_length: 512,
        window: 'hann_periodic',
        num_mel_bins: 40,
        lower_edge_hertz: 20,
        upper_edge_hertz: 7600,
        log_offset: 1e-6,
        num_mfcc: 13,
      },
      threshold: 0.62,
      smoothing: { window_frames: 5, hop_s: 0.25, refractory_s: 1 },
      metrics: {},
    });
    expect((layers as { class_name: string }[]).map((l) => l.class_name)).toEqual([
      'InputLayer',
      'Conv1D',
      'BatchNormalization',
      'Activation',
      'Bidirectional',
      'BatchNormalization',
      'Bidirectional',
      'TimeDistributed',
    ]);
    expect((layers[0] as { config: { batch_input_shape: unknown } }).config.batch_input_shape).toEqual([
      null,
      20,
      13,
    ]);
    const golden: [string, number[]][] = [
      ['conv1d/kernel', [3, 13, 4]],
      ['conv1d/bias', [4]],
      ['batch_normalization/gamma', [4]],
      ['batch_normalization/beta', [4]],
      ['batch_normalization/moving_mean', [4]],
      ['batch_normalization/moving_variance', [4]],
      ['bidirectional/forward_lstm/kernel', [4, 12]],
      ['bidirectional/forward_lstm/recurrent_kernel', [3, 12]],
      ['bidirectional/forward_lstm/bias', [12]],
      ['bidirectional/backward_lstm/kernel', [4, 12]],
      ['bidirectional/backward_lstm/recurrent_kernel', [3, 12]],
      ['bidirectional/backward_lstm/bias', [12]],
      ['batch_normalization_1/gamma', [6]],
      ['batch_normalization_1/beta', [6]],
      ['batch_normalization_1/moving_mean', [6]],
      ['batch_normalization_1/moving_variance', [6]],
      ['bidirectional_1/forward_lstm_1/kernel', [6, 8]],
      ['bidirectional_1/forward_lstm_1/recurrent_kernel', [2, 8]],
      ['bidirectional_1/forward_lstm_1/bias', [8]],
      ['bidirectional_1/backward_lstm_1/kernel', [6, 8]],
      ['bidirectional_1/backward_lstm_1/recurrent_kernel', [2, 8]],
      ['bidirectional_1/backward_lstm_1/bias', [8]],
      ['time_distributed/kernel', [4, 1]],
      ['time_distributed/bias', [1]],
    ];
    let offset = 0;
    tensors.forEach((t, i) => {
      const [name, shape] = golden[i];
      const length = 4 * shape.reduce((a, b) => a * b, 1);
      expect(t).toEqual({ name, dtype: 'float32', shape, offset, length });
      // The bytes at the offset are the weight, little-endian float32.
      const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart + offset, length);
      const weight = network.weights[i].value;
      for (let j = 0; j < weight.length; j++) expect(view.getFloat32(4 * j, true)).toBe(weight[j]);
      offset += Math.ceil(length / 16) * 16;
    });
    expect(tensors.length).toBe(golden.length);
  });

  it('loads back the same function, weights and header; float16 stays within its precision', () => {
    const network = createDetectorNetwork({ sizes: TINY, seed: 9 });
    // Give the BN moving statistics non-default values so their round trip is visible.
    network.forwardTrain(randomInput(20, 1));
    const header = detectorHeader({
      keyword: 'hey nova',
      created_at: CREATED_AT,
      base_model_sha256: 'ab'.repeat(32),
      metrics: { frr: 0.05, fa_per_hour: 0.25, eval: { voices: ['en-us+f3'], hours: 2 } },
    });
    const bytes = saveDetectorModel({ network, header });
    const loaded = loadDetectorModel(bytes);
    expect(loaded.header).toEqual(header);
    expect(networkGeometry(loaded.network)).toEqual({ inputFrames: 20, numMfcc: 13, outputFrames: 10 });
    loaded.network.weights.forEach((w, i) => {
      expect(Array.from(w.value)).toEqual(Array.from(network.weights[i].value));
    });
    const x = randomInput(20, 2);
    expect(Array.from(loaded.network.forward(x).data)).toEqual(Array.from(network.forward(x).data));
    expect(modelSha256(saveDetectorModel(loaded))).toBe(modelSha256(bytes));

    const half = loadDetectorModel(saveDetectorModel({ network, header }, { dtype: 'float16' }));
    const a = half.network.forward(x).data;
    const b = network.forward(x).data;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(2e-2);
  });

  it('rejects malformed detector fields and mismatched weights with the field named', () => {
    const network = createDetectorNetwork({ sizes: TINY, seed: 1 });
    const good = readModelFile(
      saveDetectorModel({ network, header: detectorHeader({ keyword: 'hey nova', created_at: CREATED_AT }) }),
    );
    const withExtra = (patch: Record<string, unknown>) =>
      writeModelFile({ layers: good.layers, tensors: good.tensors, extra: { ...good.extra, ...patch } });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ keyword: '' }, /keyword must be a non-empty string; received ""/],
      [{ threshold: 1 }, /threshold must be a probability in \(0, 1\); received 1/],
      [{ threshold: undefined }, /threshold must be a probability in \(0, 1\); received nothing/],
      [{ smoothing: { window_frames: 0, hop_s: 0.25, refractory_s: 1 } }, /smoothing.window_frames/],
      [{ smoothing: { window_frames: 3, hop_s: -1, refractory_s: 1 } }, /smoothing.hop_s must be a finite/],
      [
        { feature_config: { num_mfcc: 50 } },
        /feature_config: feature config num_mfcc must be ≤ num_mel_bins/,
      ],
      [
        { feature_config: { num_mfcc: 12 } },
        /reads 13 coefficients per frame but feature_config.num_mfcc is 12/,
      ],
      [{ base_model_sha256: 'abc' }, /base_model_sha256 must be null or 64 lowercase hex digits/],
      [
        { metrics: { frr: 2, fa_per_hour: 0, eval: {} } },
        /metrics.frr must be a rate in \[0, 1\]; received 2/,
      ],
      [{ created_at: 'yesterday' }, /created_at must be an ISO 8601 time/],
    ];
    for (const [patch, message] of cases) {
      expect(() => loadDetectorModel(withExtra(patch)), JSON.stringify(patch)).toThrow(message);
      expect(() => loadDetectorModel(withExtra(patch))).toThrow(DetectorModelError);
    }

    const short = writeModelFile({
      layers: good.layers,
      tensors: good.tensors.slice(0, -1),
      extra: good.extra,
    });
    expect(() => loadDetectorModel(short)).toThrow(/model layers: .*time_distributed.*bias.* is missing/);
    const noWindow = writeModelFile({
      layers: good.layers.slice(1),
      tensors: good.tensors,
      extra: good.extra,
    });
    expect(() => loadDetectorModel(noWindow)).toThrow(/declare its window as batch_input_shape/);
    const truncated = saveDetectorModel({ network, header: detectorHeader({ keyword: 'k' }) }).subarray(
      0,
      100,
    );
    expect(() => loadDetectorModel(truncated)).toThrow(ModelFileError);
  });
});
