import type * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../test/assert-close.ts';
import { seededRandom } from '../../test/finite-diff.ts';
import { tfCpu } from '../../test/loss-check.ts';
import type { Layer, Weight } from '../layers/layer.ts';
import { BinaryCrossentropy } from '../losses/binary-crossentropy.ts';
import { Sequential } from '../model/sequential.ts';
import type { FloatArray } from '../tensor.ts';
import { Adam } from './adam.ts';
import type { Optimizer } from './optimizer.ts';
import { SGD } from './sgd.ts';

const random = seededRandom(23);
const SHAPES = [[3, 4], [4], [2, 3, 2]];
const STEPS = 5;

function weight(
  name: string,
  shape: number[],
  dtype: 'float32' | 'float64' = 'float32',
  trainable = true,
): Weight {
  const n = shape.reduce((a, b) => a * b, 1);
  const make = (): FloatArray => (dtype === 'float32' ? new Float32Array(n) : new Float64Array(n));
  const value = make();
  for (let i = 0; i < n; i++) value[i] = 2 * random() - 1;
  return { name, shape, value, grad: make(), trainable };
}

function weights(dtype: 'float32' | 'float64' = 'float32'): Weight[] {
  return SHAPES.map((s, i) => weight(`w${i}`, s, dtype));
}

/** Gradients for every step, fixed up front so both sides see the same ones. */
function gradientSequence(ws: Weight[], scale = 1): Float64Array[][] {
  return Array.from({ length: STEPS }, () =>
    ws.map((w) => Float64Array.from({ length: w.value.length }, () => scale * (2 * random() - 1))),
  );
}

/**
 * Runs our optimizer and a tfjs optimizer side by side on copies of the same weights and the same gradient
 * sequence, comparing every weight after every step.
 */
async function compareWithTfjs(
  makeOurs: (ws: Weight[]) => Optimizer,
  makeTheirs: (t: typeof tf) => tf.Optimizer,
): Promise<{ ours: Optimizer; theirs: tf.Optimizer; ws: Weight[] }> {
  const t = await tfCpu();
  const ws = weights();
  const grads = gradientSequence(ws);
  const prefix = `v${Math.floor(random() * 1e9)}`;
  const vars = ws.map((w, i) =>
    t.variable(t.tensor(Float32Array.from(w.value), [...w.shape]), true, `${prefix}_${i}`),
  );
  const ours = makeOurs(ws);
  const theirs = makeTheirs(t);
  for (let step = 0; step < STEPS; step++) {
    ws.forEach((w, i) => {
      w.grad.set(grads[step][i]);
    });
    ours.step();
    t.tidy(() => {
      const map: Record<string, tf.Tensor> = {};
      ws.forEach((w, i) => {
        map[vars[i].name] = t.tensor(Float32Array.from(grads[step][i]), [...w.shape]);
      });
      theirs.applyGradients(map);
    });
    ws.forEach((w, i) => {
      assertClose(`step ${step + 1} ${w.name}`, w.value, vars[i].dataSync(), { rtol: 1e-5, atol: 1e-7 });
    });
  }
  expect(ours.iterations).toBe(STEPS);
  return { ours, theirs, ws };
}

describe('SGD against tfjs', () => {
  it('plain gradient descent equals tf.train.sgd', async () => {
    await compareWithTfjs(
      (ws) => new SGD(ws, { learningRate: 0.1 }),
      (t) => t.train.sgd(0.1),
    );
  });

  it('momentum equals tf.train.momentum', async () => {
    await compareWithTfjs(
      (ws) => new SGD(ws, { learningRate: 0.05, momentum: 0.9 }),
      (t) => t.train.momentum(0.05, 0.9, false),
    );
  });

  it('nesterov momentum equals tf.train.momentum(useNesterov)', async () => {
    await compareWithTfjs(
      (ws) => new SGD(ws, { learningRate: 0.05, momentum: 0.8, nesterov: true }),
      (t) => t.train.momentum(0.05, 0.8, true),
    );
  });
});

