import XCTest
import GencKernels

final class SoftmaxTests: XCTestCase {
    static let shapes = [(1, 1), (1, 7), (3, 8), (4, 9), (2, 33), (5, 100)]

    func testForwardAgainstNaive() {
        var rng = TestRNG(80)
        for (rows, n) in Self.shapes {
            let x = rng.array(rows * n, -10, 10)
            var y = [Float](repeating: .nan, count: x.count), ref = y
            softmax(x: x, y: &y, rows: rows, n: n)
            softmaxNaive(x: x, y: &ref, rows: rows, n: n)
            assertClose(y, ref, rtol: 1e-6, "softmax \(rows)×\(n)")
            logSoftmax(x: x, y: &y, rows: rows, n: n)
            logSoftmaxNaive(x: x, y: &ref, rows: rows, n: n)
            assertClose(y, ref, rtol: 1e-6, "logSoftmax \(rows)×\(n)")
        }
    }

    /// Any axis: (outer, n, inner) against the naive twin, for lane counts
    /// below, at and above the 8-lane group, and size-1 axes.
    func testStridedAxesAgainstNaive() {
        var rng = TestRNG(82)
        for (outer, n, inner) in [(1, 1, 2), (2, 3, 8), (3, 5, 7), (2, 4, 17), (1, 9, 1), (4, 1, 9), (5, 33, 3), (7, 3, 2), (1, 5, 9), (3, 2, 16)] {
            let x = rng.array(outer * n * inner, -20, 20)
            var y = [Float](repeating: .nan, count: x.count), ref = y
            softmax(x: x, y: &y, outer: outer, n: n, inner: inner)
            softmaxNaive(x: x, y: &ref, outer: outer, n: n, inner: inner)
            assertClose(y, ref, rtol: 1e-5, "softmax \(outer)×\(n)×\(inner)")
            logSoftmax(x: x, y: &y, outer: outer, n: n, inner: inner, threads: 2)
            softmaxNaive(x: x, y: &ref, outer: outer, n: n, inner: inner, log: true)
            assertClose(y, ref, rtol: 1e-5, "logSoftmax \(outer)×\(n)×\(inner)")
        }
        // In place, as the runtime may call it.
        var x: [Float] = [1, 2, 3, 4, 5, 6]
        x.withUnsafeMutableBufferPointer { p in
            softmax(x: UnsafePointer(p.baseAddress!), y: p.baseAddress!, outer: 1, n: 2, inner: 3)
        }
        for j in 0..<3 { XCTAssertEqual(x[j] + x[3 + j], 1, accuracy: 1e-6) }
    }

    /// Big enough to fan out (≥ 2^17 elements), including outer == 1 (softmax
    /// over axis 0) and lane groups that cross outer blocks (inner 3, 129):
    /// the same bits on 1 and 4 threads, and the naive twin's values.
    func testStridedOnThreadsAgainstNaive() {
        var rng = TestRNG(84)
        for (outer, n, inner) in [(1, 40, 4000), (3000, 16, 3), (16, 64, 129)] {
            let x = rng.array(outer * n * inner, -20, 20)
            var one = [Float](repeating: .nan, count: x.count), four = one, ref = one
            for log in [false, true] {
                if log {
                    logSoftmax(x: x, y: &one, outer: outer, n: n, inner: inner, threads: 1)
                    logSoftmax(x: x, y: &four, outer: outer, n: n, inner: inner, threads: 4)
                } else {
                    softmax(x: x, y: &one, outer: outer, n: n, inner: inner, threads: 1)
                    softmax(x: x, y: &four, outer: outer, n: n, inner: inner, threads: 4)
                }
                softmaxNaive(x: x, y: &ref, outer: outer, n: n, inner: inner, log: log)
                XCTAssertEqual(one, four, "\(log ? "logSoftmax" : "softmax") \(outer)×\(n)×\(inner) depends on the thread count")
                assertClose(four, ref, rtol: 1e-5, "\(log ? "logSoftmax" : "softmax") \(outer)×\(n)×\(inner)")
            }
        }
    }

