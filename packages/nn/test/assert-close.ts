/** Parity tolerance of packages/nn (DESIGN §2): |a − b| ≤ atol + rtol·|b|. */
export const PARITY_TOLERANCE = { atol: 1e-5, rtol: 1e-4 } as const;

/**
 * Throws naming the first element that differs beyond the tolerance and how many do. NaN equals NaN only
 * where both sides are NaN.
 */
export function assertClose(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = PARITY_TOLERANCE.atol, rtol = PARITY_TOLERANCE.rtol }: { atol?: number; rtol?: number } = {},
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: ${actual.length} elements, expected ${expected.length}`);
  }
  let first = -1;
  let failures = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const ok = (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= atol + rtol * Math.abs(b);
    if (!ok && failures++ === 0) first = i;
  }
  if (failures > 0) {
    throw new Error(
      `${what}: element ${first} is ${actual[first]}, expected ${expected[first]} ` +
        `(atol ${atol}, rtol ${rtol}; ${failures} of ${expected.length} elements differ)`,
    );
  }
}