describe('Adam against tfjs', () => {
  // tfjs adds epsilon to the bias-corrected √v̂, Keras to the uncorrected √v: with epsilon 0 on both sides
  // the two forms are the same number, so this compares the rest of the update exactly (the float64
  // reference below pins where Keras puts epsilon).
  it('equals tf.train.adam with epsilon 0, weights and both moments', async () => {
    const { ours, theirs } = await compareWithTfjs(
      (ws) => new Adam(ws, { learningRate: 0.05, beta1: 0.8, beta2: 0.99, epsilon: 0 }),
      (t) => t.train.adam(0.05, 0.8, 0.99, 0),
    );
    // tfjs weights: [iterations, m_0, m_1, m_2, v_0, v_1, v_2].
    const tfState = await theirs.getWeights();
    const slots = ours.getState().slots;
    for (let i = 0; i < SHAPES.length; i++) {
      assertClose(`momentum ${i}`, slots[2 * i].data, tfState[1 + i].tensor.dataSync(), {
        rtol: 1e-5,
        atol: 1e-8,
      });
      assertClose(`velocity ${i}`, slots[2 * i + 1].data, tfState[4 + i].tensor.dataSync(), {
        rtol: 1e-5,
        atol: 1e-9,
      });
    }
  });

  it('uses the Keras defaults lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7, close to tfjs with them', async () => {
    const ws = weights();
    const adam = new Adam(ws);
    expect(adam.getConfig()).toEqual({
      name: 'Adam',
      learning_rate: 0.001,
      weight_decay: null,
      clipnorm: null,
      global_clipnorm: null,
      clipvalue: null,
      beta_1: 0.9,
      beta_2: 0.999,
      epsilon: 1e-7,
      amsgrad: false,
    });
    await compareWithTfjs(
      (w) => new Adam(w),
      (t) => t.train.adam(0.001, 0.9, 0.999, 1e-7),
    );
  });
});

/** Keras' Adam update written out in float64, one element at a time. */
function kerasAdamReference(
  w0: number[],
  grads: number[][],
  o: { lr: number; b1: number; b2: number; eps: number; amsgrad: boolean; wd?: number },
): number[] {
  const w = [...w0];
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const vhat = w.map(() => 0);
  grads.forEach((g, step) => {
    const t = step + 1;
    const alpha = (o.lr * Math.sqrt(1 - o.b2 ** t)) / (1 - o.b1 ** t);
    for (let i = 0; i < w.length; i++) {
      if (o.wd) w[i] = w[i] - w[i] * o.wd * o.lr;
      m[i] += (g[i] - m[i]) * (1 - o.b1);
      v[i] += (g[i] * g[i] - v[i]) * (1 - o.b2);
      vhat[i] = Math.max(vhat[i], v[i]);
      w[i] -= (alpha * m[i]) / (Math.sqrt(o.amsgrad ? vhat[i] : v[i]) + o.eps);
    }
  });
  return w;
}

describe('Adam against a float64 reference of the Keras formulas', () => {
  for (const amsgrad of [false, true]) {
    it(`matches with amsgrad=${amsgrad} and weight decay, epsilon where Keras puts it`, () => {
      const w = weight('w', [6], 'float64');
      const w0 = [...w.value];
      // Gradients that shrink then grow make v decrease at times, so amsgrad's max matters.
      const grads = Array.from({ length: 8 }, (_, s) =>
        Array.from({ length: 6 }, () => (2 * random() - 1) * (s % 4 === 3 ? 5 : 0.01)),
      );
      const o = { lr: 0.01, b1: 0.9, b2: 0.99, eps: 1e-3, amsgrad, wd: 0.1 };
      const adam = new Adam([w], {
        learningRate: o.lr,
        beta1: o.b1,
        beta2: o.b2,
        epsilon: o.eps,
        amsgrad,
        weightDecay: o.wd,
      });
      for (const g of grads) {
        w.grad.set(g);
        adam.step();
      }
      assertClose('weights', w.value, kerasAdamReference(w0, grads, o), { rtol: 1e-12, atol: 1e-14 });
      // The two variants really differ on this sequence.
      const other = kerasAdamReference(w0, grads, { ...o, amsgrad: !amsgrad });
      expect(Math.max(...other.map((x, i) => Math.abs(x - w.value[i])))).toBeGreaterThan(1e-4);
    });
  }
});

