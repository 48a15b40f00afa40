import XCTest
import GencKernels
import CAllocationCounter

final class PackedGEMMTests: XCTestCase {
    /// Packs B, multiplies, and returns C (M, ldc) with NaN in the padding.
    func run(m: Int, n: Int, k: Int, transB: Bool, a: [Float], lda: Int, b: [Float], ldb: Int, ldc: Int,
             threads: Int = 1, kernel: PackedKernel = .widest) -> [Float] {
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(PackedOperand.floats(k: k, n: n), 1))
        defer { buffer.deallocate() }
        let packed = PackedOperand(k: k, n: n, transB: transB, buffer: buffer)
        var c = [Float](repeating: .nan, count: m * ldc)
        b.withUnsafeBufferPointer { packB(packed, from: $0.baseAddress!, ldb: ldb, threads: threads) }
        a.withUnsafeBufferPointer { pa in
            c.withUnsafeMutableBufferPointer { pc in
                sgemmPacked(m: m, a: pa.baseAddress!, lda: lda, packed: packed, c: pc.baseAddress!, ldc: ldc, threads: threads, kernel: kernel)
            }
        }
        return c
    }

    /// Against the naive GEMM on shapes across the 8-row (AVX-512), 6-row
    /// (AVX2) and 32-column panel edges, B plain and transposed, padded
    /// leading dimensions; the padding of C is never written.
    func testAgainstNaive() {
        var rng = TestRNG(7)
        let shapes = [(1, 1, 1), (1, 32, 5), (5, 33, 3), (8, 31, 17), (13, 64, 1), (6, 16, 40), (7, 100, 64), (32, 1024, 9), (64, 70, 300)]
        for (m, n, k) in shapes {
            for transB in [false, true] {
                let lda = k + rng.int(0...3), ldb = (transB ? k : n) + rng.int(0...3), ldc = n + rng.int(0...3)
                let a = rng.array(m * lda), b = rng.array((transB ? n : k) * ldb)
                var ref = [Float](repeating: .nan, count: m * ldc)
                sgemmNaive(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: &ref, ldc: ldc)
                for kernel in [PackedKernel.widest, .avx2] {
                    let c = run(m: m, n: n, k: k, transB: transB, a: a, lda: lda, b: b, ldb: ldb, ldc: ldc, kernel: kernel)
                    for i in 0..<m {
                        assertClose(Array(c[(i * ldc)..<(i * ldc + n)]), Array(ref[(i * ldc)..<(i * ldc + n)]), rtol: 1e-5,
                                    "m\(m) n\(n) k\(k) tB\(transB) \(kernel)")
                        XCTAssert(c[(i * ldc + n)..<(i * ldc + ldc)].allSatisfy(\.isNaN), "padding written: m\(m) n\(n) k\(k)")
                    }
                }
            }
        }
    }

    /// Each element is one multiply-add chain over K in order, so the
    /// AVX-512 and AVX2 kernels and any thread count give the same bits.
    func testKernelsAndThreadCountsGiveTheSameBits() {
        var rng = TestRNG(11)
        for (m, n, k, transB) in [(32, 1024, 256, false), (30, 250, 97, true), (64, 96, 1024, false)] {
            let ldb = transB ? k : n
            let a = rng.array(m * k), b = rng.array((transB ? n : k) * ldb)
            let one = run(m: m, n: n, k: k, transB: transB, a: a, lda: k, b: b, ldb: ldb, ldc: n)
            let two = run(m: m, n: n, k: k, transB: transB, a: a, lda: k, b: b, ldb: ldb, ldc: n, threads: 2)
            let avx2 = run(m: m, n: n, k: k, transB: transB, a: a, lda: k, b: b, ldb: ldb, ldc: n, threads: 2, kernel: .avx2)
            XCTAssertEqual(one.map(\.bitPattern), two.map(\.bitPattern), "1 vs 2 threads m\(m) n\(n) k\(k)")
            XCTAssertEqual(one.map(\.bitPattern), avx2.map(\.bitPattern), "widest (\(packedGEMMWidth) bits) vs AVX2 m\(m) n\(n) k\(k)")
        }
    }

    /// Packing and multiplying allocate nothing. On one thread: a debug
    /// build's unspecialized worker-pool job allocates its closure context;
    /// the release build's 2-thread steps are counted by `genc bench` in CI.
    func testAllocatesNothing() throws {
        try XCTSkipIf(genc_allocations_counted() == 0, "allocations are not counted in a sanitizer build")
        let (m, n, k) = (32, 512, 256)
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k), b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n), buffer = UnsafeMutablePointer<Float>.allocate(capacity: PackedOperand.floats(k: k, n: n))
        defer { a.deallocate(); b.deallocate(); c.deallocate(); buffer.deallocate() }
        a.initialize(repeating: 0.5, count: m * k)
        b.initialize(repeating: 0.25, count: k * n)
        let packed = PackedOperand(k: k, n: n, transB: false, buffer: buffer)
        for threads in [1] {
            packB(packed, from: b, ldb: n, threads: threads)
            sgemmPacked(m: m, a: a, lda: k, packed: packed, c: c, ldc: n, threads: threads)  // warm the workers
            genc_allocations_start()
            packB(packed, from: b, ldb: n, threads: threads)
            sgemmPacked(m: m, a: a, lda: k, packed: packed, c: c, ldc: n, threads: threads)
            XCTAssertEqual(genc_allocations_stop(), 0, "\(threads) threads")
        }
        XCTAssertEqual(c[0], 0.5 * 0.25 * Float(k))
    }
}
