import XCTest
import GencKernels

final class GEMMTests: XCTestCase {
    func testAllTransposeCasesAgainstNaive() {
        var rng = TestRNG(1)
        let shapes = [(1, 1, 1), (1, 7, 5), (5, 1, 3), (3, 4, 1), (17, 9, 13), (32, 33, 31), (2, 64, 3)]
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
