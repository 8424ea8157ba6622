/*
 * The machine's single-core SIMD multiply-add peak, measured by the bench (not used by any layer): 12
 * independent f32x4 chains s ← s · m + x, 96 flops per iteration (12 × 4 multiplies + 12 × 4 adds).
 * Twelve chains cover the multiply + add latency, and the loop needs only 14 vector registers, so V8 keeps
 * every chain in a register (the forms closer to the GEMM micro-kernel — loads plus 8 accumulators — got
 * their temporaries spilled by TurboFan and ran slower than the GEMM itself). `block` holds m (4 floats),
 * x (4 floats) and the chains' start (4 floats); m = 0.999, x = 0.001, start 1 keep every value at 1.
 */
#include "common.h"

#define CHAIN(s) s = wasm_f32x4_add(wasm_f32x4_mul(s, m), x)

EXPORT("peak_multiply_add")
float peak_multiply_add(int iterations, const float *block) {
  v128_t m = wasm_v128_load(block), x = wasm_v128_load(block + 4);
  v128_t s0 = wasm_v128_load(block + 8), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
  v128_t s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0;
  for (int i = 0; i < iterations; i++) {
    CHAIN(s0);
    CHAIN(s1);
    CHAIN(s2);
    CHAIN(s3);
    CHAIN(s4);
    CHAIN(s5);
    CHAIN(s6);
    CHAIN(s7);
    CHAIN(s8);
    CHAIN(s9);
    CHAIN(s10);
    CHAIN(s11);
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)),
                            wasm_f32x4_add(wasm_f32x4_add(s4, s5), wasm_f32x4_add(s6, s7)));
  s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(s8, s9), wasm_f32x4_add(s10, s11)));
  return wasm_f32x4_extract_lane(s, 0);
}
