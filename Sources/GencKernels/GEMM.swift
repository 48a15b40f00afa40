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
    // Pairwise: the variadic max builds an array, an allocation per call in a debug build.
    precondition(max(max(m, n), max(k, lda), max(ldb, ldc)) <= Int(Int32.max), "sgemm: size exceeds Int32")
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
    parallelFor(count: split.parts, grain: 1, threads: threads, GEMMParts(
        split: split, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
        a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc))
}

/// The blocks of one split `sgemm`, each one single-threaded `cblas_sgemm`.
private struct GEMMParts: ParallelBody {
    let split: GEMMSplit
    let transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float
    let a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int
    let beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int

    func run(_ parts: Range<Int>) {
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

/// One single-threaded `cblas_sgemm`, with the column tail of the calls
/// that would make OpenBLAS allocate done here instead.
///
/// Why: OpenBLAS 0.3.21's SkylakeX small-matrix kernel for A·B (neither
/// transposed) mallocs a packing buffer on every call whose last block of
/// 16 columns has 1 to 8 of them, for K ≥ 32 and M·N·K ≤ 10⁶ — exactly that
/// class, measured over 549,120 shapes of all four transpose cases (the
/// other kernels and cases allocate nothing). Such GEMMs (an output layer of
/// width 1, a 100-wide latent) run on every training step, so a step would
/// allocate. The whole-16 columns still go to OpenBLAS, which then takes no
/// tail; the ≤ 8 tail columns are `tailColumns` below. Done on every kernel,
/// not only SkylakeX, so those columns are the same bits everywhere; a
/// column block of a split GEMM starts at a multiple of 16, so the tail is
/// the same columns on any thread count.
@inline(__always)
private func sgemmBlock(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    let tail = n % 16
    if !transA && !transB && tail >= 1 && tail <= 8 && k >= 32 && m * n * k <= 1_000_000 {
        let whole = n - tail
        if whole > 0 { cblasSGEMM(false, false, m, whole, k, alpha, a, lda, b, ldb, beta, c, ldc) }
        tailColumns(m, tail, k, alpha, a, lda, b + whole, ldb, beta, c + whole, ldc)
        return
    }
    cblasSGEMM(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

@inline(__always)
private func cblasSGEMM(
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

/// C = alpha · A · B + beta · C for `r` ≤ 8 columns, A (M, K) and B (K, r)
/// not transposed: one 8-lane accumulator per row of C, the sum over K in
/// order with fused multiply-adds. C is not read when beta is 0.
/// With r < 8 a row of B is loaded 8 lanes wide all the same (lanes r… hold
/// the next elements of B's buffer, whose products land in lanes that are
/// never stored), as long as the 8 lanes end within B; the rows after that
/// are gathered lane by lane. Building every row lane by lane made vae's
/// 20-column latent GEMMs a fifth of its step.
private func tailColumns(
    _ m: Int, _ r: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    // B's last element is at (k − 1)·ldb + r − 1 from b: rows whose 8-lane
    // load ends there or before are loaded whole.
    let lastEnd = (k - 1) * ldb + r
    let wideRows = lastEnd < 8 ? 0 : min(k, (lastEnd - 8) / ldb + 1)
    for i in 0..<m {
        let ai = a + i * lda
        var acc = SIMD8<Float>(repeating: 0)
        for kk in 0..<wideRows {
            let row = UnsafeRawPointer(b + kk * ldb).loadUnaligned(as: SIMD8<Float>.self)
            acc = acc.addingProduct(SIMD8(repeating: ai[kk]), row)
        }
        for kk in wideRows..<k {
            let p = b + kk * ldb
            var row = SIMD8<Float>(repeating: 0)
            for t in 0..<r { row[t] = p[t] }
            acc = acc.addingProduct(SIMD8(repeating: ai[kk]), row)
        }
        let ci = c + i * ldc
        for t in 0..<r { ci[t] = beta == 0 ? alpha * acc[t] : alpha * acc[t] + beta * ci[t] }
    }
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
