/*
 * Fused Keras LSTM time steps (gate order i, f, c, o), the wasm twins of the pure-TS kernels in
 * src/kernels/ts-recurrent.ts — see that file and src/layers/rnn/lstm-cell.ts for the math. One call does
 * the step's recurrent GEMM, the activations and the state update, so nothing crosses the JS boundary
 * per element. The elementwise part is one pass over the units (four gates, c and h per vector), written
 * once as a macro and instantiated for Keras' default activations (sigmoid, tanh), tfjs' (hard_sigmoid,
 * tanh) and, testing the codes per vector, any other pair.
 */
#include "activations.h"

#define SPLAT_LANE0(fn, x) wasm_f32x4_extract_lane(fn(wasm_f32x4_splat(x)), 0)

/* The elementwise forward of one row: g [4u] in place, c_next and h_next [u]. */
#define LSTM_FORWARD_ROW(REC, ACT)                                                           \
  do {                                                                                       \
    int j = 0;                                                                               \
    for (; j + 4 <= u; j += 4) {                                                             \
      v128_t i = REC(wasm_v128_load(g + j));                                                 \
      v128_t f = REC(wasm_v128_load(g + u + j));                                             \
      v128_t gg = ACT(wasm_v128_load(g + 2 * u + j));                                        \
      v128_t o = REC(wasm_v128_load(g + 3 * u + j));                                         \
      wasm_v128_store(g + j, i);                                                             \
      wasm_v128_store(g + u + j, f);                                                         \
      wasm_v128_store(g + 2 * u + j, gg);                                                    \
      wasm_v128_store(g + 3 * u + j, o);                                                     \
      v128_t c = wasm_f32x4_add(wasm_f32x4_mul(f, wasm_v128_load(cp + j)), wasm_f32x4_mul(i, gg)); \
      wasm_v128_store(cn + j, c);                                                            \
      wasm_v128_store(hn + j, wasm_f32x4_mul(o, ACT(c)));                                    \
    }                                                                                        \
    for (; j < u; j++) {                                                                     \
      float i = SPLAT_LANE0(REC, g[j]), f = SPLAT_LANE0(REC, g[u + j]);                      \
      float gg = SPLAT_LANE0(ACT, g[2 * u + j]), o = SPLAT_LANE0(REC, g[3 * u + j]);         \
      g[j] = i;                                                                              \
      g[u + j] = f;                                                                          \
      g[2 * u + j] = gg;                                                                     \
      g[3 * u + j] = o;                                                                      \
      float c = f * cp[j] + i * gg;                                                          \
      cn[j] = c;                                                                             \
      hn[j] = o * SPLAT_LANE0(ACT, c);                                                       \
    }                                                                                        \
  } while (0)

#define REC_CODE(x) v_act(rec, x)
#define ACT_CODE(x) v_act(act, x)

/*
 * gates [B, 4u]: in x·kernel + bias, out the activated i, f, g, o (saved for backward).
 * z = gates + h_prev · U;  c_next = f ⊙ c_prev + i ⊙ g;  h_next = o ⊙ act(c_next).
 * h_prev, c_prev, h_next, c_next are [B, u]; U is [u, 4u].
 */
static void lstm_forward_step(int batch, int u, float *gates, const float *h_prev, const float *c_prev,
                       float *h_next, float *c_next, const float *U, const float *u_packed, int reverse,
                       int rec, int act, float *scratch) {
  int g4 = 4 * u;
  /*
   * Rows in groups of 4 (GEMM's micro-kernel height: it reads U in place and fills whole register
   * tiles), the rest one by one against the packed U. Every element is the same sum in the same order
   * either way; what the grouping avoids is GEMM's edge tiles (a batch of 2 or 3 ran slower than 4) and
   * its packing of U at every step for a batch above 16.
   */
  int b4 = u_packed ? batch / 4 * 4 : batch;
  for (int b = 0; b < b4; b += 4) {
    int rows = min_int(4, b4 - b);
    gemm_accumulate(0, 0, rows, g4, u, 1.0f, h_prev + (size_t)b * u, u, U, g4, gates + (size_t)b * g4, g4,
                    scratch);
  }
  for (int b = b4; b < batch; b++)
    gemv_packed(g4, u, h_prev + (size_t)b * u, u_packed, U, g4, gates + (size_t)b * g4, reverse);
  for (int b = 0; b < batch; b++) {
    float *g = gates + (size_t)b * g4;
    const float *cp = c_prev + (size_t)b * u;
    float *cn = c_next + (size_t)b * u;
    float *hn = h_next + (size_t)b * u;
    if (rec == ACT_SIGMOID && act == ACT_TANH)
      LSTM_FORWARD_ROW(v_sigmoid, v_tanh);
    else if (rec == ACT_HARD_SIGMOID && act == ACT_TANH)
      LSTM_FORWARD_ROW(v_hard_sigmoid, v_tanh);
    else
      LSTM_FORWARD_ROW(REC_CODE, ACT_CODE);
  }
}

