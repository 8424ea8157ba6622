/**
 * Pure-TypeScript fused recurrent steps (see `Kernels` for the contracts and `layers/rnn/*-cell.ts` for the
 * math), generic over Float32Array and Float64Array: the fallback and the oracle of the wasm twins.
 */
import type { Kernels } from './kernels.ts';
import { tsGemm } from './ts-gemm.ts';

export const tsLstmForwardStep: Kernels['lstmForwardStep'] = (
  batch,
  u,
  g,
  gOff,
  h,
  hPrev,
  hNext,
  c,
  cPrev,
  cNext,
  U,
  rec,
  act,
) => {
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
};

/**
 * With dh = ∂L/∂h and dc = ∂L/∂c carried from step s+1:
 *   h = o ⊙ act(c)                 ⇒ do = dh ⊙ act(c),  dc += dh ⊙ o ⊙ act'(c)
 *   c = f ⊙ c_prev + i ⊙ g         ⇒ di = dc ⊙ g, df = dc ⊙ c_prev, dg = dc ⊙ i, dc_prev = dc ⊙ f
 *   gates = σ/act(z)               ⇒ dz = d(gate) ⊙ σ'/act'(gate)
 *   z = … + h_prev · U             ⇒ dh_prev = dz · Uᵀ
 */
export const tsLstmBackwardStep: Kernels['lstmBackwardStep'] = (
  batch,
  u,
  dGates,
  dgOff,
  gates,
  gOff,
  c,
  cPrev,
  cNext,
  dh,
  dc,
  U,
  rec,
  act,
) => {
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
};
