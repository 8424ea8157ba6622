/*
 * Fused Keras GRU sequences (gate order z, r, h; reset_after true and false), the wasm twins of
 * src/kernels/ts-recurrent.ts — see src/layers/rnn/gru-cell.ts for the math. Buffers are the recurrent
 * workspace's: gates [T, B, 3u], hs [T+1, B, u], extra [T, B, u] (reset_after: rh = h_prev · U_h + b_rh;
 * else r ⊙ h_prev), scratch [B, 3u] (reset_after) or [B, u].
 */
#include "activations.h"

#define SPLAT_LANE0(fn, x) wasm_f32x4_extract_lane(fn(wasm_f32x4_splat(x)), 0)

EXPORT("gru_forward")
void gru_forward(int batch, int time, int u, int reset_after, float *gates, float *hs, float *extra,
                 float *scratch, const float *U, const float *b_rec, int rec, int act, float *gemm_scratch) {
  int g3 = 3 * u;
  size_t rows = (size_t)batch * u;
  for (int s = 0; s < time; s++) {
    float *g = gates + s * rows * 3;
    const float *hp = hs + s * rows;
    float *hn = hs + (s + 1) * rows;
    float *ex = extra + s * rows;
    if (reset_after) {
      /* scratch = h_prev · U + b_rec; z, r = rec(x-part + rec-part); hh = act(xh + r ⊙ rh). */
      for (int b = 0; b < batch; b++)
        for (int j = 0; j < g3; j++) scratch[(size_t)b * g3 + j] = b_rec ? b_rec[j] : 0.0f;
      gemm_accumulate(0, 0, batch, g3, u, 1.0f, hp, u, U, g3, scratch, g3, gemm_scratch);
      for (int b = 0; b < batch; b++) {
        float *gr = g + (size_t)b * g3;
        const float *sr = scratch + (size_t)b * g3;
        for (int j = 0; j < 2 * u; j++) gr[j] += sr[j];
        act_inplace(rec, gr, 2 * u);
        for (int j = 0; j < u; j++) {
          float rh = sr[2 * u + j];
          ex[(size_t)b * u + j] = rh;
          gr[2 * u + j] += gr[u + j] * rh;
        }
        act_inplace(act, gr + 2 * u, u);
      }
    } else {
      /* z, r = rec(x-part + h_prev · U_zr); hh = act(xh + (r ⊙ h_prev) · U_h). */
      gemm_accumulate(0, 0, batch, 2 * u, u, 1.0f, hp, u, U, g3, g, g3, gemm_scratch);
      for (int b = 0; b < batch; b++) {
        float *gr = g + (size_t)b * g3;
        act_inplace(rec, gr, 2 * u);
        for (int j = 0; j < u; j++) ex[(size_t)b * u + j] = gr[u + j] * hp[(size_t)b * u + j];
      }
      gemm_accumulate(0, 0, batch, u, u, 1.0f, ex, u, U + 2 * u, g3, g + 2 * u, g3, gemm_scratch);
      for (int b = 0; b < batch; b++) act_inplace(act, g + (size_t)b * g3 + 2 * u, u);
    }
    /* h = z ⊙ h_prev + (1 − z) ⊙ hh */
    for (int b = 0; b < batch; b++) {
      const float *gr = g + (size_t)b * g3;
      const float *hpb = hp + (size_t)b * u;
      float *hnb = hn + (size_t)b * u;
      int j = 0;
      for (; j + 4 <= u; j += 4) {
        v128_t z = wasm_v128_load(gr + j);
        v128_t hh = wasm_v128_load(gr + 2 * u + j);
        wasm_v128_store(hnb + j, wasm_f32x4_add(wasm_f32x4_mul(z, wasm_v128_load(hpb + j)),
                                                wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_splat(1.0f), z), hh)));
      }
      for (; j < u; j++) hnb[j] = gr[j] * hpb[j] + (1.0f - gr[j]) * gr[2 * u + j];
    }
  }
}

EXPORT("gru_backward")
void gru_backward(int batch, int time, int u, int reset_after, float *d_gates, float *d_rec, const float *gates,
                  const float *hs, const float *extra, float *scratch, float *dh, const float *U, const float *dy,
                  int rec, int act, float *gemm_scratch) {
  int g3 = 3 * u;
  size_t rows = (size_t)batch * u;
  for (int s = time - 1; s >= 0; s--) {
    if (dy) {
      for (int b = 0; b < batch; b++) {
        float *d = dh + (size_t)b * u;
        const float *y = dy + ((size_t)b * time + s) * u;
        for (int j = 0; j < u; j++) d[j] += y[j];
      }
    }
    const float *g = gates + s * rows * 3;
    float *dg = d_gates + s * rows * 3;
    const float *hp = hs + s * rows;
    const float *ex = extra + s * rows;
    /* h = z ⊙ h_prev + (1 − z) ⊙ hh ⇒ dz = dh ⊙ (h_prev − hh), dhh = dh ⊙ (1 − z), dh_prev = dh ⊙ z + … */
    for (int b = 0; b < batch; b++) {
      const float *gr = g + (size_t)b * g3;
      float *dgr = dg + (size_t)b * g3;
      for (int j = 0; j < u; j++) {
        size_t i = (size_t)b * u + j;
        float z = gr[j], hh = gr[2 * u + j], dhi = dh[i];
        dgr[j] = dhi * (hp[i] - hh) * s_act_derivative(rec, z);
        dgr[2 * u + j] = dhi * (1.0f - z) * s_act_derivative(act, hh);
        dh[i] = dhi * z;
      }
    }
    if (reset_after) {
      /* ah = xh + r ⊙ rh ⇒ dr = dah ⊙ rh; d(rh) = dah ⊙ r → dRec; dh_prev += dRec · Uᵀ */
      float *dr = d_rec + s * rows * 3;
      for (int b = 0; b < batch; b++) {
        const float *gr = g + (size_t)b * g3;
        float *dgr = dg + (size_t)b * g3;
        float *drr = dr + (size_t)b * g3;
        for (int j = 0; j < u; j++) {
          float r = gr[u + j], dah = dgr[2 * u + j];
          dgr[u + j] = dah * ex[(size_t)b * u + j] * s_act_derivative(rec, r);
          drr[j] = dgr[j];
          drr[u + j] = dgr[u + j];
          drr[2 * u + j] = dah * r;
        }
      }
      gemm_accumulate(0, 1, batch, u, g3, 1.0f, dr, g3, U, g3, dh, u, gemm_scratch);
    } else {
      /* d(r ⊙ h_prev) = dah · U_hᵀ; dr = that ⊙ h_prev; dh_prev += that ⊙ r + [dz, dr] · U_zrᵀ */
      for (size_t i = 0; i < rows; i++) scratch[i] = 0.0f;
      gemm_accumulate(0, 1, batch, u, u, 1.0f, dg + 2 * u, g3, U + 2 * u, g3, scratch, u, gemm_scratch);
      for (int b = 0; b < batch; b++) {
        const float *gr = g + (size_t)b * g3;
        float *dgr = dg + (size_t)b * g3;
        for (int j = 0; j < u; j++) {
          size_t i = (size_t)b * u + j;
          float r = gr[u + j];
          dgr[u + j] = scratch[i] * hp[i] * s_act_derivative(rec, r);
          dh[i] += scratch[i] * r;
        }
      }
      gemm_accumulate(0, 1, batch, u, 2 * u, 1.0f, dg, g3, U, g3, dh, u, gemm_scratch);
    }
  }
}