/* The elementwise backward of one row; D_REC / D_ACT are the derivatives from the output. */
#define LSTM_BACKWARD_ROW(ACT, D_REC, D_ACT)                                                  \
  do {                                                                                        \
    int j = 0;                                                                                \
    for (; j + 4 <= u; j += 4) {                                                              \
      v128_t i = wasm_v128_load(g + j), f = wasm_v128_load(g + u + j);                        \
      v128_t gg = wasm_v128_load(g + 2 * u + j), o = wasm_v128_load(g + 3 * u + j);           \
      v128_t tc = ACT(wasm_v128_load(cn + j));                                                \
      v128_t dhv = wasm_v128_load(dhb + j);                                                   \
      v128_t dck = wasm_f32x4_add(wasm_v128_load(dcb + j), wasm_f32x4_mul(wasm_f32x4_mul(dhv, o), D_ACT(tc))); \
      wasm_v128_store(dg + j, wasm_f32x4_mul(wasm_f32x4_mul(dck, gg), D_REC(i)));             \
      wasm_v128_store(dg + u + j, wasm_f32x4_mul(wasm_f32x4_mul(dck, wasm_v128_load(cp + j)), D_REC(f))); \
      wasm_v128_store(dg + 2 * u + j, wasm_f32x4_mul(wasm_f32x4_mul(dck, i), D_ACT(gg)));     \
      wasm_v128_store(dg + 3 * u + j, wasm_f32x4_mul(wasm_f32x4_mul(dhv, tc), D_REC(o)));     \
      wasm_v128_store(dcb + j, wasm_f32x4_mul(dck, f));                                       \
    }                                                                                         \
    for (; j < u; j++) {                                                                      \
      float i = g[j], f = g[u + j], gg = g[2 * u + j], o = g[3 * u + j];                      \
      float tc = SPLAT_LANE0(ACT, cn[j]);                                                     \
      float dhv = dhb[j];                                                                     \
      float dck = dcb[j] + dhv * o * SPLAT_LANE0(D_ACT, tc);                                  \
      dg[j] = dck * gg * SPLAT_LANE0(D_REC, i);                                               \
      dg[u + j] = dck * cp[j] * SPLAT_LANE0(D_REC, f);                                        \
      dg[2 * u + j] = dck * i * SPLAT_LANE0(D_ACT, gg);                                       \
      dg[3 * u + j] = dhv * tc * SPLAT_LANE0(D_REC, o);                                       \
      dcb[j] = dck * f;                                                                       \
    }                                                                                         \
  } while (0)

#define D_REC_CODE(y) v_act_derivative(rec, y)
#define D_ACT_CODE(y) v_act_derivative(act, y)

/*
 * With dh = ∂L/∂h_next and dc = ∂L/∂c_next on entry (both [B, u]):
 *   dc += dh ⊙ o ⊙ act'(act(c_next))
 *   d_zi = dc ⊙ g ⊙ rec'(i), d_zf = dc ⊙ c_prev ⊙ rec'(f), d_zg = dc ⊙ i ⊙ act'(g), d_zo = dh ⊙ act(c_next) ⊙ rec'(o)
 *   dc_prev = dc ⊙ f,  dh_prev = d_z · Uᵀ
 * writes d_z to d_gates [B, 4u] and leaves ∂L/∂h_prev in dh, ∂L/∂c_prev in dc.
 */
