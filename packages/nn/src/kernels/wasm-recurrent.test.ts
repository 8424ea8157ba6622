/**
 * The wasm fused LSTM steps against the pure-TS ones, and the wasm activations against float64 Math.
 */
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../test/assert-close.ts';
import { type RecurrentActivationName, recurrentActivation, sigmoid } from '../layers/rnn/activations.ts';
import { seededRandom } from '../layers/rnn/initializers.ts';
import { tsLstmBackwardStep, tsLstmForwardStep } from './ts-recurrent.ts';
import { createWasmKernels } from './wasm.ts';

const wasm = createWasmKernels()!;
const random = seededRandom(7);

/** A heap array and a plain copy holding the same random values in [−scale, scale). */
function pair(n: number, scale = 1): [Float32Array, Float32Array] {
  const a = wasm.allocateFloat32(n);
  for (let i = 0; i < n; i++) a[i] = (2 * random() - 1) * scale;
  return [a, Float32Array.from(a)];
}

/**
 * Float32 steps compute activations in float32 (wasm) or float64 then round (TS), and sum the recurrent
 * product in another order: values agree to a few ulp of the terms, which is 4e-6 absolute where
 * c = f ⊙ c_prev + i ⊙ g cancels (terms ~1).
 */
const STEP_TOLERANCE = { atol: 4e-6, rtol: 1e-5 };

const COMBOS: [RecurrentActivationName, RecurrentActivationName][] = [
  ['sigmoid', 'tanh'],
  ['hard_sigmoid', 'tanh'],
  ['sigmoid', 'relu'],
  ['hard_sigmoid', 'linear'],
  ['tanh', 'sigmoid'],
];

describe('wasm LSTM steps equal the TS steps', () => {
  for (const [recName, actName] of COMBOS) {
    it(`recurrent_activation ${recName}, activation ${actName}, batch 1..16, units 1..64`, () => {
      const rec = recurrentActivation(recName, 'recurrent_activation');
      const act = recurrentActivation(actName, 'activation');
      for (const [B, u] of [
        [1, 1],
        [1, 64],
        [2, 3],
        [3, 5],
        [16, 64],
        [5, 17],
        [4, 8],
      ]) {
        const T = 3;
        const s = 1; // a step inside the sequence: every array is addressed at an offset
        const [gates, gatesTs] = pair(T * B * 4 * u, 3);
        const [hs, hsTs] = pair((T + 1) * B * u);
        const [cs, csTs] = pair((T + 1) * B * u, 2);
        const [U, UTs] = pair(u * 4 * u, 0.5);
        const gOff = s * B * 4 * u;
        wasm.lstmForwardStep(
          B,
          u,
          gates,
          gOff,
          hs,
          s * B * u,
          (s + 1) * B * u,
          cs,
          s * B * u,
          (s + 1) * B * u,
          U,
          rec,
          act,
        );
        tsLstmForwardStep(
          B,
          u,
          gatesTs,
          gOff,
          hsTs,
          s * B * u,
          (s + 1) * B * u,
          csTs,
          s * B * u,
          (s + 1) * B * u,
          UTs,
          rec,
          act,
        );
        const what = `${recName}/${actName} B${B} u${u}`;
        assertClose(`${what} forward gates`, gates, gatesTs, STEP_TOLERANCE);
        assertClose(`${what} forward h`, hs, hsTs, STEP_TOLERANCE);
        assertClose(`${what} forward c`, cs, csTs, STEP_TOLERANCE);

        const [dGates, dGatesTs] = pair(T * B * 4 * u);
        const [dh, dhTs] = pair(B * u);
        const [dc, dcTs] = pair(B * u);
        wasm.lstmBackwardStep(
          B,
          u,
          dGates,
          gOff,
          gatesTs,
          gOff,
          csTs,
          s * B * u,
          (s + 1) * B * u,
          dh,
          dc,
          UTs,
          rec,
          act,
        );
        tsLstmBackwardStep(
          B,
          u,
          dGatesTs,
          gOff,
          gatesTs,
          gOff,
          csTs,
          s * B * u,
          (s + 1) * B * u,
          dhTs,
          dcTs,
          UTs,
          rec,
          act,
        );
        assertClose(`${what} backward dGates`, dGates, dGatesTs, STEP_TOLERANCE);
        assertClose(`${what} backward dh`, dh, dhTs, STEP_TOLERANCE);
        assertClose(`${what} backward dc`, dc, dcTs, STEP_TOLERANCE);
      }
    });
  }

  it('falls back to TS for arrays outside the heap (same result as the TS kernel, bit for bit)', () => {
    const rec = recurrentActivation('sigmoid', 'r');
    const act = recurrentActivation('tanh', 'a');
    const [B, u] = [2, 3];
    const [g1, g2] = pair(B * 4 * u);
    const h1 = new Float32Array(2 * B * u).fill(0.5);
    const c1 = new Float32Array(2 * B * u).fill(-0.25);
    const [U] = pair(u * 4 * u);
    const [h2, c2] = [h1.slice(), c1.slice()];
    wasm.lstmForwardStep(B, u, g1, 0, h1, 0, B * u, c1, 0, B * u, U, rec, act);
    tsLstmForwardStep(B, u, g2, 0, h2, 0, B * u, c2, 0, B * u, U, rec, act);
    expect(h1).toEqual(h2);
    expect(c1).toEqual(c2);
  });

  it('refuses offsets beyond the arrays', () => {
    const rec = recurrentActivation('sigmoid', 'r');
    const [g] = pair(4 * 4);
    const [h] = pair(8);
    const [c] = pair(8);
    const [U] = pair(4 * 16);
    expect(() => wasm.lstmForwardStep(1, 4, g, 0, h, 0, 6, c, 0, 4, U, rec, rec)).toThrow(
      'lstmForwardStep: h needs 4 elements at offset 6; the array has 8',
    );
  });
});

