/*
 * SGEMM for wasm SIMD128: C = alpha · op(A) · op(B) + beta · C, row-major, op(X) = X or Xᵀ.
 *
 * GotoBLAS/BLIS structure: the k dimension is cut into KC blocks and n into NC blocks; each (KC × NC) block
 * of op(B) is packed into NR-column panels (one panel of 8 columns × KC rows stays in L1 while it meets every
 * MR-row panel of A), and each (MC × KC) block of op(A) into MR-row panels (kept in L2). The micro-kernel
 * computes an MR × NR tile of C in registers. Packing also absorbs the transposes: the micro-kernel only
 * ever sees "MR values of A per p" and "NR contiguous values of B per p".
 *
 * When op(B) = B (not transposed) its rows are already contiguous, so for small m (the recurrent per-step
 * products, batch 1…16) the micro-kernel reads B in place with stride ldb instead of packing it: packing
 * would cost as much as the product itself there.
 *
 * All temporary storage comes from `scratch` (GEMM_SCRATCH_FLOATS floats, 16-byte aligned), owned by the
 * caller: nothing lives on the shadow stack and nothing is static, so several instances (threads) sharing
 * one memory can run at once, each with its own scratch.
 */
#include "common.h"

#define MR 4
#define NR 8
#define KC 256
#define MC 128
#define NC 1024
/* Up to this many rows of op(A), a non-transposed B is read in place instead of packed. */
#define DIRECT_B_MAX_M 16

/* Packed A block, packed B block, one packed tail panel of B, and one MR × NR tile for edges. */
#define SCRATCH_A (MC * KC)
#define SCRATCH_B (KC * NC)
#define SCRATCH_TAIL (KC * NR)
#define SCRATCH_TILE (MR * NR)
_Static_assert(SCRATCH_A + SCRATCH_B + SCRATCH_TAIL + SCRATCH_TILE == GEMM_SCRATCH_FLOATS_CONST,
               "common.h's GEMM_SCRATCH_FLOATS_CONST must match the blocking");
_Static_assert(SCRATCH_A == GEMM_SCRATCH_FREE_WHEN_DIRECT_B_OFFSET && SCRATCH_B == GEMM_SCRATCH_FREE_WHEN_DIRECT_B_FLOATS,
               "common.h's free region must be the packed-B block");

EXPORT("gemm_scratch_floats") int gemm_scratch_floats(void) {
  return SCRATCH_A + SCRATCH_B + SCRATCH_TAIL + SCRATCH_TILE;
}

/*
 * Packs rows [0, mc) × columns [0, kc) of op(A) (`a` points at its (0, 0) element) into MR-row panels:
 * ap[panel][p][r] = op(A)[panel·MR + r, p], rows past mc zero.
 */
static void pack_a(int trans, int mc, int kc, const float *a, int lda, float *restrict ap) {
  for (int i0 = 0; i0 < mc; i0 += MR) {
    int mr = min_int(MR, mc - i0);
    if (!trans && mr == MR) {
      const float *r0 = a + (size_t)i0 * lda;
      const float *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
      int p = 0;
      for (; p + 4 <= kc; p += 4) {
        v128_t x0 = wasm_v128_load(r0 + p), x1 = wasm_v128_load(r1 + p);
        v128_t x2 = wasm_v128_load(r2 + p), x3 = wasm_v128_load(r3 + p);
        transpose4(&x0, &x1, &x2, &x3);
        wasm_v128_store(ap, x0);
        wasm_v128_store(ap + 4, x1);
        wasm_v128_store(ap + 8, x2);
        wasm_v128_store(ap + 12, x3);
        ap += 16;
      }
      for (; p < kc; p++) {
        ap[0] = r0[p];
        ap[1] = r1[p];
        ap[2] = r2[p];
        ap[3] = r3[p];
        ap += 4;
      }
    } else if (trans && mr == MR) {
      const float *col = a + i0;
      for (int p = 0; p < kc; p++) {
        wasm_v128_store(ap, wasm_v128_load(col + (size_t)p * lda));
        ap += 4;
      }
    } else {
      for (int p = 0; p < kc; p++) {
        for (int r = 0; r < MR; r++) {
          int i = i0 + r;
          ap[r] = i < mc ? (trans ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]) : 0.0f;
        }
        ap += MR;
      }
    }
  }
}

/*
 * Packs rows [0, kc) × columns [j0, j0 + NR) of op(B) into one panel bp[p][c], columns past nc zero.
 * `b` points at op(B)'s (0, 0) element.
 */
