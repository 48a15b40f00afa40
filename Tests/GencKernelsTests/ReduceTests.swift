import XCTest
import GencKernels

final class ReduceTests: XCTestCase {
    static func cases(_ rng: inout TestRNG) -> [([Int], [Int])] {
        var cs: [([Int], [Int])] = [
            ([7], [0]), ([3, 5], [1]), ([3, 5], [0]), ([3, 5], [0, 1]), ([2, 1, 4], [1]),
            ([2, 3, 4, 5], [0, 2]), ([2, 3, 4, 5], [1, 3]), ([2, 3, 4, 5], [-1]), ([4, 3], []),
            ([2, 3, 2, 3, 2, 2], [0, 3, 5]),
        ]
        while cs.count < 30 {
            let shape = (0..<rng.int(1...4)).map { _ in rng.int(1...5) }
            let axes = (0..<shape.count).filter { _ in rng.bool() }
            cs.append((shape, axes))
        }
        return cs
    }

    func testForwardAgainstNaive() {
        var rng = TestRNG(70)
        for (shape, axes) in Self.cases(&rng) {
            guard let layout = ReduceLayout(inputShape: shape, axes: axes) else { return XCTFail() }
            let x = rng.array(layout.inputCount)
            for op in [ReduceOp.sum, .mean, .max] {
                var y = [Float](repeating: .nan, count: layout.outputCount), ref = y
                reduce(op, x: x, y: &y, layout: layout)
                reduceNaive(op, x: x, inputShape: shape, axes: axes, y: &ref)
                assertClose(y, ref, rtol: 1e-6, "\(op) \(shape) \(axes)")
            }
        }
    }

    func testLayoutShapes() {
        let l = ReduceLayout(inputShape: [2, 3, 4], axes: [2, -3, 2])
        XCTAssertEqual(l?.axes, [0, 2])
        XCTAssertEqual(l?.outputShape, [1, 3, 1])
        XCTAssertEqual(l?.reduceCount, 8)
        XCTAssertNil(ReduceLayout(inputShape: [2, 3], axes: [2]))
    }

    /// Broadcast-back is the adjoint of the sum: <sum(x), dy> == <x, back(dy)>.
    func testBroadcastBackIsAdjointOfSum() {
        var rng = TestRNG(71)
        for (shape, axes) in Self.cases(&rng) {
            guard let layout = ReduceLayout(inputShape: shape, axes: axes) else { return XCTFail() }
            let x = rng.array(layout.inputCount), dy = rng.array(layout.outputCount)
            var y = [Float](repeating: 0, count: layout.outputCount)
            var dx = [Float](repeating: .nan, count: layout.inputCount)
            reduce(.sum, x: x, y: &y, layout: layout)
            reduceBroadcastBack(dy: dy, dx: &dx, layout: layout)
            assertClose(dot(y, dy), dot(x, dx), rtol: 1e-5, "\(shape) \(axes)")
            reduceBroadcastBack(dy: dy, dx: &dx, layout: layout, scale: 1 / Float(layout.reduceCount))
            reduce(.mean, x: x, y: &y, layout: layout)
            assertClose(dot(y, dy), dot(x, dx), rtol: 1e-5, "mean \(shape) \(axes)")
        }
    }

    func testMaxBackwardRoutesAndSplitsTies() {
        let layout = ReduceLayout(inputShape: [2, 3], axes: [1])!
        let x: [Float] = [1, 5, 2, 4, 4, 0]
        var y: [Float] = [0, 0]
        reduce(.max, x: x, y: &y, layout: layout)
        XCTAssertEqual(y, [5, 4])
        var dx = [Float](repeating: .nan, count: 6)
        withWorkspace(layout.outputCount) { ws in
            reduceMaxBackward(x: x, y: y, dy: [2, 3], dx: &dx, layout: layout, workspace: ws)
        }
        XCTAssertEqual(dx, [0, 2, 0, 1.5, 1.5, 0])
        // Over the leading axis too.
        let cols = ReduceLayout(inputShape: [2, 3], axes: [0])!
        var yc: [Float] = [0, 0, 0]
        reduce(.max, x: x, y: &yc, layout: cols)
        withWorkspace(cols.outputCount) { ws in
            reduceMaxBackward(x: x, y: yc, dy: [1, 1, 1], dx: &dx, layout: cols, workspace: ws)
        }
        XCTAssertEqual(yc, [4, 5, 2])
        XCTAssertEqual(dx, [0, 1, 1, 1, 0, 0])
    }

    func testThreadsGiveSameResult() {
        var rng = TestRNG(72)
        let layout = ReduceLayout(inputShape: [64, 50, 41], axes: [1])!
        let x = rng.array(layout.inputCount)
        var one = [Float](repeating: 0, count: layout.outputCount), two = one
        reduce(.sum, x: x, y: &one, layout: layout, threads: 1)
        reduce(.sum, x: x, y: &two, layout: layout, threads: 2)
        XCTAssertEqual(one, two)
    }
}
