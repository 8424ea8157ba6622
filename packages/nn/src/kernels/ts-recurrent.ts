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

export const tsGruForward: Kernels['gruForward'] = (
  B,
  T,
  u,
  resetAfter,
  g,
  hs,
  extra,
  scratch,
  U,
  bRec,
  bOff,
  rec,
  act,
) => {
  const gu = 3 * u;
  for (let s = 0; s < T; s++) {
    const gOff = s * B * gu;
    const prev = s * B * u;
    const next = (s + 1) * B * u;
    const eOff = s * B * u;
    if (resetAfter) {
      if (bRec) for (let b = 0; b < B; b++) for (let j = 0; j < gu; j++) scratch[b * gu + j] = bRec[bOff + j];
      tsGemm(false, false, B, gu, u, 1, hs, prev, u, U, 0, gu, bRec ? 1 : 0, scratch, 0, gu);
      for (let b = 0; b < B; b++) {
        const row = gOff + b * gu;
        const sRow = b * gu;
        for (let j = 0; j < 2 * u; j++) g[row + j] += scratch[sRow + j];
        rec.apply(g, row, 2 * u);
        for (let j = 0; j < u; j++) {
          const rh = scratch[sRow + 2 * u + j];
          extra[eOff + b * u + j] = rh;
          g[row + 2 * u + j] += g[row + u + j] * rh;
        }
        act.apply(g, row + 2 * u, u);
      }
    } else {
      tsGemm(false, false, B, 2 * u, u, 1, hs, prev, u, U, 0, gu, 1, g, gOff, gu);
      for (let b = 0; b < B; b++) {
        const row = gOff + b * gu;
        rec.apply(g, row, 2 * u);
        for (let j = 0; j < u; j++) extra[eOff + b * u + j] = g[row + u + j] * hs[prev + b * u + j];
      }
      tsGemm(false, false, B, u, u, 1, extra, eOff, u, U, 2 * u, gu, 1, g, gOff + 2 * u, gu);
      for (let b = 0; b < B; b++) act.apply(g, gOff + b * gu + 2 * u, u);
    }
    for (let b = 0; b < B; b++) {
      const row = gOff + b * gu;
      for (let j = 0; j < u; j++) {
        const z = g[row + j];
        hs[next + b * u + j] = z * hs[prev + b * u + j] + (1 - z) * g[row + 2 * u + j];
      }
    }
  }
};

/**
 * h = z ⊙ h_prev + (1 − z) ⊙ hh   ⇒ dz = dh ⊙ (h_prev − hh), dhh = dh ⊙ (1 − z), dh_prev = dh ⊙ z + …
 * hh = act(ah)                    ⇒ dah = dhh ⊙ act'(hh)
 * reset_after: ah = xh + r ⊙ rh    ⇒ dr = dah ⊙ rh, d(rh) = dah ⊙ r → dRec; dh_prev += dRec · Uᵀ
 * else:        ah = xh + (r⊙h_prev)·U_h ⇒ d(r⊙h_prev) = dah · U_hᵀ, dr = that ⊙ h_prev,
 *                                          dh_prev += that ⊙ r + [dz_pre, dr_pre] · U_zrᵀ
 * z, r = σ(·)                     ⇒ dz_pre = dz ⊙ σ'(z), dr_pre = dr ⊙ σ'(r)
 */
export const tsGruBackward: Kernels['gruBackward'] = (
  B,
  T,
  u,
  resetAfter,
  dg,
  dRec,
  g,
  hs,
  extra,
  scratch,
  dh,
  U,
  dy,
  rec,
  act,
) => {
  const gu = 3 * u;
  for (let s = T - 1; s >= 0; s--) {
    if (dy) {
      for (let b = 0; b < B; b++) {
        const src = (b * T + s) * u;
        for (let j = 0; j < u; j++) dh[b * u + j] += dy[src + j];
      }
    }
    const gOff = s * B * gu;
    const prev = s * B * u;
    const eOff = s * B * u;
    for (let b = 0; b < B; b++) {
      const row = gOff + b * gu;
      for (let j = 0; j < u; j++) {
        const i = b * u + j;
        const z = g[row + j];
        const hh = g[row + 2 * u + j];
        const dhi = dh[i];
        dg[row + j] = dhi * (hs[prev + i] - hh) * rec.derivative(z);
        dg[row + 2 * u + j] = dhi * (1 - z) * act.derivative(hh);
        dh[i] = dhi * z; // the direct path h_prev → h; recurrent paths are added below
      }
    }
    if (resetAfter) {
      for (let b = 0; b < B; b++) {
        const row = gOff + b * gu;
        for (let j = 0; j < u; j++) {
          const r = g[row + u + j];
          const dah = dg[row + 2 * u + j];
          dg[row + u + j] = dah * extra[eOff + b * u + j] * rec.derivative(r);
          dRec[row + j] = dg[row + j];
          dRec[row + u + j] = dg[row + u + j];
          dRec[row + 2 * u + j] = dah * r;
        }
      }
      tsGemm(false, true, B, u, gu, 1, dRec, gOff, gu, U, 0, gu, 1, dh, 0, u);
    } else {
      const drh = scratch;
      tsGemm(false, true, B, u, u, 1, dg, gOff + 2 * u, gu, U, 2 * u, gu, 0, drh, 0, u);
      for (let b = 0; b < B; b++) {
        const row = gOff + b * gu;
        for (let j = 0; j < u; j++) {
          const i = b * u + j;
          const r = g[row + u + j];
          dg[row + u + j] = drh[i] * hs[prev + i] * rec.derivative(r);
          dh[i] += drh[i] * r;
        }
      }
      tsGemm(false, true, B, u, 2 * u, 1, dg, gOff, gu, U, 0, gu, 1, dh, 0, u);
    }
  }
};
