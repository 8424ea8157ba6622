/**
 * The wasm fused LSTM and GRU sequences against the pure-TS ones, and the wasm activations against float64
 * Math.
 */
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../test/assert-close.ts';
import { type RecurrentActivationName, recurrentActivation, sigmoid } from '../layers/rnn/activations.ts';
import { seededRandom } from '../layers/rnn/initializers.ts';
import { tsGruBackward, tsGruForward, tsLstmBackward, tsLstmForward } from './ts-recurrent.ts';
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

describe('wasm LSTM sequences equal the TS ones', () => {
  for (const [recName, actName] of COMBOS) {
    it(`recurrent_activation ${recName}, activation ${actName}, batch 1..17, units 1..64, 1..5 steps`, () => {
      const rec = recurrentActivation(recName, 'recurrent_activation');
      const act = recurrentActivation(actName, 'activation');
      for (const [B, u, T] of [
        [1, 1, 1],
        [1, 64, 5],
        [2, 3, 4],
        [3, 5, 2],
        [16, 64, 3],
        [17, 17, 2],
        [4, 8, 5],
      ]) {
        const [gates, gatesTs] = pair(T * B * 4 * u, 3);
        const [hs, hsTs] = pair((T + 1) * B * u);
        const [cs, csTs] = pair((T + 1) * B * u, 2);
        const [U, UTs] = pair(u * 4 * u, 0.5);
        wasm.lstmForward(B, T, u, gates, hs, cs, U, rec, act);
        tsLstmForward(B, T, u, gatesTs, hsTs, csTs, UTs, rec, act);
        const what = `${recName}/${actName} B${B} u${u} T${T}`;
        assertClose(`${what} forward gates`, gates, gatesTs, STEP_TOLERANCE);
        assertClose(`${what} forward h`, hs, hsTs, STEP_TOLERANCE);
        assertClose(`${what} forward c`, cs, csTs, STEP_TOLERANCE);

        for (const withSequence of [true, false]) {
          const [dGates, dGatesTs] = pair(T * B * 4 * u);
          const [dh, dhTs] = pair(B * u);
          const [dc, dcTs] = pair(B * u);
          const [dy, dyTs] = pair(B * T * u);
          wasm.lstmBackward(B, T, u, dGates, gatesTs, csTs, dh, dc, UTs, withSequence ? dy : null, rec, act);
          tsLstmBackward(
            B,
            T,
            u,
            dGatesTs,
            gatesTs,
            csTs,
            dhTs,
            dcTs,
            UTs,
            withSequence ? dyTs : null,
            rec,
            act,
          );
          const where = `${what} backward${withSequence ? ' with dOutput' : ''}`;
          assertClose(`${where} dGates`, dGates, dGatesTs, STEP_TOLERANCE);
          assertClose(`${where} dh`, dh, dhTs, STEP_TOLERANCE);
          assertClose(`${where} dc`, dc, dcTs, STEP_TOLERANCE);
        }
      }
    });
  }

  it('groups rows by 4 per step: batches of 2, 6 and 33 equal each row run alone (sigmoid, tanh)', () => {
    // A step multiplies rows in groups of 4 and the rest one by one against packed U: every row must come
    // out exactly as a batch of 1 computes it (the same sums in the same order).
    const rec = recurrentActivation('sigmoid', 'recurrent_activation');
    const act = recurrentActivation('tanh', 'activation');
    const u = 32;
    const T = 3;
    for (const B of [2, 6, 33]) {
      const [gates] = pair(T * B * 4 * u, 3);
      const [U] = pair(u * 4 * u, 0.5);
      const x = Float32Array.from(gates);
      const hs = wasm.allocateFloat32((T + 1) * B * u);
      const cs = wasm.allocateFloat32((T + 1) * B * u);
      wasm.lstmForward(B, T, u, gates, hs, cs, U, rec, act);
      for (const b of [0, B - 1, B >> 1]) {
        const g1 = wasm.allocateFloat32(T * 4 * u);
        for (let s = 0; s < T; s++)
          g1.set(x.subarray((s * B + b) * 4 * u, (s * B + b + 1) * 4 * u), s * 4 * u);
        const h1 = wasm.allocateFloat32((T + 1) * u);
        const c1 = wasm.allocateFloat32((T + 1) * u);
        wasm.lstmForward(1, T, u, g1, h1, c1, U, rec, act);
        for (let s = 1; s <= T; s++) {
          expect(hs.subarray((s * B + b) * u, (s * B + b + 1) * u)).toEqual(h1.subarray(s * u, (s + 1) * u));
        }
      }
    }
  });

  it('falls back to TS for arrays outside the heap (same result as the TS kernel, bit for bit)', () => {
    const rec = recurrentActivation('sigmoid', 'r');
    const act = recurrentActivation('tanh', 'a');
    const [B, u, T] = [2, 3, 2];
    const [g1, g2] = pair(T * B * 4 * u);
    const h1 = new Float32Array((T + 1) * B * u).fill(0.5);
    const c1 = new Float32Array((T + 1) * B * u).fill(-0.25);
    const [U] = pair(u * 4 * u);
    const [h2, c2] = [h1.slice(), c1.slice()];
    wasm.lstmForward(B, T, u, g1, h1, c1, U, rec, act);
    tsLstmForward(B, T, u, g2, h2, c2, U, rec, act);
    expect(h1).toEqual(h2);
    expect(c1).toEqual(c2);
  });

  it('refuses arrays shorter than the shapes say', () => {
    const rec = recurrentActivation('sigmoid', 'r');
    const [g] = pair(2 * 4 * 4);
    const [h] = pair(8);
    const [c] = pair(12);
    const [U] = pair(4 * 16);
    expect(() => wasm.lstmForward(1, 2, 4, g, h, c, U, rec, rec)).toThrow(
      'lstmForward: h needs 12 elements at offset 0; the array has 8',
    );
  });
});

