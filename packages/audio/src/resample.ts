/**
 * Band-limited sample-rate conversion by a Kaiser-windowed sinc, evaluated as a polyphase filter.
 *
 * Design (for a conversion between rates `from` and `to`, with F = min(from, to)):
 * - passband edge 0.4375·F (7 kHz when F = 16 kHz), stopband edge 0.5·F (8 kHz), cutoff halfway between;
 * - Kaiser window for 80 dB stopband attenuation (passband ripple ≈ 1e-4, i.e. 0.001 dB), so a tone below
 *   7 kHz keeps its amplitude within 0.1 dB and anything above 8 kHz is ≥ 60 dB down (DESIGN §1), with margin;
 * - zero phase: output sample n sits exactly at input position n·from/to, so nothing is delayed;
 * - samples beyond either end of the input count as zeros; the output has ceil(N·to/from) samples.
 *
 * With to/from = L/M in lowest terms, output n lies at input position n·M/L, whose fractional part is one of
 * L phases. For L ≤ 1024 every phase's taps are precomputed exactly; beyond that (rates with no small common
 * factor) a table of 1024 phases is interpolated linearly, which is accurate to ~1e-6. Tables are built once
 * per rate pair and cached.
 *
 * The exact filter runs in WebAssembly SIMD (resample-kernel.ts: float32 taps and sums, the same result as
 * the float64 JavaScript filter within float32 rounding, ≈ 10× faster); the interpolated one stays here.
 * Where float32 sums overflow (float samples near ±3.4e38), the output is recomputed in float64 so that it
 * is what the float64 filter gives, finite or not.
 */
import { filterExactWasm } from './resample-kernel.ts';

const PASSBAND = 0.4375;
const STOPBAND = 0.5;
const STOPBAND_DB = 80;
const MAX_EXACT_PHASES = 1024;
const MAX_CACHED_PLANS = 32;
export const MIN_RESAMPLE_RATE = 1000;
export const MAX_RESAMPLE_RATE = 384_000;

interface Plan {
  /** Output samples per `down` input samples (to / from = up / down in lowest terms). */
  up: number;
  down: number;
  /** Rows in `table`: `up` when exact, else MAX_EXACT_PHASES + 1 interpolated rows. */
  phases: number;
  exact: boolean;
  /** Taps per phase. */
  taps: number;
  /** Input samples before the output position covered by tap 0. */
  left: number;
  /** [phases, taps] filter weights; each row sums to 1 (unit DC gain). */
  table: Float64Array;
  /** Exact plans: `table` in float32 for the wasm kernel, each row zero-padded to `kernelTaps`. */
  kernelTable: Float32Array;
  /** `taps` rounded up to a multiple of 4 (the kernel's f32x4 lanes). */
  kernelTaps: number;
}

const plans = new Map<string, Plan>();

/** Converts `samples` from `fromRate` to `toRate` (integer Hz). Equal rates return an unchanged copy. */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array<ArrayBuffer> {
  return convert(samples, fromRate, toRate, true);
}

/**
 * `resample` with every filter in float64 JavaScript: the reference the wasm kernel is tested against
 * (not exported from the package).
 */
export function resampleFloat64(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
): Float32Array<ArrayBuffer> {
  return convert(samples, fromRate, toRate, false);
}

