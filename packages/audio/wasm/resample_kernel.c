/*
 * The exact polyphase resampling filter of src/resample.ts in WebAssembly SIMD (f32x4).
 *
 * With to/from = up/down in lowest terms, output k of a call sits at input position
 * (phase0 + k * down) / up (in units of input samples, relative to `in`): its taps start at
 * in[(phase0 + k * down) / up] (integer division) and its weights are row (phase0 + k * down) % up of
 * `table` ([up, taps], taps a multiple of 4, zero-padded). Outputs k, k + up, k + 2 * up, ... share one row
 * and start `down` inputs apart, so they are computed four at a time: one weight load for four sums.
 *
 * Every output is computed the same way wherever it falls (in a group of four or alone): four lanes
 * accumulate taps t = 4j + lane in order, then the lanes are added as (l0 + l1) + (l2 + l3). So the result
 * depends only on the output's own inputs and row, and a delayed input gives a delayed output bit for bit.
 *
 * The module imports its memory from JavaScript (which owns the layout: table, input, output), keeps no
 * static data and uses no stack (scripts/build-wasm.sh checks both).
 *
 * Build: packages/audio/scripts/build-wasm.sh (clang 14, -msimd128, no libc).
 */
#include <wasm_simd128.h>

static inline float lanes_sum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* out[0..count) from in[...] by table [up, taps]; see the file comment for which inputs each output reads. */
__attribute__((export_name("resample_exact")))
void resample_exact(float *out, const float *in, const float *table, int taps, int up, int down, int phase0,
                    int count) {
  int groups = up < count ? up : count;
  for (int r = 0; r < groups; r++) {
    int position = phase0 + r * down;
    const float *row = table + (position % up) * taps;
    const float *x0 = in + position / up;
    int k = r;
    for (; k + 3 * up < count; k += 4 * up) {
      const float *x1 = x0 + down;
      const float *x2 = x1 + down;
      const float *x3 = x2 + down;
      v128_t a0 = wasm_f32x4_splat(0.0f);
      v128_t a1 = a0;
      v128_t a2 = a0;
      v128_t a3 = a0;
      for (int t = 0; t < taps; t += 4) {
        v128_t w = wasm_v128_load(row + t);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(x0 + t), w));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(x1 + t), w));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(x2 + t), w));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(x3 + t), w));
      }
      out[k] = lanes_sum(a0);
      out[k + up] = lanes_sum(a1);
      out[k + 2 * up] = lanes_sum(a2);
      out[k + 3 * up] = lanes_sum(a3);
      x0 = x3 + down;
    }
    for (; k < count; k += up) {
      v128_t a0 = wasm_f32x4_splat(0.0f);
      for (int t = 0; t < taps; t += 4) {
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(x0 + t), wasm_v128_load(row + t)));
      }
      out[k] = lanes_sum(a0);
      x0 += down;
    }
  }
}
