/**
 * Pure-TypeScript fused recurrent steps (see `Kernels` for the contracts and `layers/rnn/*-cell.ts` for the
 * math), generic over Float32Array and Float64Array: the fallback and the oracle of the wasm twins.
 */
import type { RecurrentActivation } from '../layers/rnn/activations.ts';
import type { FloatArray } from '../tensor.ts';
import type { Kernels } from './kernels.ts';
import { tsGemm } from './ts-gemm.ts';

export const tsLstmForward: Kernels['lstmForward'] = (batch, time, u, gates, h, c, U, rec, act) => {
  const rows = batch * u;
  for (let s = 0; s < time; s++) {
    lstmForwardStep(
      batch,
      u,
      gates,
      s * 4 * rows,
      h,
      s * rows,
      (s + 1) * rows,
      c,
      s * rows,
      (s + 1) * rows,
      U,
      rec,
      act,
    );
  }
};

export const tsLstmBackward: Kernels['lstmBackward'] = (
  batch,
  time,
  u,
  dGates,
  gates,
  c,
  dh,
  dc,
  U,
  dy,
  rec,
  act,
) => {
  const rows = batch * u;
  for (let s = time - 1; s >= 0; s--) {
    if (dy) {
      for (let b = 0; b < batch; b++) {
        const src = (b * time + s) * u;
        for (let j = 0; j < u; j++) dh[b * u + j] += dy[src + j];
      }
    }
    lstmBackwardStep(
      batch,
      u,
      dGates,
      s * 4 * rows,
      gates,
      s * 4 * rows,
      c,
      s * rows,
      (s + 1) * rows,
      dh,
      dc,
      U,
      rec,
      act,
    );
  }
};

/** One step of `tsLstmForward`: gates at gOff, h/c read at prev and written at next. */
function lstmForwardStep(
  batch: number,
  u: number,
  g: FloatArray,
  gOff: number,
  h: FloatArray,
  hPrev: number,
  hNext: number,
  c: FloatArray,
  cPrev: number,
  cNext: number,
  U: FloatArray,
  rec: RecurrentActivation,
  act: RecurrentActivation,
): void {
  tsGemm(false, false, batch, 4 * u, u, 1, h, hPrev, u, U, 0, 4 * u, 1, g, gOff, 4 * u);
  for (let b = 0; b < batch; b++) {
    const row = gOff + b * 4 * u;
    rec.apply(g, row, 2 * u); // i, f
    act.apply(g, row + 2 * u, u); // g
    rec.apply(g, row + 3 * u, u); // o
    for (let j = 0; j < u; j++) {
      const cv = g[row + u + j] * c[cPrev + b * u + j] + g[row + j] * g[row + 2 * u + j];
      c[cNext + b * u + j] = cv;
      h[hNext + b * u + j] = g[row + 3 * u + j] * act.fn(cv);
    }
  }
}

/**
 * With dh = ∂L/∂h and dc = ∂L/∂c carried from step s+1:
 *   h = o ⊙ act(c)                 ⇒ do = dh ⊙ act(c),  dc += dh ⊙ o ⊙ act'(c)
 *   c = f ⊙ c_prev + i ⊙ g         ⇒ di = dc ⊙ g, df = dc ⊙ c_prev, dg = dc ⊙ i, dc_prev = dc ⊙ f
 *   gates = σ/act(z)               ⇒ dz = d(gate) ⊙ σ'/act'(gate)
 *   z = … + h_prev · U             ⇒ dh_prev = dz · Uᵀ
 */
function lstmBackwardStep(
  batch: number,
  u: number,
  dGates: FloatArray,
  dgOff: number,
  gates: FloatArray,
  gOff: number,
  c: FloatArray,
  cPrev: number,
  cNext: number,
  dh: FloatArray,
  dc: FloatArray,
  U: FloatArray,
  rec: RecurrentActivation,
  act: RecurrentActivation,
): void {
  for (let b = 0; b < batch; b++) {
    const row = gOff + b * 4 * u;
    const dRow = dgOff + b * 4 * u;
    for (let j = 0; j < u; j++) {
      const k = b * u + j;
      const i = gates[row + j];
      const f = gates[row + u + j];
      const gg = gates[row + 2 * u + j];
      const o = gates[row + 3 * u + j];
      const tc = act.fn(c[cNext + k]);
      const dhk = dh[k];
      const dck = dc[k] + dhk * o * act.derivative(tc);
      dGates[dRow + j] = dck * gg * rec.derivative(i);
      dGates[dRow + u + j] = dck * c[cPrev + k] * rec.derivative(f);
      dGates[dRow + 2 * u + j] = dck * i * act.derivative(gg);
      dGates[dRow + 3 * u + j] = dhk * tc * rec.derivative(o);
      dc[k] = dck * f;
    }
  }
  tsGemm(false, true, batch, u, 4 * u, 1, dGates, dgOff, 4 * u, U, 0, 4 * u, 0, dh, 0, u);
}
