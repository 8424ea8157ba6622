/*
 * Vectorised activations for the recurrent cells and layers, float32 accurate to a few ulp (the pure-TS
 * kernels compute in float64 and round; the parity suites allow 1e-4 relative / 1e-5 absolute).
 *
 * Codes (shared with src/kernels/wasm.ts): 0 linear, 1 relu, 2 sigmoid, 3 tanh, 4 hard_sigmoid.
 * Derivatives are functions of the activation's *output* y, as in src/layers/rnn/activations.ts:
 * tanh' = 1 − y², sigmoid' = y(1 − y), relu' = [y > 0], hard_sigmoid' = 0.2·[0 < y < 1], linear' = 1.
 */
#ifndef KWS_ACTIVATIONS_H
#define KWS_ACTIVATIONS_H

#include "common.h"

enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_SIGMOID = 2, ACT_TANH = 3, ACT_HARD_SIGMOID = 4 };

/*
 * e^x, Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two so n·ln2 is exact), a degree-5
 * polynomial for e^r, and 2^n built in the exponent bits. Arguments are clamped to [−87.3, 88.3] so the
 * result stays finite (e^88.3 ≈ 2.2e38) and 2^n a normal number; NaN propagates (pmin/pmax return their
 * first operand unless the comparison holds, and they are single instructions where min/max are not).
 * n is rounded by adding 1.5·2^23: the sum's low mantissa bits then hold n, which shifted left by 23 lands
 * in the exponent field (the magic number's own bits shift out).
 */
static inline v128_t v_exp(v128_t x) {
  const v128_t magic = wasm_f32x4_splat(12582912.0f);
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(-87.3f)), wasm_f32x4_splat(88.3f));
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), magic);
  v128_t n = wasm_f32x4_sub(t, magic);
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_add(r, wasm_f32x4_mul(n, wasm_f32x4_splat(2.12194440e-4f)));
  v128_t r2 = wasm_f32x4_mul(r, r);
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, r2), r), wasm_f32x4_splat(1.0f));
  v128_t scale = wasm_i32x4_add(wasm_i32x4_shl(t, 23), wasm_i32x4_splat(0x3f800000));
  return wasm_f32x4_mul(p, scale);
}

/* 1 / (1 + e^−x): e^−x saturates to 2.2e38 for x ≤ −88.3, giving ≈ 4.5e-39 instead of 0, and 1 for large x. */
static inline v128_t v_sigmoid(v128_t x) {
  v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_div(one, wasm_f32x4_add(one, v_exp(wasm_f32x4_neg(x))));
}

/*
 * tanh as x · P(x²) / Q(x²), P and Q of degree 4 with P(0) = Q(0) = 1 (so tanh(x) = x exactly for tiny x,
 * −0 and subnormals included), fitted to tanh(x)/x over [0, 9.05] by weighted least squares; relative error
 * of the rational itself 2.3e-8, evaluated in float32 within 3.2 ulp of float64 tanh (checked for every
 * float32 from 1e-6 to 12; scripts/fit_tanh.py fits and checks). |x| is clamped to 9, where tanh is within
 * an ulp of ±1: one exp-free
 * division instead of Cephes' exp, division and polynomial for both halves of the range. NaN propagates
 * (pmin/pmax return their first operand unless the comparison holds).
 */
static inline v128_t v_tanh(v128_t x) {
  x = wasm_f32x4_pmax(wasm_f32x4_pmin(x, wasm_f32x4_splat(9.0f)), wasm_f32x4_splat(-9.0f));
  v128_t t = wasm_f32x4_mul(x, x);
  v128_t p = wasm_f32x4_splat(1.333096034e-08f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, t), wasm_f32x4_splat(2.059755025e-05f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, t), wasm_f32x4_splat(3.495140467e-03f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, t), wasm_f32x4_splat(1.338073909e-01f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, t), wasm_f32x4_splat(1.0f));
  v128_t q = wasm_f32x4_splat(7.768487649e-07f);
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(3.284721752e-04f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(2.587555349e-02f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(4.671405852e-01f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(1.0f));
  return wasm_f32x4_div(wasm_f32x4_mul(x, p), q);
}

/* clip(0.2·x + 0.5, 0, 1), Keras 2's hard_sigmoid. */
static inline v128_t v_hard_sigmoid(v128_t x) {
  v128_t y = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(0.2f)), wasm_f32x4_splat(0.5f));
  return wasm_f32x4_pmin(wasm_f32x4_pmax(y, wasm_f32x4_splat(0.0f)), wasm_f32x4_splat(1.0f));
}

/* relu keeps NaN (as `if (a < 0) a = 0` does): pmax(x, 0) is x < 0 ? 0 : x. */
static inline v128_t v_relu(v128_t x) { return wasm_f32x4_pmax(x, wasm_f32x4_splat(0.0f)); }

static inline v128_t v_act(int code, v128_t x) {
  switch (code) {
    case ACT_RELU:
      return v_relu(x);
    case ACT_SIGMOID:
      return v_sigmoid(x);
    case ACT_TANH:
      return v_tanh(x);
    case ACT_HARD_SIGMOID:
      return v_hard_sigmoid(x);
    default:
      return x;
  }
}

static inline v128_t v_sigmoid_derivative(v128_t y) { return wasm_f32x4_mul(y, wasm_f32x4_sub(wasm_f32x4_splat(1.0f), y)); }
static inline v128_t v_tanh_derivative(v128_t y) { return wasm_f32x4_sub(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(y, y)); }

/* f'(x) from y = f(x). */
static inline v128_t v_act_derivative(int code, v128_t y) {
  v128_t one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
  switch (code) {
    case ACT_RELU:
      return wasm_v128_and(wasm_f32x4_gt(y, zero), one);
    case ACT_SIGMOID:
      return v_sigmoid_derivative(y);
    case ACT_TANH:
      return v_tanh_derivative(y);
    case ACT_HARD_SIGMOID:
      return wasm_v128_and(wasm_v128_and(wasm_f32x4_gt(y, zero), wasm_f32x4_lt(y, one)),
                           wasm_f32x4_splat(0.2f));
    default:
      return one;
  }
}

/* Scalar forms: the vector code on lane 0, so a tail element gets exactly what a full vector would. */
static inline float s_act(int code, float x) {
  return wasm_f32x4_extract_lane(v_act(code, wasm_f32x4_splat(x)), 0);
}
static inline float s_act_derivative(int code, float y) {
  return wasm_f32x4_extract_lane(v_act_derivative(code, wasm_f32x4_splat(y)), 0);
}

/* p[0..n) = f(p[0..n)) in place; one loop per activation so none tests the code per element. */
#define ACT_LOOP(fn)                                                      \
  do {                                                                    \
    int i = 0;                                                            \
    for (; i + 4 <= n; i += 4) wasm_v128_store(p + i, fn(wasm_v128_load(p + i))); \
    for (; i < n; i++) p[i] = wasm_f32x4_extract_lane(fn(wasm_f32x4_splat(p[i])), 0); \
  } while (0)
static inline void act_inplace(int code, float *p, int n) {
  switch (code) {
    case ACT_RELU:
      ACT_LOOP(v_relu);
      break;
    case ACT_SIGMOID:
      ACT_LOOP(v_sigmoid);
      break;
    case ACT_TANH:
      ACT_LOOP(v_tanh);
      break;
    case ACT_HARD_SIGMOID:
      ACT_LOOP(v_hard_sigmoid);
      break;
    default:
      break;
  }
}
#undef ACT_LOOP

#endif
