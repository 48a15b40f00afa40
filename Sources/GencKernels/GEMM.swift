// GEMM.swift — single-precision matrix multiply through OpenBLAS.
//
// Everything is row-major. `op(X)` is `X` or `Xᵀ` by the transpose flag; a
// leading dimension is the distance in floats between consecutive rows of the
// matrix *as stored*, so a transposed (K, M) operand has `lda >= M`.

import CBLAS

// MARK: - sgemm

/// C = alpha · op(A) · op(B) + beta · C, row-major, through `cblas_sgemm`.
///
/// - a: (M, K) with `lda >= K`, or (K, M) with `lda >= M` when `transA`
/// - b: (K, N) with `ldb >= N`, or (N, K) with `ldb >= K` when `transB`
/// - c: (M, N) with `ldc >= N`; read only when `beta != 0` (so it may hold garbage then)
///
/// - Complexity: 2·M·N·K flops.
public func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size")
    precondition(lda >= max(1, transA ? m : k), "sgemm: lda too small")
    precondition(ldb >= max(1, transB ? k : n), "sgemm: ldb too small")
    precondition(ldc >= max(1, n), "sgemm: ldc too small")
    precondition(max(m, n, k, lda, ldb, ldc) <= Int(Int32.max), "sgemm: size exceeds Int32")
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        scaleMatrix(c, rows: m, cols: n, ld: ldc, by: beta)
        return
    }
    cblas_sgemm(
        CblasRowMajor,
        transA ? CblasTrans : CblasNoTrans,
        transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k),
        alpha, a, Int32(lda), b, Int32(ldb),
        beta, c, Int32(ldc))
}

/// A batch of independent `sgemm`s: `C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i]`.
///
/// Matrix `i` of each operand starts at `i * stride` floats; a stride of 0
/// reuses one matrix for the whole batch (a shared weight). `strideC` must
/// not be 0 unless `batch <= 1`.
/// - a: (batch, M, K) or (batch, K, M); b: (batch, K, N) or (batch, N, K); c: (batch, M, N)
public func sgemmStridedBatched(
    batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int, strideA: Int,
    b: UnsafePointer<Float>, ldb: Int, strideB: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
) {
    precondition(batch >= 0, "sgemmStridedBatched: negative batch")
    precondition(strideC != 0 || batch <= 1, "sgemmStridedBatched: outputs would overlap")
    for i in 0..<batch {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
              alpha: alpha, a: a + i * strideA, lda: lda,
              b: b + i * strideB, ldb: ldb,
              beta: beta, c: c + i * strideC, ldc: ldc)
    }
}

// MARK: - Helpers

/// C = beta · C over an (rows, cols) block with row stride `ld`; beta 0 writes zeros.
@inline(__always)
func scaleMatrix(_ c: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, by beta: Float) {
    if beta == 1 { return }
    for i in 0..<rows {
        let row = c + i * ld
        if beta == 0 {
            row.update(repeating: 0, count: cols)
        } else {
            for j in 0..<cols { row[j] *= beta }
        }
    }
}
