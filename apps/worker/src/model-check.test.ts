import { readFile } from 'node:fs/promises';
import { BASE_MODEL_PATH, type DetectorModel, loadDetectorModel, saveDetectorModel } from '@kws/detector';
import { errors, KwsError } from '@kws/store';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkModel, checkWindow } from './model-check.ts';

const METRICS = { frr: 0.1, fa_per_hour: 0.5, eval: { note: 'test' } };
let base: Uint8Array;

beforeAll(async () => {
  base = new Uint8Array(await readFile(BASE_MODEL_PATH));
});

/** The committed base model with changed header fields or weights, saved again. */
function variant(change: (model: DetectorModel) => void): Uint8Array {
  const model = loadDetectorModel(base);
  model.header = { ...model.header, metrics: METRICS };
  change(model);
  return saveDetectorModel(model);
}

function failure(bytes: Uint8Array): string {
  try {
    checkModel(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(KwsError);
    expect((err as KwsError).code).toBe(errors.MODEL_INVALID.code);
    return (err as Error).message;
  }
  throw new Error('checkModel accepted the model');
}

describe('checkModel', () => {
  it('accepts a loadable model with a threshold and metrics, and exports it to tfjs', () => {
    const checked = checkModel(variant(() => {}));
    expect(checked.frr).toBe(0.1);
    expect(checked.faPerHour).toBe(0.5);
    expect(checked.threshold).toBeGreaterThan(0);
    const json = JSON.parse(new TextDecoder().decode(checked.tfjs.modelJson));
    expect(json.format).toBe('layers-model');
    const bytes = json.weightsManifest[0].weights.reduce(
      (n: number, w: { shape: number[] }) => n + 4 * w.shape.reduce((a, b) => a * b, 1),
      0,
    );
    expect(checked.tfjs.weights.byteLength).toBe(bytes);
  });

  it('refuses bytes that are not a model', () => {
    expect(failure(new Uint8Array([1, 2, 3, 4]))).toMatch(
      /^the trained model is not usable: it does not load \(/,
    );
  });

  it('refuses a model without metrics', () => {
    expect(failure(variant((m) => (m.header = { ...m.header, metrics: {} })))).toMatch(
      /metrics must hold finite frr and fa_per_hour, received \{\}/,
    );
  });

  it('refuses a model whose outputs are not finite (finite weights, a negative BatchNormalization variance)', () => {
    const bytes = variant((m) => {
      const names = m.network.layers.flatMap((l) => l.weights.map((w) => `${l.name}/${w.name}`));
      const at = names.findIndex((n) => n.endsWith('moving_variance'));
      expect(at, names.join(', ')).toBeGreaterThanOrEqual(0);
      const weights = m.network.getWeights();
      weights[at].data.fill(-1);
      m.network.setWeights(weights);
    });
    expect(failure(bytes)).toMatch(/score on the test window must be a probability, received NaN/);
  });

  it('uses a fixed test window with energy changes', () => {
    const a = checkWindow();
    expect(a).toEqual(checkWindow());
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.1);
  });
});