static void pack_b_panel(int trans, int kc, int nc, int j0, const float *b, int ldb, float *restrict bp) {
  int nr = min_int(NR, nc - j0);
  if (!trans && nr == NR) {
    for (int p = 0; p < kc; p++) {
      const float *row = b + (size_t)p * ldb + j0;
      wasm_v128_store(bp, wasm_v128_load(row));
      wasm_v128_store(bp + 4, wasm_v128_load(row + 4));
      bp += NR;
    }
  } else if (trans && nr == NR) {
    /* op(B)[p, j] = b[j · ldb + p]: 4 × 4 transposes of 4 consecutive p from each of the 8 rows of b. */
    const float *c0 = b + (size_t)j0 * ldb;
    int p = 0;
    for (; p + 4 <= kc; p += 4) {
      for (int half = 0; half < 2; half++) {
        const float *q = c0 + (size_t)(4 * half) * ldb + p;
        v128_t x0 = wasm_v128_load(q), x1 = wasm_v128_load(q + ldb);
        v128_t x2 = wasm_v128_load(q + 2 * (size_t)ldb), x3 = wasm_v128_load(q + 3 * (size_t)ldb);
        transpose4(&x0, &x1, &x2, &x3);
        float *o = bp + 4 * half;
        wasm_v128_store(o, x0);
        wasm_v128_store(o + NR, x1);
        wasm_v128_store(o + 2 * NR, x2);
        wasm_v128_store(o + 3 * NR, x3);
      }
      bp += 4 * NR;
    }
    for (; p < kc; p++) {
      for (int c = 0; c < NR; c++) bp[c] = c0[(size_t)c * ldb + p];
      bp += NR;
    }
  } else {
    for (int p = 0; p < kc; p++) {
      for (int c = 0; c < NR; c++) {
        int j = j0 + c;
        bp[c] = j < nc ? (trans ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]) : 0.0f;
      }
      bp += NR;
    }
  }
}

/*
 * C[0..mr) × [0..nr) += alpha · Ap · Bp over kc steps: Ap is an MR-row packed panel, Bp holds NR values
 * per p at stride `bs` (NR when packed, ldb when read in place). Full tiles update C directly; edge tiles
 * go through `tile`.
 */
static void kernel_4x8(int kc, const float *restrict ap, const float *restrict bp, int bs, float alpha,
                       float *c, int ldc, int mr, int nr, float *restrict tile) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int p = 0; p < kc; p++) {
    v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
    v128_t a0 = wasm_v128_load32_splat(ap);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    v128_t a1 = wasm_v128_load32_splat(ap + 1);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    v128_t a2 = wasm_v128_load32_splat(ap + 2);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    v128_t a3 = wasm_v128_load32_splat(ap + 3);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
    ap += MR;
    bp += bs;
  }
  v128_t va = wasm_f32x4_splat(alpha);
  if (mr == MR && nr == NR) {
    float *r0 = c, *r1 = c + ldc, *r2 = r1 + ldc, *r3 = r2 + ldc;
    wasm_v128_store(r0, wasm_f32x4_add(wasm_v128_load(r0), wasm_f32x4_mul(va, c00)));
    wasm_v128_store(r0 + 4, wasm_f32x4_add(wasm_v128_load(r0 + 4), wasm_f32x4_mul(va, c01)));
    wasm_v128_store(r1, wasm_f32x4_add(wasm_v128_load(r1), wasm_f32x4_mul(va, c10)));
    wasm_v128_store(r1 + 4, wasm_f32x4_add(wasm_v128_load(r1 + 4), wasm_f32x4_mul(va, c11)));
    wasm_v128_store(r2, wasm_f32x4_add(wasm_v128_load(r2), wasm_f32x4_mul(va, c20)));
    wasm_v128_store(r2 + 4, wasm_f32x4_add(wasm_v128_load(r2 + 4), wasm_f32x4_mul(va, c21)));
    wasm_v128_store(r3, wasm_f32x4_add(wasm_v128_load(r3), wasm_f32x4_mul(va, c30)));
    wasm_v128_store(r3 + 4, wasm_f32x4_add(wasm_v128_load(r3 + 4), wasm_f32x4_mul(va, c31)));
    return;
  }
  wasm_v128_store(tile, c00);
  wasm_v128_store(tile + 4, c01);
  wasm_v128_store(tile + 8, c10);
  wasm_v128_store(tile + 12, c11);
  wasm_v128_store(tile + 16, c20);
  wasm_v128_store(tile + 20, c21);
  wasm_v128_store(tile + 24, c30);
  wasm_v128_store(tile + 28, c31);
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) c[(size_t)i * ldc + j] += alpha * tile[i * NR + j];
}

/*
 * One row of A times B read in place (m = 1, B not transposed): 32 columns at a time so 8 independent
 * accumulators hide the add latency, then 4 at a time, then single columns.
 */