static void lstm_backward_step(int batch, int u, float *d_gates, const float *gates, const float *c_prev,
                               const float *c_next, float *dh, float *dc, const float *U, const float *ut,
                               int rec, int act, float *scratch) {
  int g4 = 4 * u;
  for (int b = 0; b < batch; b++) {
    const float *g = gates + (size_t)b * g4;
    float *dg = d_gates + (size_t)b * g4;
    const float *cp = c_prev + (size_t)b * u;
    const float *cn = c_next + (size_t)b * u;
    float *dhb = dh + (size_t)b * u;
    float *dcb = dc + (size_t)b * u;
    if (rec == ACT_SIGMOID && act == ACT_TANH)
      LSTM_BACKWARD_ROW(v_tanh, v_sigmoid_derivative, v_tanh_derivative);
    else
      LSTM_BACKWARD_ROW(ACT_CODE, D_REC_CODE, D_ACT_CODE);
  }
  /* dh_prev = d_z · Uᵀ overwrites dh (its old value has been consumed above). */
  for (int i = 0; i < batch * u; i++) dh[i] = 0.0f;
  if (ut)
    gemm_accumulate(0, 0, batch, u, g4, 1.0f, d_gates, g4, ut, u, dh, u, scratch);
  else
    gemm_accumulate(0, 1, batch, u, g4, 1.0f, d_gates, g4, U, g4, dh, u, scratch);
}

/*
 * All T steps forward: gates [T, B, 4u] (x·kernel + bias in, activated gates out), hs and cs [T+1, B, u]
 * with the initial state in hs[0], cs[0].
 */
EXPORT("lstm_forward")
void lstm_forward(int batch, int time, int u, float *gates, float *hs, float *cs, const float *U, int rec,
                  int act, float *scratch) {
  size_t rows = (size_t)batch * u;
  /*
   * U packed once into contiguous panels for the rows a step multiplies one by one (batch 1, inference on
   * one window, and the rows beyond a multiple of 4), in the part of the scratch space that the 4-row
   * GEMMs (B read in place) leave alone.
   */
  const float *u_packed = 0;
  if (batch % 4 != 0 && time > 1 && gemv_packed_floats(4 * u, u) <= GEMM_SCRATCH_FREE_WHEN_DIRECT_B_FLOATS) {
    float *panels = scratch + GEMM_SCRATCH_FREE_WHEN_DIRECT_B_OFFSET;
    gemv_pack(4 * u, u, U, 4 * u, panels);
    u_packed = panels;
  }
  for (int s = 0; s < time; s++) {
    lstm_forward_step(batch, u, gates + s * rows * 4, hs + s * rows, cs + s * rows, hs + (s + 1) * rows,
                      cs + (s + 1) * rows, U, u_packed, s & 1, rec, act, scratch);
  }
}

/*
 * All T steps backward, s = T−1 … 0. dh, dc [B, u] carry ∂L/∂h, ∂L/∂c (their values on entry belong to
 * the last step); dy, when not null, is ∂L/∂output [B, T, u] in processing order, added to dh at each
 * step. d_gates [T, B, 4u] receives ∂L/∂z. `ut`, when not null, has room for Uᵀ [4u, u]: transposed once
 * here, the per-step dh = d_z · Uᵀ reads it in place instead of packing U at every step.
 */
EXPORT("lstm_backward")
void lstm_backward(int batch, int time, int u, float *d_gates, const float *gates, const float *cs, float *dh,
                   float *dc, const float *U, const float *dy, int rec, int act, float *scratch, float *ut) {
  int g4 = 4 * u;
  if (ut)
    for (int p = 0; p < u; p++)
      for (int q = 0; q < g4; q++) ut[(size_t)q * u + p] = U[(size_t)p * g4 + q];
  size_t rows = (size_t)batch * u;
  for (int s = time - 1; s >= 0; s--) {
    if (dy) {
      for (int b = 0; b < batch; b++) {
        float *d = dh + (size_t)b * u;
        const float *y = dy + ((size_t)b * time + s) * u;
        int j = 0;
        for (; j + 4 <= u; j += 4) wasm_v128_store(d + j, wasm_f32x4_add(wasm_v128_load(d + j), wasm_v128_load(y + j)));
        for (; j < u; j++) d[j] += y[j];
      }
    }
    lstm_backward_step(batch, u, d_gates + s * rows * 4, gates + s * rows * 4, cs + s * rows, cs + (s + 1) * rows,
                       dh, dc, U, ut, rec, act, scratch);
  }
}