describe('wasm activations', () => {
  // With h_prev = 0 an LSTM step's gates come out as exactly rec(z) for i, f, o and act(z) for g: a way to
  // evaluate the kernels' activations on chosen z.
  const u = 64;
  const specials = [0, -0, 1e-30, -1e-30, 1e-8, 0.3, 0.6249, 0.6251, 5, 9.1, 20, 44, 87, 88.5, 89, 100, 1e30];
  const zs: number[] = [];
  for (const v of specials) zs.push(v, -v);
  for (let e = -8; e <= 2; e += 0.05) zs.push(10 ** e, -(10 ** e));
  zs.push(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN);
  const rows = Math.ceil(zs.length / (4 * u));

  function run(name: RecurrentActivationName): { z: Float32Array; y: Float32Array } {
    const f = recurrentActivation(name, 'activation');
    const gates = wasm.allocateFloat32(rows * 4 * u);
    gates.set(zs);
    const z = Float32Array.from(gates);
    const hs = wasm.allocateFloat32(2 * rows * u);
    const cs = wasm.allocateFloat32(2 * rows * u);
    const U = wasm.allocateFloat32(u * 4 * u);
    wasm.lstmForwardStep(rows, u, gates, 0, hs, 0, rows * u, cs, 0, rows * u, U, f, f);
    return { z, y: gates };
  }

  it.each([
    ['sigmoid', sigmoid],
    ['tanh', Math.tanh],
  ] as const)(
    '%s is within 4 ulp of float64 (absolute 1e-37 near 0) and saturates cleanly',
    (name, exact) => {
      const { z, y } = run(name);
      let worst = 0;
      for (let i = 0; i < zs.length; i++) {
        const want = exact(z[i]);
        if (Number.isNaN(want)) {
          expect(y[i]).toBeNaN();
          continue;
        }
        const err = Math.abs(y[i] - want);
        const ulps = err / (Math.abs(want) * 2 ** -23 + 1e-37 * 2 ** 23);
        worst = Math.max(worst, ulps);
        if (!(ulps <= 4))
          throw new Error(`${name}(${z[i]}) = ${y[i]}, float64 says ${want} (${ulps.toFixed(1)} ulp)`);
      }
      expect(worst).toBeGreaterThan(0); // it is an approximation, so the sweep must see some error
    },
  );

  it('relu, hard_sigmoid and linear equal their definitions', () => {
    for (const name of ['relu', 'hard_sigmoid', 'linear'] as const) {
      const f = recurrentActivation(name, 'activation');
      const { z, y } = run(name);
      for (let i = 0; i < zs.length; i++) {
        const want = Math.fround(f.fn(z[i]));
        if (!Number.isFinite(want)) expect(y[i]).toBe(want);
        // hard_sigmoid rounds 0.2·z before adding 0.5 (float32 throughout): one ulp of the 0.5 it adds.
        else
          expect(Math.abs(y[i] - want)).toBeLessThanOrEqual(
            2 ** -23 * (Math.abs(want) + (name === 'hard_sigmoid' ? 0.5 : 0)),
          );
      }
    }
  });
});