function convert(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  useKernel: boolean,
): Float32Array<ArrayBuffer> {
  checkRate('fromRate', fromRate);
  checkRate('toRate', toRate);
  if (fromRate === toRate) return samples.slice() as Float32Array<ArrayBuffer>;
  const plan = planFor(fromRate, toRate);
  const { up, down, taps, left, table, exact, phases } = plan;

  const outLength = Math.ceil((samples.length * up) / down);
  const out = new Float32Array(outLength);
  if (outLength === 0) return out;
  if (exact && useKernel) {
    filterExactWasm(out, samples, { up, down, left, taps: plan.kernelTaps, table: plan.kernelTable });
    if (allFinite(out)) return out;
  }
  // Zero padding on both sides makes every output a full dot product with no bounds checks.
  const padded = new Float32Array(samples.length + taps + 2);
  padded.set(samples, left);

  if (exact) {
    filterExact(out, padded, table, up, down, taps);
    return out;
  }
  let base = 0; // floor(n·down / up)
  let phase = 0; // (n·down) mod up
  const baseStep = Math.floor(down / up);
  const phaseStep = down % up;
  for (let n = 0; n < outLength; n++) {
    // padded[base + t] holds input sample base − left + t.
    const position = (phase * (phases - 1)) / up;
    const p = Math.floor(position);
    const a = position - p;
    const row0 = p * taps;
    const row1 = row0 + taps;
    let acc = 0;
    for (let t = 0; t < taps; t++) {
      acc += padded[base + t] * (table[row0 + t] + a * (table[row1 + t] - table[row0 + t]));
    }
    out[n] = acc;
    base += baseStep;
    phase += phaseStep;
    if (phase >= up) {
      phase -= up;
      base += 1;
    }
  }
  return out;
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/**
 * The exact polyphase filter. Outputs n, n + up, n + 2·up, … share one phase (one row of taps) and start
 * `down` input samples apart, so they are computed four at a time: each tap is loaded once for four
 * outputs, and the four sums are independent. Each output still adds its products in tap order, so the
 * result is the same as one output at a time.
 */
function filterExact(
  out: Float32Array,
  padded: Float32Array,
  table: Float64Array,
  up: number,
  down: number,
  taps: number,
): void {
  const outLength = out.length;
  for (let first = 0; first < Math.min(up, outLength); first++) {
    // padded[base + t] holds input sample base − left + t for output `first` (base = floor(first·down / up)).
    const row = ((first * down) % up) * taps;
    let base = Math.floor((first * down) / up);
    let n = first;
    for (; n + 3 * up < outLength; n += 4 * up) {
      const b1 = base + down;
      const b2 = b1 + down;
      const b3 = b2 + down;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let t = 0; t < taps; t++) {
        const w = table[row + t];
        a0 += padded[base + t] * w;
        a1 += padded[b1 + t] * w;
        a2 += padded[b2 + t] * w;
        a3 += padded[b3 + t] * w;
      }
      out[n] = a0;
      out[n + up] = a1;
      out[n + 2 * up] = a2;
      out[n + 3 * up] = a3;
      base = b3 + down;
    }
    for (; n < outLength; n += up) {
      let acc = 0;
      for (let t = 0; t < taps; t++) acc += padded[base + t] * table[row + t];
      out[n] = acc;
      base += down;
    }
  }
}

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate < MIN_RESAMPLE_RATE || rate > MAX_RESAMPLE_RATE) {
    throw new RangeError(
      `resample ${name} must be an integer from ${MIN_RESAMPLE_RATE} to ${MAX_RESAMPLE_RATE} Hz, got ${rate}`,
    );
  }
}

function planFor(fromRate: number, toRate: number): Plan {
  const key = `${fromRate}->${toRate}`;
  let plan = plans.get(key);
  if (!plan) {
    plan = buildPlan(fromRate, toRate);
    if (plans.size >= MAX_CACHED_PLANS) plans.delete(plans.keys().next().value as string);
    plans.set(key, plan);
  }
  return plan;
}

function buildPlan(fromRate: number, toRate: number): Plan {
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const lower = Math.min(fromRate, toRate);
  const cutoff = ((PASSBAND + STOPBAND) / 2) * lower; // Hz
  const transition = (STOPBAND - PASSBAND) * lower; // Hz
  // Kaiser's estimates: window length (N − 1) = (A − 7.95) / (2.285 · Δω), β = 0.1102 · (A − 8.7).
  const halfWidthSeconds = (STOPBAND_DB - 7.95) / (2.285 * 2 * Math.PI * transition) / 2;
  const beta = 0.1102 * (STOPBAND_DB - 8.7);

  // Everything below is in units of input samples.
  const fc = cutoff / fromRate;
  const halfWidth = halfWidthSeconds * fromRate;
  const left = Math.floor(halfWidth);
  const taps = 2 * left + 2;
  const exact = up <= MAX_EXACT_PHASES;
  const phases = exact ? up : MAX_EXACT_PHASES + 1;
  const table = new Float64Array(phases * taps);
  const i0Beta = besselI0(beta);
  for (let p = 0; p < phases; p++) {
    const frac = exact ? p / up : p / (phases - 1);
    let sum = 0;
    for (let t = 0; t < taps; t++) {
      const d = frac + left - t; // distance from the output position to this tap's input sample
      const u = d / halfWidth;
      if (Math.abs(u) >= 1) continue;
      const x = 2 * fc * d;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = 2 * fc * sinc * (besselI0(beta * Math.sqrt(1 - u * u)) / i0Beta);
      table[p * taps + t] = w;
      sum += w;
    }
    for (let t = 0; t < taps; t++) table[p * taps + t] /= sum;
  }
  const kernelTaps = Math.ceil(taps / 4) * 4;
  const kernelTable = new Float32Array(exact ? phases * kernelTaps : 0);
  if (exact) {
    for (let p = 0; p < phases; p++) {
      kernelTable.set(table.subarray(p * taps, (p + 1) * taps), p * kernelTaps);
    }
  }
  return { up, down, phases, exact, taps, left, table, kernelTable, kernelTaps };
}

/** Modified Bessel function of the first kind, order 0, by its power series (converges fast for x ≤ 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 60; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
