/*
 * MFCC frames (DESIGN §1 steps 1-6) in WebAssembly SIMD, running inside kissfft-wasm's own memory.
 *
 * This module has no memory of its own: it imports kissfft-wasm's linear memory and its kiss_fft export,
 * so each frame goes window -> FFT -> power -> mel -> log -> DCT without leaving wasm, and JavaScript makes
 * one call per batch of frames.
 *
 * The real FFT is kissfft's own kiss_fftr algorithm, taken apart: the N-point real frame is transformed as
 * N/2 complex points by kiss_fft with the sub-state of a kiss_fftr config, and the final split into the
 * N/2 + 1 bins (kiss_fftr's scalar loop, with its super-twiddles) is done here four bins at a time,
 * straight into |X[k]|^2, since only the power spectrum is needed. Every buffer (tables, scratch, input, output) is allocated with
 * kissfft's malloc and passed in through `struct plan`; the code keeps no static data and uses no stack
 * (scripts/build-wasm.sh checks both), so it cannot touch memory that kissfft owns.
 *
 * Precision: float32 throughout (kissfft is float32). Against a float64 implementation the result stays
 * within ~5e-4 (DESIGN asks for 1e-3); the error is dominated by the float32 FFT itself.
 *
 * Build: packages/audio/scripts/build-wasm.sh (clang 14, -msimd128, no libc).
 */
#include <wasm_simd128.h>

typedef int kiss_fft_cfg;

__attribute__((import_module("kissfft"), import_name("kiss_fft")))
extern void kiss_fft(kiss_fft_cfg cfg, const float *fin, float *fout);

struct plan {
  kiss_fft_cfg fft;  /* kiss_fftr config's sub-state: complex FFT of N / 2 points */
  int fft_length;    /* N, even */
  int frame_length;  /* L <= N */
  int frame_step;
  int num_mel;       /* M */
  int num_mfcc;      /* C <= M */
  float log_offset;
  const float *window;      /* [L] */
  const int *mel_start;     /* [M] first bin of filter m */
  const int *mel_width;     /* [M] bins of filter m, a multiple of 4 (zero weights pad it) */
  const int *mel_offset;    /* [M] where filter m's weights start in mel_weights */
  const float *mel_weights; /* [sum of mel_width] */
  const float *dct_t;       /* [M, C rounded up to 4]: DCT-II transposed, zero-padded columns */
  float *frame;             /* [N] windowed frame; L .. N - 1 stay zero */
  float *spectrum;          /* [N] kiss_fft output: N / 2 complex */
  float *power;             /* [N / 2 + 1 + padding read by mel filters]: the padding stays zero */
  float *log_mel;           /* [M rounded up to 4] */
  const float *twiddles;    /* [N / 2] complex: the kiss_fftr config's super_twiddles */
};

/* Natural log of 4 positive floats: Cephes logf (relative error ~1e-7). Inf and NaN pass through. */
static inline v128_t log4(v128_t x) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  v128_t bits = x;
  /* x = m * 2^e with m in [0.5, 1) */
  v128_t e = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_u32x4_shr(bits, 23), wasm_i32x4_splat(126)));
  v128_t m = wasm_v128_or(wasm_v128_and(bits, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f000000));
  /* if m < sqrt(1/2): e -= 1, f = 2m - 1, else f = m - 1 */
  v128_t small = wasm_f32x4_lt(m, wasm_f32x4_splat(0.707106781186547524f));
  e = wasm_f32x4_sub(e, wasm_v128_and(small, one));
  v128_t f = wasm_f32x4_sub(wasm_f32x4_add(m, wasm_v128_and(small, m)), one);
  v128_t z = wasm_f32x4_mul(f, f);
  v128_t y = wasm_f32x4_splat(7.0376836292e-2f);
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), wasm_f32x4_splat(-1.1514610310e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), wasm_f32x4_splat(1.1676998740e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), wasm_f32x4_splat(-1.2420140846e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), wasm_f32x4_splat(1.4249322787e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), wasm_f32x4_splat(-1.6668057665e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), wasm_f32x4_splat(2.0000714765e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), wasm_f32x4_splat(-2.4999993993e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), wasm_f32x4_splat(3.3333331174e-1f));
  y = wasm_f32x4_mul(wasm_f32x4_mul(y, f), z);
  y = wasm_f32x4_add(y, wasm_f32x4_mul(e, wasm_f32x4_splat(-2.12194440e-4f)));
  y = wasm_f32x4_sub(y, wasm_f32x4_mul(z, wasm_f32x4_splat(0.5f)));
  v128_t r = wasm_f32x4_add(wasm_f32x4_add(f, y), wasm_f32x4_mul(e, wasm_f32x4_splat(0.693359375f)));
  v128_t special = wasm_v128_or(wasm_f32x4_ne(x, x), wasm_f32x4_eq(x, wasm_f32x4_splat(__builtin_inff())));
  return wasm_v128_bitselect(x, r, special);
}

