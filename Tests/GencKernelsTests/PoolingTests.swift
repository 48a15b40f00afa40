import XCTest
import GencKernels

final class PoolingTests: XCTestCase {
    static func geometries(_ rng: inout TestRNG) -> [Pool2DGeometry] {
        var gs = [
            Pool2DGeometry(batch: 1, channels: 1, height: 4, width: 4, kernelH: 2, kernelW: 2),
            Pool2DGeometry(batch: 2, channels: 3, height: 7, width: 5, kernelH: 3, kernelW: 2,
                           strideH: 2, strideW: 1, padH: 1, padW: 1),
            Pool2DGeometry(batch: 1, channels: 2, height: 1, width: 9, kernelH: 1, kernelW: 3,
                           strideH: 1, strideW: 2, padH: 0, padW: 1),  // 1-D pooling
        ]
        while gs.count < 12 {
            let g = Pool2DGeometry(
                batch: rng.int(1...2), channels: rng.int(1...3), height: rng.int(1...8), width: rng.int(1...8),
                kernelH: rng.int(1...4), kernelW: rng.int(1...4), strideH: rng.int(1...3), strideW: rng.int(1...3),
                padH: rng.int(0...2), padW: rng.int(0...2))
            if g.isValid { gs.append(g) }
        }
        return gs
    }

    func testMaxForwardAgainstNaive() {
        var rng = TestRNG(40)
        for g in Self.geometries(&rng) {
            let x = rng.array(g.inputCount)
            var y = [Float](repeating: .nan, count: g.outputCount), ref = y
            var arg = [Int32](repeating: -9, count: g.outputCount), argRef = arg
            maxPool2dForward(x: x, y: &y, argmax: &arg, geometry: g)
            maxPool2dForwardNaive(x: x, y: &ref, argmax: &argRef, geometry: g)
            XCTAssertEqual(y, ref, "\(g)")
            XCTAssertEqual(arg, argRef, "\(g)")
        }
    }

    /// The backward is the derivative of Σ dy·maxpool(x): checked by finite differences.
    func testMaxBackwardByFiniteDifferences() {
        var rng = TestRNG(41)
        for g in Self.geometries(&rng) {
            let x = rng.array(g.inputCount)  // distinct values: no ties
            let dy = rng.array(g.outputCount)
            var y = [Float](repeating: 0, count: g.outputCount)
            var arg = [Int32](repeating: 0, count: g.outputCount)
            maxPool2dForward(x: x, y: &y, argmax: &arg, geometry: g)
            var dx = [Float](repeating: .nan, count: g.inputCount)
            maxPool2dBackward(dy: dy, argmax: arg, dx: &dx, geometry: g)
            let f = { (x: [Float]) -> Double in
                var y = [Float](repeating: 0, count: g.outputCount)
                maxPool2dForward(x: x, y: &y, argmax: nil, geometry: g)
                return dot(y, dy)
            }
            for i in 0..<min(g.inputCount, 20) {
                var xp = x, xm = x
                xp[i] += 1e-3; xm[i] -= 1e-3
                assertClose((f(xp) - f(xm)) / 2e-3, Double(dx[i]), rtol: 1e-2, "\(g) at \(i)")
            }
        }
    }

    func testAvgForwardAgainstNaiveAndAdjoint() {
        var rng = TestRNG(42)
        for g in Self.geometries(&rng) {
            for countPadding in [true, false] {
                let x = rng.array(g.inputCount), dy = rng.array(g.outputCount)
                var y = [Float](repeating: .nan, count: g.outputCount), ref = y
                var dx = [Float](repeating: .nan, count: g.inputCount)
                avgPool2dForward(x: x, y: &y, geometry: g, countPadding: countPadding)
                avgPool2dForwardNaive(x: x, y: &ref, geometry: g, countPadding: countPadding)
                avgPool2dBackward(dy: dy, dx: &dx, geometry: g, countPadding: countPadding)
                assertClose(y, ref, rtol: 1e-6, "\(g)")
                assertClose(dot(y, dy), dot(x, dx), rtol: 1e-5, "\(g)")
            }
        }
    }

    func testPaddingCountingAtCorner() {
        // 2×2 of ones, kernel 3 pad 1 stride 2: the one window holds 4 real of 9.
        let g = Pool2DGeometry(batch: 1, channels: 1, height: 2, width: 2, kernelH: 3, kernelW: 3,
                               strideH: 2, strideW: 2, padH: 1, padW: 1)
        let x: [Float] = [1, 1, 1, 1]
        var y: [Float] = [0]
        avgPool2dForward(x: x, y: &y, geometry: g, countPadding: true)
        XCTAssertEqual(y[0], 4.0 / 9.0, accuracy: 1e-7)
        avgPool2dForward(x: x, y: &y, geometry: g, countPadding: false)
        XCTAssertEqual(y[0], 1)
    }
}
