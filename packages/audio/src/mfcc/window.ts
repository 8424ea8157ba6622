/** Periodic Hann window, w[n] = 0.5 − 0.5·cos(2πn/L) for n = 0 … L − 1 (DESIGN §1 step 2). */
export function hannPeriodic(length: number): Float32Array {
  const w = new Float32Array(length);
  for (let n = 0; n < length; n++) w[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length);
  return w;
}