static void gemv_row(int n, int k, float alpha, const float *a, int a_step, const float *b, int ldb,
                     float *c) {
  int j = 0;
  for (; j + 32 <= n; j += 32) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    const float *bp = b + j;
    for (int p = 0; p < k; p++) {
      v128_t av = wasm_v128_load32_splat(a + (size_t)p * a_step);
      const float *row = bp + (size_t)p * ldb;
      s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(av, wasm_v128_load(row)));
      s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(av, wasm_v128_load(row + 4)));
      s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(av, wasm_v128_load(row + 8)));
      s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(av, wasm_v128_load(row + 12)));
      s4 = wasm_f32x4_add(s4, wasm_f32x4_mul(av, wasm_v128_load(row + 16)));
      s5 = wasm_f32x4_add(s5, wasm_f32x4_mul(av, wasm_v128_load(row + 20)));
      s6 = wasm_f32x4_add(s6, wasm_f32x4_mul(av, wasm_v128_load(row + 24)));
      s7 = wasm_f32x4_add(s7, wasm_f32x4_mul(av, wasm_v128_load(row + 28)));
    }
    v128_t va = wasm_f32x4_splat(alpha);
    float *o = c + j;
    wasm_v128_store(o, wasm_f32x4_add(wasm_v128_load(o), wasm_f32x4_mul(va, s0)));
    wasm_v128_store(o + 4, wasm_f32x4_add(wasm_v128_load(o + 4), wasm_f32x4_mul(va, s1)));
    wasm_v128_store(o + 8, wasm_f32x4_add(wasm_v128_load(o + 8), wasm_f32x4_mul(va, s2)));
    wasm_v128_store(o + 12, wasm_f32x4_add(wasm_v128_load(o + 12), wasm_f32x4_mul(va, s3)));
    wasm_v128_store(o + 16, wasm_f32x4_add(wasm_v128_load(o + 16), wasm_f32x4_mul(va, s4)));
    wasm_v128_store(o + 20, wasm_f32x4_add(wasm_v128_load(o + 20), wasm_f32x4_mul(va, s5)));
    wasm_v128_store(o + 24, wasm_f32x4_add(wasm_v128_load(o + 24), wasm_f32x4_mul(va, s6)));
    wasm_v128_store(o + 28, wasm_f32x4_add(wasm_v128_load(o + 28), wasm_f32x4_mul(va, s7)));
  }
  for (; j + 4 <= n; j += 4) {
    v128_t s = wasm_f32x4_splat(0.0f);
    for (int p = 0; p < k; p++)
      s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load32_splat(a + (size_t)p * a_step),
                                           wasm_v128_load(b + (size_t)p * ldb + j)));
    float *o = c + j;
    wasm_v128_store(o, wasm_f32x4_add(wasm_v128_load(o), wasm_f32x4_mul(wasm_f32x4_splat(alpha), s)));
  }
  for (; j < n; j++) {
    float s = 0.0f;
    for (int p = 0; p < k; p++) s += a[(size_t)p * a_step] * b[(size_t)p * ldb + j];
    c[j] += alpha * s;
  }
}

/*
 * The batch-1 recurrent product again, with B packed once into 32-column panels stored one after another
 * (bp[panel][p][32]): each panel is then one contiguous stream instead of k rows ldb apart, which measured
 * ~8 % faster for the LSTM's 64 × 256 recurrent kernel. Only the n / 32 full panels are packed; the last
 * columns are read in place. `reverse` walks the panels last to first: a sequence alternates directions
 * so each step starts on the panels the previous one touched last, still in L1 (64 KiB of panels do not
 * fit a 48 KiB L1; ~10 % faster). Each panel's sums are the same either way.
 */
int gemv_packed_floats(int n, int k) { return (n / 32) * 32 * k; }

void gemv_pack(int n, int k, const float *b, int ldb, float *restrict bp) {
  for (int j = 0; j + 32 <= n; j += 32) {
    for (int p = 0; p < k; p++) {
      const float *row = b + (size_t)p * ldb + j;
      for (int q = 0; q < 32; q += 4) wasm_v128_store(bp + q, wasm_v128_load(row + q));
      bp += 32;
    }
  }
}

