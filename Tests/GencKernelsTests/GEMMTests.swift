import XCTest
import GencKernels
import CAllocationCounter

final class GEMMTests: XCTestCase {
    func testAllTransposeCasesAgainstNaive() {
        var rng = TestRNG(1)
        // From (64, 1, 256) on: A·B with a 1–8 column tail and K ≥ 32, whose tail genc computes
        // itself, loading rows of B 8 lanes wide while they end within B (n = 4: a load spans
        // two rows; the last rows are gathered).
        let shapes = [(1, 1, 1), (1, 7, 5), (5, 1, 3), (3, 4, 1), (17, 9, 13), (32, 33, 31), (2, 64, 3),
                      (64, 1, 256), (5, 21, 40), (3, 8, 33), (9, 40, 64), (7, 20, 48), (4, 4, 32), (6, 3, 37), (2, 7, 35)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    let (alpha, beta) = (rng.float(0.5, 2), rng.bool() ? 0 : rng.float(-1, 1))
                    // Padded leading dimensions.
                    let lda = (transA ? m : k) + rng.int(0...3)
                    let ldb = (transB ? k : n) + rng.int(0...3)
                    let ldc = n + rng.int(0...3)
                    let a = rng.array((transA ? k : m) * lda)
                    let b = rng.array((transB ? n : k) * ldb)
                    var c = rng.array(m * ldc)
                    var ref = c
                    if beta == 0 { for i in 0..<c.count { c[i] = .nan } ; ref = c }
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c, ldc: ldc)
                    sgemmNaive(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &ref, ldc: ldc)
                    // Compare only the M×N block; padding columns must be untouched.
                    for i in 0..<m {
                        let got = Array(c[(i * ldc)..<(i * ldc + n)])
                        let want = Array(ref[(i * ldc)..<(i * ldc + n)])
                        assertClose(got, want, rtol: 1e-5, "m\(m) n\(n) k\(k) tA\(transA) tB\(transB)")
                        for j in n..<ldc {
                            XCTAssert(c[i * ldc + j].isNaN == ref[i * ldc + j].isNaN)
                        }
                    }
                }
            }
        }
    }

    /// The GEMMs of a training step allocate nothing: OpenBLAS's SkylakeX
    /// small-matrix kernel mallocs on every A·B with a 1–8 column tail
    /// (K ≥ 32, M·N·K ≤ 10⁶), which genc routes around; other kernels never
    /// allocate. Counted by the interposed allocator, on whichever kernel
    /// this machine runs, over that class and its edges.
    func testSmallGEMMsAllocateNothing() throws {
        let a = UnsafeMutablePointer<Float>.allocate(capacity: 1 << 16), b = UnsafeMutablePointer<Float>.allocate(capacity: 1 << 16)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: 1 << 16)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        a.initialize(repeating: 0.5, count: 1 << 16)
        b.initialize(repeating: 0.25, count: 1 << 16)
        c.initialize(repeating: 0, count: 1 << 16)
        // A sanitizer build's runtime owns malloc: nothing is counted there.
        try XCTSkipIf(genc_allocations_counted() == 0, "allocations are not counted in a sanitizer build")
        var counts: [String] = []
        for (m, n, k) in [(64, 1, 256), (64, 2, 256), (100, 100, 100), (8, 24, 32), (1, 8, 31), (64, 56, 256), (16, 16, 64)] {
            for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
                for beta: Float in [0, 1] {
                    let (lda, ldb) = (transA ? m : k, transB ? k : n)
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                          b: b, ldb: ldb, beta: beta, c: c, ldc: n)
                    genc_allocations_start()
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                          b: b, ldb: ldb, beta: beta, c: c, ldc: n)
                    let made = genc_allocations_stop()
                    if made != 0 { counts.append("m\(m) n\(n) k\(k) tA\(transA) tB\(transB) beta \(beta): \(made)") }
                }
            }
        }
        XCTAssertEqual(counts, [], "on OpenBLAS kernel \(openBLASCoreName())")
        // The counter is live: an array of a size known only at run time is counted.
        genc_allocations_start()
        let made = [Int](repeating: 7, count: 1000 + Int.random(in: 0..<1))
        let count = genc_allocations_stop()
        XCTAssertEqual(made.count, 1000)
        XCTAssertGreaterThanOrEqual(count, 1)
    }

    /// GEMMs big enough to be split into row or column blocks: against the
    /// naive twin, and bit-identical on 1 and 2 threads.
    func testSplitGEMMAgainstNaiveAndRunToRun() {
        var rng = TestRNG(7)
        // Rows split (M ≥ N), columns split, and an odd length whose last block is short.
        let shapes = [(300, 70, 200), (40, 600, 128), (257, 129, 96)]
        for (m, n, k) in shapes {
            let split = GEMMSplit(m: m, n: n, k: k, threads: 4)
            XCTAssertGreaterThan(split.parts, 1, "m\(m) n\(n) k\(k) should split")
            XCTAssertEqual((0..<split.parts).map { split.range($0).count }.reduce(0, +), split.length)
            for transA in [false, true] {
                for transB in [false, true] {
                    let (alpha, beta) = (rng.float(0.5, 2), rng.bool() ? 0 : rng.float(-1, 1))
                    let lda = (transA ? m : k) + rng.int(0...3)
                    let ldb = (transB ? k : n) + rng.int(0...3)
                    let ldc = n + rng.int(0...3)
                    let a = rng.array((transA ? k : m) * lda)
                    let b = rng.array((transB ? n : k) * ldb)
                    let c0 = rng.array(m * ldc)
                    var (c1, c2, c2again, c4, ref) = (c0, c0, c0, c0, c0)
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c1, ldc: ldc, threads: 1)
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c2, ldc: ldc, threads: 2)
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c2again, ldc: ldc, threads: 2)
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c4, ldc: ldc, threads: 4)
                    sgemmNaive(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &ref, ldc: ldc)
                    let label = "m\(m) n\(n) k\(k) tA\(transA) tB\(transB)"
                    // The same thread count gives the same blocks, so the same bits.
                    // Across thread counts OpenBLAS's AVX kernels round a block
                    // differently from the whole: each is checked against the reference.
                    XCTAssertEqual(c2, c2again, "2 threads twice differ: \(label)")
                    for i in 0..<m {
                        for c in [c1, c2, c4] {
                            assertClose(Array(c[(i * ldc)..<(i * ldc + n)]), Array(ref[(i * ldc)..<(i * ldc + n)]),
                                        rtol: 1e-4, label)
                        }
                        // Padding columns are never written.
                        for c in [c1, c2, c4] { XCTAssertEqual(Array(c[(i * ldc + n)..<(i * ldc + ldc)]), Array(c0[(i * ldc + n)..<(i * ldc + ldc)])) }
                    }
                }
            }
        }
    }

    func testSmallGEMMIsNotSplitAndBlocksFollowThreads() {
        XCTAssertEqual(GEMMSplit(m: 64, n: 64, k: 64, threads: 2).parts, 1)
        XCTAssertEqual(GEMMSplit(m: 16, n: 100_000, k: 1000, threads: 8).parts, 4)
        XCTAssertEqual(GEMMSplit(m: 16, n: 100_000, k: 1000, threads: 2).parts, 2, "no more blocks than threads")
        XCTAssertEqual(GEMMSplit(m: 16, n: 100_000, k: 1000, threads: 1).parts, 1)
        XCTAssertEqual(GEMMSplit(m: 1 << 40, n: 1 << 40, k: 1 << 40, threads: 4).parts, 4, "overflowing work still splits")
        XCTAssertEqual(GEMMSplit(m: 40, n: 20, k: 100_000, threads: 4).parts, 1, "blocks under 32 rows are not made")
    }

    func testZeroInnerDimensionScalesC() {
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [0], b: [Float] = [0]
        sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1,
              a: a, lda: 1, b: b, ldb: 2, beta: 0.5, c: &c, ldc: 2)
        XCTAssertEqual(c, [0.5, 1, 1.5, 2])
    }

    func testStridedBatchedWithSharedWeight() {
        var rng = TestRNG(2)
        let (batch, m, n, k) = (3, 4, 5, 6)
        let a = rng.array(batch * m * k)
        let w = rng.array(k * n)
        var c = [Float](repeating: 0, count: batch * m * n)
        sgemmStridedBatched(batch: batch, transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                            a: a, lda: k, strideA: m * k, b: w, ldb: n, strideB: 0,
                            beta: 0, c: &c, ldc: n, strideC: m * n)
        var ref = [Float](repeating: 0, count: m * n)
        for i in 0..<batch {
            Array(a[(i * m * k)...]).withUnsafeBufferPointer { ai in
                sgemmNaive(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                           a: ai.baseAddress!, lda: k, b: w, ldb: n, beta: 0, c: &ref, ldc: n)
            }
            assertClose(Array(c[(i * m * n)..<((i + 1) * m * n)]), ref, rtol: 1e-5)
        }
    }
}
