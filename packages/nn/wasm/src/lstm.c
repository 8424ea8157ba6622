/*
 * Fused Keras LSTM time steps (gate order i, f, c, o), the wasm twins of the pure-TS kernels in
 * src/kernels/ts-recurrent.ts — see that file and src/layers/rnn/lstm-cell.ts for the math. One call does
 * the step's recurrent GEMM, the activations and the state update, so nothing crosses the JS boundary
 * per element.
 */
#include "activations.h"

/*
 * gates [B, 4u]: in x·kernel + bias, out the activated i, f, g, o (saved for backward).
 * z = gates + h_prev · U;  c_next = f ⊙ c_prev + i ⊙ g;  h_next = o ⊙ act(c_next).
 * h_prev, c_prev, h_next, c_next are [B, u]; U is [u, 4u].
 */
EXPORT("lstm_forward_step")
void lstm_forward_step(int batch, int u, float *gates, const float *h_prev, const float *c_prev,
                       float *h_next, float *c_next, const float *U, int rec, int act, float *scratch) {
  int g4 = 4 * u;
  gemm_accumulate(0, 0, batch, g4, u, 1.0f, h_prev, u, U, g4, gates, g4, scratch);
  for (int b = 0; b < batch; b++) {
    float *g = gates + (size_t)b * g4;
    act_inplace(rec, g, 2 * u);
    act_inplace(act, g + 2 * u, u);
    act_inplace(rec, g + 3 * u, u);
    const float *cp = c_prev + (size_t)b * u;
    float *cn = c_next + (size_t)b * u;
    float *hn = h_next + (size_t)b * u;
    int j = 0;
    for (; j + 4 <= u; j += 4) {
      v128_t c = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(g + u + j), wasm_v128_load(cp + j)),
                                wasm_f32x4_mul(wasm_v128_load(g + j), wasm_v128_load(g + 2 * u + j)));
      wasm_v128_store(cn + j, c);
      wasm_v128_store(hn + j, wasm_f32x4_mul(wasm_v128_load(g + 3 * u + j), v_act(act, c)));
    }
    for (; j < u; j++) {
      float c = g[u + j] * cp[j] + g[j] * g[2 * u + j];
      cn[j] = c;
      hn[j] = g[3 * u + j] * s_act(act, c);
    }
  }
}

/*
 * With dh = ∂L/∂h_next and dc = ∂L/∂c_next on entry (both [B, u]):
 *   dc += dh ⊙ o ⊙ act'(act(c_next))
 *   d_zi = dc ⊙ g ⊙ rec'(i), d_zf = dc ⊙ c_prev ⊙ rec'(f), d_zg = dc ⊙ i ⊙ act'(g), d_zo = dh ⊙ act(c_next) ⊙ rec'(o)
 *   dc_prev = dc ⊙ f,  dh_prev = d_z · Uᵀ
 * writes d_z to d_gates [B, 4u] and leaves ∂L/∂h_prev in dh, ∂L/∂c_prev in dc.
 */
EXPORT("lstm_backward_step")
void lstm_backward_step(int batch, int u, float *d_gates, const float *gates, const float *c_prev,
                        const float *c_next, float *dh, float *dc, const float *U, int rec, int act,
                        float *scratch) {
  int g4 = 4 * u;
  for (int b = 0; b < batch; b++) {
    const float *g = gates + (size_t)b * g4;
    float *dg = d_gates + (size_t)b * g4;
    const float *cp = c_prev + (size_t)b * u;
    const float *cn = c_next + (size_t)b * u;
    float *dhb = dh + (size_t)b * u;
    float *dcb = dc + (size_t)b * u;
    int j = 0;
    for (; j + 4 <= u; j += 4) {
      v128_t i = wasm_v128_load(g + j), f = wasm_v128_load(g + u + j);
      v128_t gg = wasm_v128_load(g + 2 * u + j), o = wasm_v128_load(g + 3 * u + j);
      v128_t tc = v_act(act, wasm_v128_load(cn + j));
      v128_t dhv = wasm_v128_load(dhb + j);
      v128_t dck = wasm_f32x4_add(wasm_v128_load(dcb + j),
                                  wasm_f32x4_mul(wasm_f32x4_mul(dhv, o), v_act_derivative(act, tc)));
      wasm_v128_store(dg + j, wasm_f32x4_mul(wasm_f32x4_mul(dck, gg), v_act_derivative(rec, i)));
      wasm_v128_store(dg + u + j, wasm_f32x4_mul(wasm_f32x4_mul(dck, wasm_v128_load(cp + j)),
                                                 v_act_derivative(rec, f)));
      wasm_v128_store(dg + 2 * u + j, wasm_f32x4_mul(wasm_f32x4_mul(dck, i), v_act_derivative(act, gg)));
      wasm_v128_store(dg + 3 * u + j, wasm_f32x4_mul(wasm_f32x4_mul(dhv, tc), v_act_derivative(rec, o)));
      wasm_v128_store(dcb + j, wasm_f32x4_mul(dck, f));
    }
    for (; j < u; j++) {
      float i = g[j], f = g[u + j], gg = g[2 * u + j], o = g[3 * u + j];
      float tc = s_act(act, cn[j]);
      float dhv = dhb[j];
      float dck = dcb[j] + dhv * o * s_act_derivative(act, tc);
      dg[j] = dck * gg * s_act_derivative(rec, i);
      dg[u + j] = dck * cp[j] * s_act_derivative(rec, f);
      dg[2 * u + j] = dck * i * s_act_derivative(act, gg);
      dg[3 * u + j] = dhv * tc * s_act_derivative(rec, o);
      dcb[j] = dck * f;
    }
  }
  /* dh_prev = d_z · Uᵀ overwrites dh (its old value has been consumed above). */
  for (int b = 0; b < batch; b++)
    for (int j = 0; j < u; j++) dh[(size_t)b * u + j] = 0.0f;
  gemm_accumulate(0, 1, batch, u, g4, 1.0f, d_gates, g4, U, g4, dh, u, scratch);
}