describe('gradient clipping against float64 references', () => {
  /** One plain SGD step (lr 1) makes the applied gradient visible: w0 − w1. */
  function appliedGradients(args: ConstructorParameters<typeof SGD>[1], grads: number[][]): number[][] {
    const ws = grads.map((g, i) => weight(`w${i}`, [g.length], 'float64'));
    const before = ws.map((w) => [...w.value]);
    ws.forEach((w, i) => {
      w.grad.set(grads[i]);
    });
    new SGD(ws, { learningRate: 1, ...args }).step();
    return ws.map((w, i) => before[i].map((b, j) => b - w.value[j]));
  }
  const grads = [
    [3, 4],
    [0, 12],
    [0.1, -0.2, 0.2],
  ];

  it('clipnorm rescales each weight to its own norm limit', () => {
    const applied = appliedGradients({ clipnorm: 5 }, grads);
    // Norms 5, 12, 0.3: the first sits at the limit, the second shrinks by 5/12, the third is untouched.
    assertClose('w0', applied[0], [3, 4], { rtol: 1e-12, atol: 1e-14 });
    assertClose('w1', applied[1], [0, 5], { rtol: 1e-12, atol: 1e-14 });
    assertClose('w2', applied[2], [0.1, -0.2, 0.2], { rtol: 1e-12, atol: 1e-14 });
  });

  it('globalClipnorm rescales all gradients by one factor when the global norm exceeds the limit', () => {
    const globalNorm = Math.sqrt(25 + 144 + 0.09);
    const scale = 6.5 / globalNorm;
    const applied = appliedGradients({ globalClipnorm: 6.5 }, grads);
    grads.forEach((g, i) => {
      assertClose(
        `w${i}`,
        applied[i],
        g.map((x) => x * scale),
        { rtol: 1e-12, atol: 1e-14 },
      );
    });
    const untouched = appliedGradients({ globalClipnorm: 14 }, grads);
    grads.forEach((g, i) => {
      assertClose(`w${i} below the limit`, untouched[i], g, { rtol: 1e-12, atol: 1e-14 });
    });
  });

  it('clipvalue clamps each element', () => {
    const applied = appliedGradients({ clipvalue: 0.15 }, grads);
    assertClose('applied', applied.flat(), [0.15, 0.15, 0, 0.15, 0.1, -0.15, 0.15], {
      rtol: 1e-12,
      atol: 1e-14,
    });
  });

  it('leaves the gradients themselves untouched', () => {
    const w = weight('w', [2], 'float64');
    w.grad.set([30, 40]);
    new SGD([w], { globalClipnorm: 1 }).step();
    expect([...w.grad]).toEqual([30, 40]);
  });

  it('refuses two clipping modes at once, as Keras does', () => {
    expect(() => new SGD(weights(), { clipnorm: 1, globalClipnorm: 1 })).toThrow(
      'Only one of clipnorm, globalClipnorm and clipvalue can be set, got clipnorm, globalClipnorm',
    );
  });
});

