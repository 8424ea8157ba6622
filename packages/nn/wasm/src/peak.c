/*
 * The machine's single-core SIMD multiply-add peak, measured by the bench (not used by any layer): 8
 * independent f32x4 multiply-add chains — acc_i += x_i · y, the micro-kernel's pattern — with the y
 * operands reloaded from a 64-float L1-resident block each iteration so nothing can be hoisted. 64 flops
 * per iteration (8 × 4 multiplies + 8 × 4 adds). Returns a value derived from every chain so none is
 * dead code.
 */
#include "common.h"

EXPORT("peak_multiply_add")
float peak_multiply_add(int iterations, const float *block) {
  v128_t x0 = wasm_v128_load(block + 64), x1 = wasm_v128_load(block + 68);
  v128_t x2 = wasm_v128_load(block + 72), x3 = wasm_v128_load(block + 76);
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
  for (int i = 0; i < iterations; i++) {
    const float *q = block + 8 * (i & 7);
    v128_t y0 = wasm_v128_load(q), y1 = wasm_v128_load(q + 4);
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(x0, y0));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(x1, y0));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(x2, y0));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(x3, y0));
    s4 = wasm_f32x4_add(s4, wasm_f32x4_mul(x0, y1));
    s5 = wasm_f32x4_add(s5, wasm_f32x4_mul(x1, y1));
    s6 = wasm_f32x4_add(s6, wasm_f32x4_mul(x2, y1));
    s7 = wasm_f32x4_add(s7, wasm_f32x4_mul(x3, y1));
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)),
                            wasm_f32x4_add(wasm_f32x4_add(s4, s5), wasm_f32x4_add(s6, s7)));
  return wasm_f32x4_extract_lane(s, 0);
}