/*
 * kiss_fftr's last step, for power only. With Z = FFT of the frame packed as N/2 complex points and
 * T[k - 1] its super-twiddles, for k = 1 .. N/4: f1 = Z[k] + conj(Z[N/2 - k]), f2 = Z[k] - conj(Z[N/2 - k]),
 * tw = f2 * T[k - 1], X[k] = (f1 + tw) / 2 and X[N/2 - k] = conj(f1 - tw) / 2; X[0] and X[N/2] come from Z[0].
 */
static inline void split_power(const float *z, const float *t, int half, float *power) {
  const v128_t quarter = wasm_f32x4_splat(0.25f);
  power[0] = (z[0] + z[1]) * (z[0] + z[1]);
  power[half] = (z[0] - z[1]) * (z[0] - z[1]);
  int k = 1;
  for (; k + 3 <= half / 2; k += 4) {
    v128_t a = wasm_v128_load(z + 2 * k);
    v128_t b = wasm_v128_load(z + 2 * k + 4);
    v128_t re = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6);
    v128_t im = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
    v128_t c = wasm_v128_load(z + 2 * (half - k - 3)); /* Z[half-k-3], Z[half-k-2] */
    v128_t d = wasm_v128_load(z + 2 * (half - k - 1)); /* Z[half-k-1], Z[half-k] */
    v128_t rre = wasm_i32x4_shuffle(c, d, 6, 4, 2, 0);  /* Re Z[half-k], ..., Re Z[half-k-3] */
    v128_t rim = wasm_i32x4_shuffle(c, d, 7, 5, 3, 1);
    v128_t ta = wasm_v128_load(t + 2 * (k - 1));
    v128_t tb = wasm_v128_load(t + 2 * (k - 1) + 4);
    v128_t tre = wasm_i32x4_shuffle(ta, tb, 0, 2, 4, 6);
    v128_t tim = wasm_i32x4_shuffle(ta, tb, 1, 3, 5, 7);
    v128_t f1r = wasm_f32x4_add(re, rre);
    v128_t f1i = wasm_f32x4_sub(im, rim);
    v128_t f2r = wasm_f32x4_sub(re, rre);
    v128_t f2i = wasm_f32x4_add(im, rim);
    v128_t twr = wasm_f32x4_sub(wasm_f32x4_mul(f2r, tre), wasm_f32x4_mul(f2i, tim));
    v128_t twi = wasm_f32x4_add(wasm_f32x4_mul(f2r, tim), wasm_f32x4_mul(f2i, tre));
    v128_t sr = wasm_f32x4_add(f1r, twr);
    v128_t si = wasm_f32x4_add(f1i, twi);
    v128_t dr = wasm_f32x4_sub(f1r, twr);
    v128_t di = wasm_f32x4_sub(f1i, twi);
    v128_t pk = wasm_f32x4_mul(quarter, wasm_f32x4_add(wasm_f32x4_mul(sr, sr), wasm_f32x4_mul(si, si)));
    v128_t pn = wasm_f32x4_mul(quarter, wasm_f32x4_add(wasm_f32x4_mul(dr, dr), wasm_f32x4_mul(di, di)));
    wasm_v128_store(power + k, pk);
    wasm_v128_store(power + half - k - 3, wasm_i32x4_shuffle(pn, pn, 3, 2, 1, 0));
  }
  for (; k <= half / 2; k++) {
    float re = z[2 * k], im = z[2 * k + 1];
    float rre = z[2 * (half - k)], rim = z[2 * (half - k) + 1];
    float tre = t[2 * (k - 1)], tim = t[2 * (k - 1) + 1];
    float f1r = re + rre, f1i = im - rim, f2r = re - rre, f2i = im + rim;
    float twr = f2r * tre - f2i * tim, twi = f2r * tim + f2i * tre;
    power[k] = 0.25f * ((f1r + twr) * (f1r + twr) + (f1i + twi) * (f1i + twi));
    power[half - k] = 0.25f * ((f1r - twr) * (f1r - twr) + (f1i - twi) * (f1i - twi));
  }
}