describe('weight decay', () => {
  it('shrinks w by lr·wd·w before the SGD momentum update (float64 reference)', () => {
    const w = weight('kernel', [4], 'float64');
    let ref = [...w.value];
    const m = [0, 0, 0, 0];
    const sgd = new SGD([w], { learningRate: 0.1, momentum: 0.5, weightDecay: 0.3 });
    for (let step = 0; step < 3; step++) {
      const g = [0.5, -1, 2, 0.25].map((x) => x * (step + 1));
      w.grad.set(g);
      sgd.step();
      ref = ref.map((x, i) => {
        const decayed = x - x * 0.3 * 0.1;
        m[i] = 0.5 * m[i] - 0.1 * g[i];
        return decayed + m[i];
      });
    }
    assertClose('weights', w.value, ref, { rtol: 1e-12, atol: 1e-14 });
  });

  it('skips weights named in excludeFromWeightDecay', () => {
    const kernel = weight('kernel', [3], 'float64');
    const bias = weight('bias', [3], 'float64');
    const k0 = [...kernel.value];
    const b0 = [...bias.value];
    new SGD([kernel, bias], { learningRate: 0.5, weightDecay: 0.2, excludeFromWeightDecay: ['bias'] }).step();
    assertClose(
      'kernel',
      kernel.value,
      k0.map((x) => x * 0.9),
      { rtol: 1e-12, atol: 1e-14 },
    );
    expect([...bias.value]).toEqual(b0);
  });
});

/** The smallest object the optimizer reads from a layer: its weights and its trainable flag. */
function layerOf(name: string, ws: Weight[]): Layer {
  const unused = () => {
    throw new Error('not used by optimizers');
  };
  return {
    className: 'Holder',
    name,
    dtype: 'float32',
    trainable: true,
    weights: ws,
    build: unused,
    forward: unused,
    forwardTrain: unused,
    backward: unused,
    zeroGrad: unused,
    getConfig: unused,
    dispose: unused,
  };
}

describe('frozen layers and non-trainable weights', () => {
  it('never touches non-trainable weights, skips frozen layers, and resumes their state when unfrozen', () => {
    const frozenKernel = weight('kernel', [3]);
    const movingMean = weight('moving_mean', [3], 'float32', false);
    const liveKernel = weight('kernel', [3]);
    const frozen = layerOf('frozen', [frozenKernel, movingMean]);
    const live = layerOf('live', [liveKernel]);
    frozen.trainable = false;
    const adam = new Adam([frozen, live], { learningRate: 0.1, weightDecay: 0.5 });
    // State for the two trainable weights only: momentum + velocity of 3 each.
    expect(adam.getState().slots.map((s) => s.shape)).toEqual([[3], [3], [3], [3]]);
    for (const w of [frozenKernel, movingMean, liveKernel]) w.grad.fill(1);
    const frozenBefore = [...frozenKernel.value];
    const meanBefore = [...movingMean.value];
    const liveBefore = [...liveKernel.value];
    adam.step();
    adam.step();
    expect([...frozenKernel.value]).toEqual(frozenBefore);
    expect([...movingMean.value]).toEqual(meanBefore);
    expect([...liveKernel.value]).not.toEqual(liveBefore);
    expect([...adam.getState().slots[0].data]).toEqual([0, 0, 0]);

    frozen.trainable = true;
    adam.step();
    expect([...frozenKernel.value]).not.toEqual(frozenBefore);
    expect([...movingMean.value]).toEqual(meanBefore);
    expect(adam.iterations).toBe(3);
  });

  it('trains a real Sequential with its first layer frozen (Keras trainable=False in the config)', () => {
    const model = Sequential.fromSpec([
      { class_name: 'Dense', config: { units: 4, activation: 'tanh', trainable: false } },
      { class_name: 'BatchNormalization', config: {} },
      { class_name: 'Dense', config: { units: 1, activation: 'sigmoid' } },
    ]);
    model.build([3]);
    const x = { shape: [8, 3], data: Float32Array.from({ length: 24 }, () => 2 * random() - 1) };
    const y = { shape: [8, 1], data: Float32Array.from({ length: 8 }, (_, i) => i % 2) };
    const before = model.getWeights();
    const adam = new Adam(model.layers, { learningRate: 0.05 });
    const loss = new BinaryCrossentropy();
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      model.zeroGrad();
      const { value, dPred } = loss.valueAndGrad(y, model.forwardTrain(x));
      model.backward(dPred);
      adam.step();
      losses.push(value);
    }
    const after = model.getWeights();
    // Frozen Dense kernel and bias: bit-identical. Gamma, beta and the last Dense: trained.
    expect([0, 1].map((i) => [...after[i].data])).toEqual([0, 1].map((i) => [...before[i].data]));
    for (const i of [2, 3, 6, 7]) expect([...after[i].data]).not.toEqual([...before[i].data]);
    expect(losses[4]).toBeLessThan(losses[0]);
    // Slots exist for every weight marked trainable, the frozen layer's too (it may be unfrozen later):
    // (2 Dense + gamma, beta + 2 Dense) × (momentum, velocity); the moving statistics have none.
    expect(adam.getState().slots).toHaveLength(12);
  });

  it('rejects layers that are not built yet and a weight given twice', () => {
    expect(() => new SGD([layerOf('unbuilt', []), layerOf('activation', [])])).toThrow(
      'Nothing to optimize: 2 layers/weights hold no weights (build the model first)',
    );
    // A weightless layer among others is fine (Activation).
    expect(
      () => new SGD([layerOf('activation', []), layerOf('dense', [weight('kernel', [2])])]),
    ).not.toThrow();
    const w = weight('kernel', [2]);
    expect(() => new SGD([w, layerOf('again', [w])])).toThrow('Weight kernel [2] was given twice');
  });
});

