// PackedGEMM.swift — C = A·B for a skinny A and a B packed once and read by
// many GEMMs (CPackedGEMM's header says why; docs/runtime.md says when the
// runtime uses it).
//
// The packed kernel's results do not depend on how the panels are split over
// threads, nor on which kernel (AVX-512 or AVX2) runs: each element of C is
// one multiply-add chain over K in order. So the split may depend on the
// thread count.

import CPackedGEMM

/// B of one shape, packed in panels of `PackedOperand.panel` columns into
/// `buffer` (owned by the caller, `floats(k:n:)` long).
public struct PackedOperand: @unchecked Sendable {
    /// B is (K, N); stored transposed, as (N, K), when `transB`.
    public let k: Int, n: Int, transB: Bool
    public let buffer: UnsafeMutablePointer<Float>

    public static let panel = Int(GENC_PANEL)
    /// The most rows of A the packed kernel is used for: its loop reads all
    /// of A once per panel, so A must stay in cache (8 KiB–256 KiB here).
    public static let maxRows = 64

    public init(k: Int, n: Int, transB: Bool, buffer: UnsafeMutablePointer<Float>) {
        precondition(k >= 0 && n >= 0, "PackedOperand: negative size")
        (self.k, self.n, self.transB, self.buffer) = (k, n, transB, buffer)
    }

    /// Floats a packed (K, N) operand takes: K·N with N rounded up to whole panels.
    public static func floats(k: Int, n: Int) -> Int { Int(genc_packed_floats(k, n)) }

    var panels: Int { (n + Self.panel - 1) / Self.panel }
}

/// Which kernel `sgemmPacked` runs.
public enum PackedKernel: Int32, Sendable {
    /// AVX-512 where the CPU has it, else AVX2.
    case widest = 0
    /// AVX2 and FMA everywhere (the tests compare its bits with the widest's).
    case avx2 = 256
}

/// The vector width, in bits, `PackedKernel.widest` runs on this CPU.
public var packedGEMMWidth: Int { Int(genc_packed_gemm_width()) }

/// Packs B (K, N) with row stride `ldb` (or, when `packed.transB`, stored
/// (N, K)) into `packed.buffer`.
public func packB(_ packed: PackedOperand, from b: UnsafePointer<Float>, ldb: Int, threads: Int = 1) {
    precondition(ldb >= max(1, packed.transB ? packed.k : packed.n), "packB: ldb too small")
    let panels = packed.panels
    let parts = packed.k * packed.n >= 1 << 17 ? min(max(threads, 1), panels) : 1
    parallelFor(count: panels, grain: max(1, (panels + parts - 1) / max(parts, 1)), threads: parts, PackPanels(packed: packed, b: b, ldb: ldb))
}

private struct PackPanels: ParallelBody {
    let packed: PackedOperand, b: UnsafePointer<Float>, ldb: Int
    func run(_ block: Range<Int>) {
        genc_pack_b(packed.transB ? 1 : 0, packed.k, packed.n, b, ldb, packed.buffer, block.lowerBound, block.upperBound)
    }
}

/// C = A · B, C (M, N) with row stride `ldc` written (not read), A (M, K)
/// row-major with `lda >= K`, B packed by `packB`. On T threads the panels
/// are cut into up to T runs when the GEMM has at least 2 × 2¹⁸ multiply-adds.
///
/// - Complexity: 2·M·N·K flops.
public func sgemmPacked(m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedOperand,
                        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = 1, kernel: PackedKernel = .widest) {
    precondition(m >= 0 && lda >= max(1, packed.k) && ldc >= max(1, packed.n), "sgemmPacked: bad sizes")
    let panels = packed.panels
    if m == 0 || panels == 0 { return }
    let (work, overflow) = m.multipliedReportingOverflow(by: packed.n * packed.k)
    let parts = !overflow && work < 2 * GEMMSplit.minimumWorkPerPart ? 1 : min(max(threads, 1), panels)
    parallelFor(count: panels, grain: (panels + parts - 1) / parts, threads: parts,
                PackedPanels(m: m, a: a, lda: lda, packed: packed, c: c, ldc: ldc, kernel: kernel.rawValue))
}

private struct PackedPanels: ParallelBody {
    let m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedOperand
    let c: UnsafeMutablePointer<Float>, ldc: Int, kernel: Int32
    func run(_ block: Range<Int>) {
        genc_gemm_packed(m, packed.n, packed.k, a, lda, packed.buffer, c, ldc, block.lowerBound, block.upperBound, kernel)
    }
}