void gemv_packed(int n, int k, const float *a, const float *bp, const float *b, int ldb, float *c, int reverse) {
  int panels = n / 32, full = panels * 32;
  for (int q = 0; q < panels; q++) {
    int j = 32 * (reverse ? panels - 1 - q : q);
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    const float *row = bp + (size_t)j * k;
    for (int p = 0; p < k; p++, row += 32) {
      v128_t av = wasm_v128_load32_splat(a + p);
      s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(av, wasm_v128_load(row)));
      s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(av, wasm_v128_load(row + 4)));
      s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(av, wasm_v128_load(row + 8)));
      s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(av, wasm_v128_load(row + 12)));
      s4 = wasm_f32x4_add(s4, wasm_f32x4_mul(av, wasm_v128_load(row + 16)));
      s5 = wasm_f32x4_add(s5, wasm_f32x4_mul(av, wasm_v128_load(row + 20)));
      s6 = wasm_f32x4_add(s6, wasm_f32x4_mul(av, wasm_v128_load(row + 24)));
      s7 = wasm_f32x4_add(s7, wasm_f32x4_mul(av, wasm_v128_load(row + 28)));
    }
    float *o = c + j;
    wasm_v128_store(o, wasm_f32x4_add(wasm_v128_load(o), s0));
    wasm_v128_store(o + 4, wasm_f32x4_add(wasm_v128_load(o + 4), s1));
    wasm_v128_store(o + 8, wasm_f32x4_add(wasm_v128_load(o + 8), s2));
    wasm_v128_store(o + 12, wasm_f32x4_add(wasm_v128_load(o + 12), s3));
    wasm_v128_store(o + 16, wasm_f32x4_add(wasm_v128_load(o + 16), s4));
    wasm_v128_store(o + 20, wasm_f32x4_add(wasm_v128_load(o + 20), s5));
    wasm_v128_store(o + 24, wasm_f32x4_add(wasm_v128_load(o + 24), s6));
    wasm_v128_store(o + 28, wasm_f32x4_add(wasm_v128_load(o + 28), s7));
  }
  if (full < n) gemv_row(n - full, k, 1.0f, a, 1, b + full, ldb, c + full);
}

/* C[m, n] *= beta, with beta = 0 writing zeros (so NaN or Inf in C do not survive). */
static void scale_c(int m, int n, float beta, float *c, int ldc) {
  v128_t vb = wasm_f32x4_splat(beta);
  for (int i = 0; i < m; i++) {
    float *row = c + (size_t)i * ldc;
    int j = 0;
    if (beta == 0.0f) {
      for (; j + 4 <= n; j += 4) wasm_v128_store(row + j, wasm_f32x4_splat(0.0f));
      for (; j < n; j++) row[j] = 0.0f;
    } else {
      for (; j + 4 <= n; j += 4) wasm_v128_store(row + j, wasm_f32x4_mul(vb, wasm_v128_load(row + j)));
      for (; j < n; j++) row[j] *= beta;
    }
  }
}

/* The product itself, C += alpha · op(A) · op(B), with C already scaled by beta. */
void gemm_accumulate(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float *c, int ldc, float *scratch) {
  if (m == 0 || n == 0 || k == 0 || alpha == 0.0f) return;
  if (m == 1 && !trans_b) {
    gemv_row(n, k, alpha, a, trans_a ? lda : 1, b, ldb, c);
    return;
  }
  float *a_pack = scratch;
  float *b_pack = a_pack + SCRATCH_A;
  float *tail = b_pack + SCRATCH_B;
  float *tile = tail + SCRATCH_TAIL;
  int direct_b = !trans_b && m <= DIRECT_B_MAX_M;
  for (int jc = 0; jc < n; jc += NC) {
    int nc = min_int(NC, n - jc);
    int full_panels = direct_b ? nc / NR : 0;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = min_int(KC, k - pc);
      const float *b_block = trans_b ? b + (size_t)jc * ldb + pc : b + (size_t)pc * ldb + jc;
      if (direct_b) {
        if (full_panels * NR < nc) pack_b_panel(trans_b, kc, nc, full_panels * NR, b_block, ldb, tail);
      } else {
        for (int jr = 0; jr < nc; jr += NR) pack_b_panel(trans_b, kc, nc, jr, b_block, ldb, b_pack + jr * kc);
      }
      for (int ic = 0; ic < m; ic += MC) {
        int mc = min_int(MC, m - ic);
        const float *a_block = trans_a ? a + (size_t)pc * lda + ic : a + (size_t)ic * lda + pc;
        pack_a(trans_a, mc, kc, a_block, lda, a_pack);
        for (int jr = 0; jr < nc; jr += NR) {
          int nr = min_int(NR, nc - jr);
          const float *panel;
          int bs;
          if (!direct_b) {
            panel = b_pack + jr * kc;
            bs = NR;
          } else if (jr / NR < full_panels) {
            panel = b_block + jr;
            bs = ldb;
          } else {
            panel = tail;
            bs = NR;
          }
          float *c_col = c + (size_t)ic * ldc + jc + jr;
          for (int ir = 0; ir < mc; ir += MR) {
            kernel_4x8(kc, a_pack + ir * kc, panel, bs, alpha, c_col + (size_t)ir * ldc, ldc,
                       min_int(MR, mc - ir), nr, tile);
          }
        }
      }
    }
  }
}

EXPORT("gemm")
void gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
          int ldb, float beta, float *c, int ldc, float *scratch) {
  if (beta != 1.0f) scale_c(m, n, beta, c, ldc);
  gemm_accumulate(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, c, ldc, scratch);
}
