/*
 * The elementwise inference work of the layers between GEMMs: an activation over a block (Activation,
 * Dense, Conv1D) and BatchNormalization with its moving statistics. In JS these loops run over the shared
 * wasm memory, which V8 reads and writes several times slower than an ordinary array. See
 * src/kernels/kernels.ts for the contracts.
 */
#include "activations.h"

/* p[0..n) = f(p[0..n)) in place; f by its code (activations.h). */
EXPORT("activate")
void activate(int code, float *p, int n) { act_inplace(code, p, n); }

/* y[r·n + j] = (x[r·n + j] − mean[j]) · scale[j] + shift[j] for r < rows, j < n; y may be x. */
EXPORT("normalize_columns")
void normalize_columns(float *y, const float *x, const float *mean, const float *scale, const float *shift,
                       int rows, int n) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * n;
    float *yr = y + (size_t)r * n;
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + j), wasm_v128_load(mean + j));
      wasm_v128_store(yr + j, wasm_f32x4_add(wasm_f32x4_mul(d, wasm_v128_load(scale + j)), wasm_v128_load(shift + j)));
    }
    for (; j < n; j++) yr[j] = (xr[j] - mean[j]) * scale[j] + shift[j];
  }
}
