/**
 * Orthonormal DCT-II rows, SciPy's `dct(type=2, norm='ortho')` (DESIGN §1 step 6):
 * c[i] = s_i · Σ_m x[m]·cos(π·i·(m + 0.5)/M), s_0 = √(1/M), s_i = √(2/M). Returns [coefficients, M].
 */
export function dctMatrix(coefficients: number, inputs: number): Float64Array {
  const matrix = new Float64Array(coefficients * inputs);
  for (let i = 0; i < coefficients; i++) {
    const scale = Math.sqrt((i === 0 ? 1 : 2) / inputs);
    for (let m = 0; m < inputs; m++)
      matrix[i * inputs + m] = scale * Math.cos((Math.PI * i * (m + 0.5)) / inputs);
  }
  return matrix;
}