    func testStableForHugeLogits() {
        let x: [Float] = [1000, 1001, -1000, 999]
        var y = [Float](repeating: 0, count: 4)
        softmax(x: x, y: &y, rows: 1, n: 4)
        XCTAssert(y.allSatisfy { $0.isFinite })
        XCTAssertEqual(y.reduce(0, +), 1, accuracy: 1e-6)
        logSoftmax(x: x, y: &y, rows: 1, n: 4)
        XCTAssertEqual(y[1], -Float(log(1 + exp(-1.0) + exp(-2.0))), accuracy: 1e-5)
    }

    func testSoftmaxBackwardAgainstJacobian() {
        var rng = TestRNG(81)
        for (rows, n) in Self.shapes {
            let x = rng.array(rows * n, -3, 3), dy = rng.array(rows * n)
            var y = [Float](repeating: 0, count: x.count)
            softmax(x: x, y: &y, rows: rows, n: n)
            var dx = [Float](repeating: .nan, count: x.count), ref = dx
            softmaxBackward(y: y, dy: dy, dx: &dx, rows: rows, n: n)
            softmaxBackwardNaive(y: y, dy: dy, dx: &ref, rows: rows, n: n)
            assertClose(dx, ref, rtol: 1e-5)
        }
    }

    func testLogSoftmaxBackwardByFiniteDifferences() {
        var rng = TestRNG(82)
        let (rows, n) = (2, 11)
        let x = rng.array(rows * n, -3, 3), dy = rng.array(rows * n)
        var y = [Float](repeating: 0, count: x.count)
        logSoftmax(x: x, y: &y, rows: rows, n: n)
        var dx = [Float](repeating: .nan, count: x.count)
        logSoftmaxBackward(y: y, dy: dy, dx: &dx, rows: rows, n: n)
        let f = { (x: [Float]) -> Double in
            var y = [Float](repeating: 0, count: x.count)
            logSoftmaxNaive(x: x, y: &y, rows: rows, n: n)
            return dot(y, dy)
        }
        for i in 0..<x.count {
            var xp = x, xm = x
            xp[i] += 1e-2; xm[i] -= 1e-2
            assertClose((f(xp) - f(xm)) / 2e-2, Double(dx[i]), rtol: 2e-3, "at \(i)")
        }
    }

    func testCrossEntropyAndBadIds() {
        var rng = TestRNG(83)
        let (rows, v) = (5, 13)
        let logits = rng.array(rows * v, -4, 4)
        let ids: [Int32] = [0, 12, 13, -1, 6]
        var loss = [Float](repeating: .nan, count: rows), ref = loss
        XCTAssertEqual(softmaxCrossEntropy(logits: logits, ids: ids, rows: rows, classes: v, loss: &loss), 2)
        XCTAssertEqual(softmaxCrossEntropyNaive(logits: logits, ids: ids, rows: rows, classes: v, loss: &ref), 2)
        assertClose(loss, ref, rtol: 1e-6)
        XCTAssertEqual(loss[2], 0)
        // Gradient: by finite differences of Σ dloss·loss.
        let dloss = rng.array(rows)
        var g = [Float](repeating: .nan, count: rows * v)
        XCTAssertEqual(softmaxCrossEntropyBackward(
            logits: logits, ids: ids, dloss: dloss, rows: rows, classes: v, dlogits: &g), 2)
        let f = { (x: [Float]) -> Double in
            var l = [Float](repeating: 0, count: rows)
            _ = softmaxCrossEntropyNaive(logits: x, ids: ids, rows: rows, classes: v, loss: &l)
            return dot(l, dloss)
        }
        for i in stride(from: 0, to: rows * v, by: 3) {
            var xp = logits, xm = logits
            xp[i] += 1e-2; xm[i] -= 1e-2
            assertClose((f(xp) - f(xm)) / 2e-2, Double(g[i]), rtol: 2e-3, "at \(i)")
        }
    }
}
