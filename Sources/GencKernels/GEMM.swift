// GEMM.swift — single-precision matrix multiply through OpenBLAS, split over
// genc's threads by blocks that depend on the shape only.
//
// Everything is row-major. `op(X)` is `X` or `Xᵀ` by the transpose flag; a
// leading dimension is the distance in floats between consecutive rows of the
// matrix *as stored*, so a transposed (K, M) operand has `lda >= M`.
//
// Why genc splits the GEMM itself: OpenBLAS runs single-threaded (`sgemm`
// sets it so), because its threaded path is little faster than one thread on
// the GEMMs of these models (batch 64 by a few hundred by a few hundred), it
// mallocs its job buffers on every call, and its threads spin after each
// call on the cores genc's own workers need. So on T > 1 threads a GEMM of
// at least 2 × 2¹⁸ multiply-adds is cut into up to T (at most 4) row or
// column blocks (`GEMMSplit`), each one single-threaded `cblas_sgemm` over
// the whole K, run on genc's workers (WorkerPool.swift). Each element of C
// is still one dot product over all of K in OpenBLAS's order, so a block
// gives the bits the whole GEMM gives; GEMMTests checks that on the
// machine's kernel (docs/reliability.md says what holds across thread counts).

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
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
    threads: Int = 1
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
    // OpenBLAS always runs single-threaded under genc (the header says why).
    // Checked on every call, as a library user may have changed it: one
    // read of a global when it is already 1.
    if openBLASThreadCount() != 1 { setOpenBLASThreadCount(1) }
    let split = GEMMSplit(m: m, n: n, k: k, threads: threads)
    if split.parts == 1 {
        sgemmBlock(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    }
    parallelFor(count: split.parts, grain: 1, threads: threads) { parts in
        for part in parts {
            let range = split.range(part)
            if split.splitsRows {
                // Rows i0..<i1 of C need rows i0..<i1 of op(A).
                let aPart = transA ? a + range.lowerBound : a + range.lowerBound * lda
                sgemmBlock(transA, transB, range.count, n, k, alpha, aPart, lda, b, ldb,
                           beta, c + range.lowerBound * ldc, ldc)
            } else {
                // Columns j0..<j1 of C need columns j0..<j1 of op(B).
                let bPart = transB ? b + range.lowerBound * ldb : b + range.lowerBound
                sgemmBlock(transA, transB, m, range.count, k, alpha, a, lda, bPart, ldb,
                           beta, c + range.lowerBound, ldc)
            }
        }
    }
}

/// How `sgemm` cuts C on `threads` threads: into `parts` (at most
/// `threads`) blocks of whole rows (when M ≥ N) or whole columns, each a
/// multiple of 16 long but the last. A GEMM that would give blocks of under
/// 2¹⁸ multiply-adds, or under 32 rows or columns, stays whole.
public struct GEMMSplit: Equatable, Sendable {
    public let parts: Int
    public let splitsRows: Bool
    /// The split dimension's length (M or N) and each block's length.
    public let length: Int, blockLength: Int

    public static let minimumWorkPerPart = 1 << 18
    public static let minimumBlockLength = 32
    public static let maximumParts = 4

    public init(m: Int, n: Int, k: Int, threads: Int) {
        splitsRows = m >= n
        length = splitsRows ? m : n
        let (mn, o1) = m.multipliedReportingOverflow(by: n)
        let (work, o2) = mn.multipliedReportingOverflow(by: k)
        let total = (o1 || o2) ? Int.max : work
        var parts = 1
        while parts < Self.maximumParts, parts < threads,
              total / (parts * 2) >= Self.minimumWorkPerPart,
              length / (parts * 2) >= Self.minimumBlockLength {
            parts *= 2
        }
        let block = (length + parts - 1) / parts
        blockLength = parts == 1 ? length : (block + 15) / 16 * 16
        // Rounding the blocks up to 16 can leave the last ones empty.
        self.parts = parts == 1 ? 1 : (length + blockLength - 1) / blockLength
    }

    /// The rows or columns of block `part`.
    public func range(_ part: Int) -> Range<Int> {
        let start = part * blockLength
        return start ..< min(start + blockLength, length)
    }
}

/// One single-threaded `cblas_sgemm`.
@inline(__always)
private func sgemmBlock(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
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
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int,
    threads: Int = 1
) {
    precondition(batch >= 0, "sgemmStridedBatched: negative batch")
    precondition(strideC != 0 || batch <= 1, "sgemmStridedBatched: outputs would overlap")
    for i in 0..<batch {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
              alpha: alpha, a: a + i * strideA, lda: lda,
              b: b + i * strideB, ldb: ldb,
              beta: beta, c: c + i * strideC, ldc: ldc, threads: threads)
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
