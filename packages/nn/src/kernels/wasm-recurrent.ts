/**
 * The wasm backend's fused recurrent sequences (LSTM and GRU, forward and backward): argument checks, the
 * TS fallback for arrays outside the heap, and the call through the dispatch (exports or the worker's call
 * list). See `Kernels` for the contracts.
 */

import type { FloatArray } from '../tensor.ts';
import type { Kernels } from './kernels.ts';
import { tsGruBackward, tsGruForward, tsLstmBackward, tsLstmForward } from './ts-recurrent.ts';
import { fits } from './wasm-checks.ts';
import type { KernelDispatch } from './wasm-dispatch.ts';
import { activationCode } from './wasm-exports.ts';

type RecurrentKernels = Pick<Kernels, 'lstmForward' | 'lstmBackward' | 'gruForward' | 'gruBackward'>;

/** `address(a, off)`: byte address of a[off] when `a` is a float32 view of the heap, else −1. */
export function wasmRecurrentKernels(
  d: KernelDispatch,
  address: (a: FloatArray, off: number) => number,
): RecurrentKernels {
  const lstmForward: Kernels['lstmForward'] = (B, T, u, gates, h, c, U, rec, act) => {
    const pg = address(gates, 0);
    const ph = address(h, 0);
    const pc = address(c, 0);
    const pu = address(U, 0);
    if (pg < 0 || ph < 0 || pc < 0 || pu < 0) {
      d.flush();
      tsLstmForward(B, T, u, gates, h, c, U, rec, act);
      return;
    }
    fits('lstmForward', 'gates', gates, 0, T * B * 4 * u);
    fits('lstmForward', 'h', h, 0, (T + 1) * B * u);
    fits('lstmForward', 'c', c, 0, (T + 1) * B * u);
    fits('lstmForward', 'recurrentKernel', U, 0, u * 4 * u);
    d.target.lstm_forward(
      B,
      T,
      u,
      pg,
      ph,
      pc,
      pu,
      activationCode(rec),
      activationCode(act),
      d.space.scratch.byteOffset,
    );
  };

  const lstmBackward: Kernels['lstmBackward'] = (B, T, u, dGates, gates, c, dh, dc, U, dy, rec, act) => {
    const pdg = address(dGates, 0);
    const pg = address(gates, 0);
    const pc = address(c, 0);
    const pdh = address(dh, 0);
    const pdc = address(dc, 0);
    const pu = address(U, 0);
    const pdy = dy ? address(dy, 0) : 0;
    if (pdg < 0 || pg < 0 || pc < 0 || pdh < 0 || pdc < 0 || pu < 0 || pdy < 0) {
      d.flush();
      tsLstmBackward(B, T, u, dGates, gates, c, dh, dc, U, dy, rec, act);
      return;
    }
    fits('lstmBackward', 'dGates', dGates, 0, T * B * 4 * u);
    fits('lstmBackward', 'gates', gates, 0, T * B * 4 * u);
    fits('lstmBackward', 'c', c, 0, (T + 1) * B * u);
    fits('lstmBackward', 'dh', dh, 0, B * u);
    fits('lstmBackward', 'dc', dc, 0, B * u);
    fits('lstmBackward', 'recurrentKernel', U, 0, u * 4 * u);
    if (dy) fits('lstmBackward', 'dOutput', dy, 0, B * T * u);
    const pt = d.transposeSpace(u * 4 * u);
    d.target.lstm_backward(
      B,
      T,
      u,
      pdg,
      pg,
      pc,
      pdh,
      pdc,
      pu,
      pdy,
      activationCode(rec),
      activationCode(act),
      d.space.scratch.byteOffset,
      pt,
    );
  };

  const gruForward: Kernels['gruForward'] = (
    B,
    T,
    u,
    resetAfter,
    gates,
    h,
    extra,
    scr,
    U,
    bRec,
    bOff,
    rec,
    act,
  ) => {
    const pg = address(gates, 0);
    const ph = address(h, 0);
    const pe = address(extra, 0);
    const ps = address(scr, 0);
    const pu = address(U, 0);
    const pb = bRec ? address(bRec, bOff) : 0;
    if (pg < 0 || ph < 0 || pe < 0 || ps < 0 || pu < 0 || pb < 0) {
      d.flush();
      tsGruForward(B, T, u, resetAfter, gates, h, extra, scr, U, bRec, bOff, rec, act);
      return;
    }
    fits('gruForward', 'gates', gates, 0, T * B * 3 * u);
    fits('gruForward', 'h', h, 0, (T + 1) * B * u);
    fits('gruForward', 'extra', extra, 0, T * B * u);
    fits('gruForward', 'scratch', scr, 0, B * (resetAfter ? 3 * u : u));
    fits('gruForward', 'recurrentKernel', U, 0, u * 3 * u);
    if (bRec) fits('gruForward', 'recurrentBias', bRec, bOff, 3 * u);
    d.target.gru_forward(
      B,
      T,
      u,
      +resetAfter,
      pg,
      ph,
      pe,
      ps,
      pu,
      resetAfter ? pb : 0,
      activationCode(rec),
      activationCode(act),
      d.space.scratch.byteOffset,
    );
  };

  const gruBackward: Kernels['gruBackward'] = (
    B,
    T,
    u,
    resetAfter,
    dGates,
    dRec,
    gates,
    h,
    extra,
    scr,
    dh,
    U,
    dy,
    rec,
    act,
  ) => {
    const pdg = address(dGates, 0);
    const pdr = address(dRec, 0);
    const pg = address(gates, 0);
    const ph = address(h, 0);
    const pe = address(extra, 0);
    const ps = address(scr, 0);
    const pdh = address(dh, 0);
    const pu = address(U, 0);
    const pdy = dy ? address(dy, 0) : 0;
    if (pdg < 0 || pdr < 0 || pg < 0 || ph < 0 || pe < 0 || ps < 0 || pdh < 0 || pu < 0 || pdy < 0) {
      d.flush();
      tsGruBackward(B, T, u, resetAfter, dGates, dRec, gates, h, extra, scr, dh, U, dy, rec, act);
      return;
    }
    fits('gruBackward', 'dGates', dGates, 0, T * B * 3 * u);
    if (resetAfter) fits('gruBackward', 'dRec', dRec, 0, T * B * 3 * u);
    fits('gruBackward', 'gates', gates, 0, T * B * 3 * u);
    fits('gruBackward', 'h', h, 0, (T + 1) * B * u);
    fits('gruBackward', 'extra', extra, 0, T * B * u);
    fits('gruBackward', 'scratch', scr, 0, resetAfter ? 0 : B * u);
    fits('gruBackward', 'dh', dh, 0, B * u);
    fits('gruBackward', 'recurrentKernel', U, 0, u * 3 * u);
    if (dy) fits('gruBackward', 'dOutput', dy, 0, B * T * u);
    d.target.gru_backward(
      B,
      T,
      u,
      +resetAfter,
      pdg,
      pdr,
      pg,
      ph,
      pe,
      ps,
      pdh,
      pu,
      pdy,
      activationCode(rec),
      activationCode(act),
      d.space.scratch.byteOffset,
    );
  };

  return { lstmForward, lstmBackward, gruForward, gruBackward };
}