describe('wasm GRU sequences equal the TS ones', () => {
  for (const resetAfter of [true, false]) {
    for (const withBias of resetAfter ? [true, false] : [false]) {
      for (const [recName, actName] of COMBOS.slice(0, 3)) {
        it(`reset_after ${resetAfter}${resetAfter ? `, recurrent bias ${withBias}` : ''}, ${recName}/${actName}`, () => {
          const rec = recurrentActivation(recName, 'recurrent_activation');
          const act = recurrentActivation(actName, 'activation');
          for (const [B, u, T] of [
            [1, 1, 1],
            [1, 64, 4],
            [3, 5, 3],
            [16, 32, 2],
            [2, 7, 5],
          ]) {
            const what = `GRU reset_after ${resetAfter} ${recName}/${actName} B${B} u${u} T${T}`;
            const [gates, gatesTs] = pair(T * B * 3 * u, 2);
            const [hs, hsTs] = pair((T + 1) * B * u);
            const [extra, extraTs] = pair(T * B * u);
            const [scratch, scratchTs] = pair(B * 3 * u);
            const [U, UTs] = pair(u * 3 * u, 0.5);
            const [bias, biasTs] = pair(6 * u);
            wasm.gruForward(
              B,
              T,
              u,
              resetAfter,
              gates,
              hs,
              extra,
              scratch,
              U,
              withBias ? bias : null,
              3 * u,
              rec,
              act,
            );
            tsGruForward(
              B,
              T,
              u,
              resetAfter,
              gatesTs,
              hsTs,
              extraTs,
              scratchTs,
              UTs,
              withBias ? biasTs : null,
              3 * u,
              rec,
              act,
            );
            assertClose(`${what} forward gates`, gates, gatesTs, STEP_TOLERANCE);
            assertClose(`${what} forward h`, hs, hsTs, STEP_TOLERANCE);
            assertClose(`${what} forward extra`, extra, extraTs, STEP_TOLERANCE);

            for (const withSequence of [true, false]) {
              const [dGates, dGatesTs] = pair(T * B * 3 * u);
              const [dRec, dRecTs] = pair(T * B * 3 * u);
              const [dh, dhTs] = pair(B * u);
              const [dy, dyTs] = pair(B * T * u);
              const [s2, s2Ts] = pair(B * u);
              wasm.gruBackward(
                B,
                T,
                u,
                resetAfter,
                dGates,
                dRec,
                gatesTs,
                hsTs,
                extraTs,
                s2,
                dh,
                UTs,
                withSequence ? dy : null,
                rec,
                act,
              );
              tsGruBackward(
                B,
                T,
                u,
                resetAfter,
                dGatesTs,
                dRecTs,
                gatesTs,
                hsTs,
                extraTs,
                s2Ts,
                dhTs,
                UTs,
                withSequence ? dyTs : null,
                rec,
                act,
              );
              const where = `${what} backward${withSequence ? ' with dOutput' : ''}`;
              assertClose(`${where} dGates`, dGates, dGatesTs, STEP_TOLERANCE);
              assertClose(`${where} dRec`, dRec, dRecTs, STEP_TOLERANCE);
              assertClose(`${where} dh`, dh, dhTs, STEP_TOLERANCE);
            }
          }
        });
      }
    }
  }
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
    wasm.lstmForward(rows, 1, u, gates, hs, cs, U, f, f);
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
