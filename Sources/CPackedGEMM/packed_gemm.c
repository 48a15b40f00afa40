// packed_gemm.c — the kernels of CPackedGEMM (include/packed_gemm.h says why).
//
// AVX-512: 8 rows × 32 columns of C in 16 zmm accumulators; per k two loads
// of the panel and 8 broadcasts of A. AVX2: 6 rows × 16 columns (half a
// panel) in 12 ymm accumulators. Rows past M read row M-1 again and are not
// stored, so A is never read out of bounds; columns past N are zeros in the
// panel and are not stored either.
#include "packed_gemm.h"

#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

size_t genc_packed_floats(long k, long n) {
    long panels = (n + GENC_PANEL - 1) / GENC_PANEL;
    return (size_t)k * (size_t)panels * GENC_PANEL;
}

void genc_pack_b(int trans_b, long k, long n, const float *b, long ldb, float *packed,
                 long panel_begin, long panel_end) {
    for (long j = panel_begin; j < panel_end; j++) {
        float *dst = packed + j * k * GENC_PANEL;
        long col = j * GENC_PANEL;
        long width = n - col < GENC_PANEL ? n - col : GENC_PANEL;
        if (!trans_b) {
            for (long kk = 0; kk < k; kk++) {
                memcpy(dst + kk * GENC_PANEL, b + kk * ldb + col, (size_t)width * sizeof(float));
                if (width < GENC_PANEL) memset(dst + kk * GENC_PANEL + width, 0, (size_t)(GENC_PANEL - width) * sizeof(float));
            }
        } else {
            // Element (kk, col + c) of B is stored at b[(col + c)·ldb + kk].
            for (long c = 0; c < GENC_PANEL; c++) {
                if (c < width) {
                    const float *src = b + (col + c) * ldb;
                    for (long kk = 0; kk < k; kk++) dst[kk * GENC_PANEL + c] = src[kk];
                } else {
                    for (long kk = 0; kk < k; kk++) dst[kk * GENC_PANEL + c] = 0;
                }
            }
        }
    }
}

#define ROW(i) (a + ((i) < mr ? (i) : mr - 1) * lda)

#if defined(__x86_64__)
__attribute__((target("avx512f,fma")))
static void block512(long mr, long k, const float *a, long lda, const float *p, float *c, long ldc, long width) {
    const float *r0 = ROW(0), *r1 = ROW(1), *r2 = ROW(2), *r3 = ROW(3), *r4 = ROW(4), *r5 = ROW(5), *r6 = ROW(6), *r7 = ROW(7);
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
    for (long kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_loadu_ps(p + kk * GENC_PANEL), b1 = _mm512_loadu_ps(p + kk * GENC_PANEL + 16);
        __m512 x;
        x = _mm512_set1_ps(r0[kk]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
        x = _mm512_set1_ps(r1[kk]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
        x = _mm512_set1_ps(r2[kk]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
        x = _mm512_set1_ps(r3[kk]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
        x = _mm512_set1_ps(r4[kk]); c40 = _mm512_fmadd_ps(x, b0, c40); c41 = _mm512_fmadd_ps(x, b1, c41);
        x = _mm512_set1_ps(r5[kk]); c50 = _mm512_fmadd_ps(x, b0, c50); c51 = _mm512_fmadd_ps(x, b1, c51);
        x = _mm512_set1_ps(r6[kk]); c60 = _mm512_fmadd_ps(x, b0, c60); c61 = _mm512_fmadd_ps(x, b1, c61);
        x = _mm512_set1_ps(r7[kk]); c70 = _mm512_fmadd_ps(x, b0, c70); c71 = _mm512_fmadd_ps(x, b1, c71);
    }
    __m512 acc[8][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
    __mmask16 m0 = width >= 16 ? 0xFFFF : (__mmask16)((1u << width) - 1);
    __mmask16 m1 = width >= 32 ? 0xFFFF : width <= 16 ? 0 : (__mmask16)((1u << (width - 16)) - 1);
    for (long i = 0; i < mr; i++) {
        _mm512_mask_storeu_ps(c + i * ldc, m0, acc[i][0]);
        _mm512_mask_storeu_ps(c + i * ldc + 16, m1, acc[i][1]);
    }
}

// Half a panel: 16 columns at `p` (rows GENC_PANEL floats apart).
__attribute__((target("avx2,fma")))
static void block256(long mr, long k, const float *a, long lda, const float *p, float *c, long ldc, long width) {
    const float *r0 = ROW(0), *r1 = ROW(1), *r2 = ROW(2), *r3 = ROW(3), *r4 = ROW(4), *r5 = ROW(5);
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (long kk = 0; kk < k; kk++) {
        __m256 b0 = _mm256_loadu_ps(p + kk * GENC_PANEL), b1 = _mm256_loadu_ps(p + kk * GENC_PANEL + 8);
        __m256 x;
        x = _mm256_broadcast_ss(r0 + kk); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(r1 + kk); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(r2 + kk); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(r3 + kk); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(r4 + kk); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(r5 + kk); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (long i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        if (width >= 16) {
            _mm256_storeu_ps(ci, acc[i][0]);
            _mm256_storeu_ps(ci + 8, acc[i][1]);
        } else {
            float row[16];
            _mm256_storeu_ps(row, acc[i][0]);
            _mm256_storeu_ps(row + 8, acc[i][1]);
            for (long t = 0; t < width; t++) ci[t] = row[t];
        }
    }
}

#undef ROW

static int has_avx512(void) {
    static int known = -1;
    if (known < 0) known = __builtin_cpu_supports("avx512f") ? 1 : 0;
    return known;
}

int genc_packed_gemm_width(void) { return has_avx512() ? 512 : 256; }
#else
// Not x86-64: the same multiply-add chains, one element at a time.
static void scalar_block(long m, long k, const float *a, long lda, const float *p, float *c, long ldc, long width) {
    for (long i = 0; i < m; i++)
        for (long t = 0; t < width; t++) {
            float acc = 0;
            for (long kk = 0; kk < k; kk++) acc = fmaf(a[i * lda + kk], p[kk * GENC_PANEL + t], acc);
            c[i * ldc + t] = acc;
        }
}

int genc_packed_gemm_width(void) { return 32; }
#endif

void genc_gemm_packed(long m, long n, long k, const float *a, long lda, const float *packed,
                      float *c, long ldc, long panel_begin, long panel_end, int width_bits) {
#if defined(__x86_64__)
    int wide = width_bits == 256 ? 0 : has_avx512();
#else
    (void)width_bits;
#endif
    for (long j = panel_begin; j < panel_end; j++) {
        const float *p = packed + j * k * GENC_PANEL;
        long col = j * GENC_PANEL;
        long width = n - col < GENC_PANEL ? n - col : GENC_PANEL;
        if (k == 0) {
            for (long i = 0; i < m; i++) memset(c + i * ldc + col, 0, (size_t)width * sizeof(float));
            continue;
        }
#if defined(__x86_64__)
        if (wide) {
            for (long i = 0; i < m; i += 8)
                block512(m - i < 8 ? m - i : 8, k, a + i * lda, lda, p, c + i * ldc + col, ldc, width);
        } else {
            for (long h = 0; h < 2 && h * 16 < width; h++)
                for (long i = 0; i < m; i += 6)
                    block256(m - i < 6 ? m - i : 6, k, a + i * lda, lda, p + h * 16, c + i * ldc + col + h * 16, ldc, width - h * 16);
        }
#else
        scalar_block(m, k, a, lda, p, c + col, ldc, width);
#endif
    }
}
