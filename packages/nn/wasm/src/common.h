/* Shared by every kernel source: SIMD intrinsics, the export attribute and small helpers. */
#ifndef KWS_COMMON_H
#define KWS_COMMON_H

#include <wasm_simd128.h>

typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;

#define EXPORT(name) __attribute__((export_name(name)))

static inline int min_int(int a, int b) { return a < b ? a : b; }
static inline int max_int(int a, int b) { return a > b ? a : b; }

/* In-register 4 × 4 transpose: rows x0..x3 become columns. */
static inline void transpose4(v128_t *x0, v128_t *x1, v128_t *x2, v128_t *x3) {
  v128_t t0 = wasm_i32x4_shuffle(*x0, *x1, 0, 4, 1, 5);
  v128_t t1 = wasm_i32x4_shuffle(*x0, *x1, 2, 6, 3, 7);
  v128_t t2 = wasm_i32x4_shuffle(*x2, *x3, 0, 4, 1, 5);
  v128_t t3 = wasm_i32x4_shuffle(*x2, *x3, 2, 6, 3, 7);
  *x0 = wasm_i64x2_shuffle(t0, t2, 0, 2);
  *x1 = wasm_i64x2_shuffle(t0, t2, 1, 3);
  *x2 = wasm_i64x2_shuffle(t1, t3, 0, 2);
  *x3 = wasm_i64x2_shuffle(t1, t3, 1, 3);
}

/* C = alpha · op(A) · op(B) + C (C already scaled by beta); see gemm.c. */
void gemm_accumulate(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float *c, int ldc, float *scratch);

/* The batch-1 product c += a · B with B pre-packed in 32-column panels; see gemm.c. */
int gemv_packed_floats(int n, int k);
void gemv_pack(int n, int k, const float *b, int ldb, float *restrict bp);
void gemv_packed(int n, int k, const float *a, const float *bp, const float *b, int ldb, float *c, int reverse);

/* Floats of scratch space every kernel receives (gemm_scratch_floats(); checked against gemm.c's blocking). */
#define GEMM_SCRATCH_FLOATS_CONST (128 * 256 + 256 * 1024 + 256 * 8 + 4 * 8)
/* Where in that scratch space, and how many floats, GEMM leaves alone when it reads B in place (m <= 16, B
   not transposed): its packed-B block. A caller of such products may keep its own data there. */
#define GEMM_SCRATCH_FREE_WHEN_DIRECT_B_OFFSET (128 * 256)
#define GEMM_SCRATCH_FREE_WHEN_DIRECT_B_FLOATS (256 * 1024)

#endif
