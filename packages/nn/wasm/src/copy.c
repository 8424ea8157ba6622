/*
 * Data movement and reductions the layers do between GEMMs, vectorised: gathering a sequence into time
 * order, broadcasting a bias over rows, merging or splitting the two directions of a Bidirectional, and
 * summing rows for bias gradients. See src/kernels/kernels.ts for the contracts.
 */
#include "common.h"

/*
 * For o < outer, i < inner: dst[o·d_outer + i·d_inner + 0..n) = src[o·s_outer + i·s_inner + 0..n).
 * Strides are in elements and may be 0 (broadcast) or negative (reversed time).
 */
EXPORT("copy_blocks")
void copy_blocks(float *dst, int d_outer, int d_inner, const float *src, int s_outer, int s_inner, int outer,
                 int inner, int n) {
  for (int o = 0; o < outer; o++) {
    for (int i = 0; i < inner; i++) {
      float *d = dst + (ptrdiff_t)o * d_outer + (ptrdiff_t)i * d_inner;
      const float *s = src + (ptrdiff_t)o * s_outer + (ptrdiff_t)i * s_inner;
      int j = 0;
      for (; j + 8 <= n; j += 8) {
        wasm_v128_store(d + j, wasm_v128_load(s + j));
        wasm_v128_store(d + j + 4, wasm_v128_load(s + j + 4));
      }
      for (; j + 4 <= n; j += 4) wasm_v128_store(d + j, wasm_v128_load(s + j));
      for (; j < n; j++) d[j] = s[j];
    }
  }
}

/* dst[0..n) += Σ_r src[r·n + 0..n): the bias gradient of a layer that added the bias to `rows` rows. */
EXPORT("sum_rows")
void sum_rows(float *dst, const float *src, int rows, int n) {
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    for (int r = 0; r < rows; r++) {
      const float *row = src + (size_t)r * n + j;
      s0 = wasm_f32x4_add(s0, wasm_v128_load(row));
      s1 = wasm_f32x4_add(s1, wasm_v128_load(row + 4));
      s2 = wasm_f32x4_add(s2, wasm_v128_load(row + 8));
      s3 = wasm_f32x4_add(s3, wasm_v128_load(row + 12));
    }
    wasm_v128_store(dst + j, wasm_f32x4_add(wasm_v128_load(dst + j), s0));
    wasm_v128_store(dst + j + 4, wasm_f32x4_add(wasm_v128_load(dst + j + 4), s1));
    wasm_v128_store(dst + j + 8, wasm_f32x4_add(wasm_v128_load(dst + j + 8), s2));
    wasm_v128_store(dst + j + 12, wasm_f32x4_add(wasm_v128_load(dst + j + 12), s3));
  }
  for (; j + 4 <= n; j += 4) {
    v128_t s = wasm_f32x4_splat(0.0f);
    for (int r = 0; r < rows; r++) s = wasm_f32x4_add(s, wasm_v128_load(src + (size_t)r * n + j));
    wasm_v128_store(dst + j, wasm_f32x4_add(wasm_v128_load(dst + j), s));
  }
  for (; j < n; j++) {
    float s = 0.0f;
    for (int r = 0; r < rows; r++) s += src[(size_t)r * n + j];
    dst[j] += s;
  }
}

/* dst[0..n) = a[0..n) + b[0..n): the two directions' dInput of a Bidirectional. */
EXPORT("add")
void add(float *dst, const float *a, const float *b, int n) {
  int j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(dst + j, wasm_f32x4_add(wasm_v128_load(a + j), wasm_v128_load(b + j)));
  for (; j < n; j++) dst[j] = a[j] + b[j];
}