describe('optimizer state', () => {
  it('getState / setState continue exactly where the original left off', () => {
    const a = weights('float64');
    const b = a.map((w) => ({
      ...w,
      value: Float64Array.from(w.value),
      grad: new Float64Array(w.grad.length),
    }));
    const grads = gradientSequence(a);
    const first = new Adam(a, { amsgrad: true, learningRate: 0.01 });
    const second = new Adam(b, { amsgrad: true, learningRate: 0.01 });
    const apply = (opt: Adam, ws: Weight[], step: number) => {
      ws.forEach((w, i) => {
        w.grad.set(grads[step][i]);
      });
      opt.step();
    };
    for (let s = 0; s < 3; s++) apply(first, a, s);
    b.forEach((w, i) => {
      w.value.set(a[i].value);
    });
    second.setState(first.getState());
    for (let s = 3; s < STEPS; s++) {
      apply(first, a, s);
      apply(second, b, s);
    }
    a.forEach((w, i) => {
      expect([...b[i].value]).toEqual([...w.value]);
    });
    expect(second.iterations).toBe(STEPS);
  });

  it('names what is wrong with a state that does not fit', () => {
    const adam = new Adam(weights());
    const state = adam.getState();
    expect(() => adam.setState({ ...state, slots: state.slots.slice(1) })).toThrow(
      'Adam state has 5 slot tensors but this optimizer needs 6 (3 weights × momentum, velocity)',
    );
    const wrong = state.slots.map((s, i) => (i === 2 ? { shape: [1], data: new Float32Array(1) } : s));
    expect(() => adam.setState({ ...state, slots: wrong })).toThrow(
      'Adam state slot 2 (w1/momentum) has 1 elements, expected 4 for shape [4]',
    );
  });
});

describe('argument checks', () => {
  it('rejects bad hyper-parameters with the value received', () => {
    expect(() => new SGD(weights(), { learningRate: -1 })).toThrow(
      'learningRate must be a finite number > 0, got -1',
    );
    expect(() => new SGD(weights(), { momentum: 1.5 })).toThrow('momentum must be in [0, 1], got 1.5');
    expect(() => new Adam(weights(), { beta2: 1 })).toThrow('beta2 must be in [0, 1), got 1');
    expect(() => new Adam(weights(), { weightDecay: Number.NaN })).toThrow(
      'weightDecay must be a finite number >= 0',
    );
    expect(() => new Adam([weight('a', [1], 'float32'), weight('b', [1], 'float64')])).toThrow(
      'Weights mix dtypes: b is float64, others float32',
    );
  });
});
