// CPackedGEMM — C = A·B for a B packed once and multiplied many times.
//
// OpenBLAS packs both operands on every call. For a skinny A (a batch of a
// few dozen rows) times a weight read by many GEMMs of one step (an LSTM's
// recurrent weight: 126 calls of 32×256 by 256×1024 per char-lstm step), the
// packing of the weight is a quarter of each call. Here the weight is packed
// once into panels of GENC_PANEL columns, and each call runs a register-
// blocked kernel over the panels (AVX-512 where the CPU has it, else AVX2 and
// FMA). Every element of C is one fused multiply-add chain over k = 0..K-1 in
// order, from 0, whatever the kernel, the panel range or the thread: results
// are bit-identical across CPUs with either instruction set and across
// thread counts.
#ifndef GENC_PACKED_GEMM_H
#define GENC_PACKED_GEMM_H

#include <stddef.h>

/// Columns per panel of a packed B.
#define GENC_PANEL 32

/// Floats a packed (K, N) B takes: K · N rounded up to whole panels.
size_t genc_packed_floats(long k, long n);

/// Packs panels [panel_begin, panel_end) of B into `packed`: panel j holds
/// columns 32j … 32j+31 of B as K rows of 32 floats (zeros past column N).
/// B is (K, N) with row stride ldb >= N, or, when `trans_b`, stored (N, K)
/// with ldb >= K (B is then the transpose of what is stored).
void genc_pack_b(int trans_b, long k, long n, const float *b, long ldb, float *packed,
                 long panel_begin, long panel_end);

/// Columns of panels [panel_begin, panel_end) of C = A · B, C (M, N) with
/// row stride ldc, A (M, K) row-major with lda >= K, B packed by
/// genc_pack_b. C is written, not read. `width_bits` 256 runs the AVX2
/// kernel even where AVX-512 is there (the tests compare the two); any
/// other value runs the widest the CPU has.
void genc_gemm_packed(long m, long n, long k, const float *a, long lda, const float *packed,
                      float *c, long ldc, long panel_begin, long panel_end, int width_bits);

/// 512 when the AVX-512 kernel runs on this CPU, 256 for the AVX2 one (32:
/// the scalar loop that stands in off x86-64, with the same chains).
int genc_packed_gemm_width(void);

#endif