/* Frame f of `frames` starts at samples[f * frame_step]; row f of `out` gets its C coefficients. `out` must
 * have 3 floats of slack after the last row: rows are stored 4 lanes at a time. */
__attribute__((export_name("mfcc_frames")))
void mfcc_frames(const struct plan *p, const float *samples, int frames, float *out) {
  const int length = p->frame_length;
  const int mels = p->num_mel;
  const int coeffs = p->num_mfcc;
  const int coeff_blocks = (coeffs + 3) / 4;
  const v128_t offset = wasm_f32x4_splat(p->log_offset);
  float *frame = p->frame;
  float *power = p->power;
  float *log_mel = p->log_mel;

  for (int f = 0; f < frames; f++) {
    const float *x = samples + f * p->frame_step;
    /* 1-2: frame and window */
    int n = 0;
    for (; n + 4 <= length; n += 4) {
      wasm_v128_store(frame + n, wasm_f32x4_mul(wasm_v128_load(x + n), wasm_v128_load(p->window + n)));
    }
    for (; n < length; n++) frame[n] = x[n] * p->window[n];

    /* 3: real FFT and power spectrum |X[k]|^2 (kiss_fftr's split, four bins k and N/2 - k at a time) */
    kiss_fft(p->fft, frame, p->spectrum);
    split_power(p->spectrum, p->twiddles, p->fft_length / 2, power);

    /* 4: mel filters, each a dot product over its own contiguous bins */
    for (int m = 0; m < mels; m++) {
      const float *pw = power + p->mel_start[m];
      const float *w = p->mel_weights + p->mel_offset[m];
      v128_t acc = wasm_f32x4_splat(0.0f);
      for (int k = 0; k < p->mel_width[m]; k += 4) {
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(pw + k), wasm_v128_load(w + k)));
      }
      log_mel[m] = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
                   wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
    }

    /* 5: natural log of energy + offset (padding lanes hold finite garbage and are never used) */
    for (int m = 0; m < mels; m += 4) {
      wasm_v128_store(log_mel + m, log4(wasm_f32x4_add(wasm_v128_load(log_mel + m), offset)));
    }

    /* 6: DCT-II as a sum of scaled columns, four coefficients per vector */
    float *row = out + f * coeffs;
    for (int j = 0; j < coeff_blocks; j++) {
      v128_t acc = wasm_f32x4_splat(0.0f);
      const float *column = p->dct_t + 4 * j;
      for (int m = 0; m < mels; m++) {
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(column + m * 4 * coeff_blocks),
                                                 wasm_f32x4_splat(log_mel[m])));
      }
      wasm_v128_store(row + 4 * j, acc);
    }
  }
}
