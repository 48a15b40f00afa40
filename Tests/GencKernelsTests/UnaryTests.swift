import XCTest
import GencKernels

final class UnaryTests: XCTestCase {
    static let ops: [UnaryOp] = [
        .neg, .exp, .log, .sqrt, .abs, .tanh, .sigmoid, .relu, .leakyRelu(slope: 0.2),
        .softplus, .gelu, .geluTanh, .geluDerivative, .square, .reciprocal, .rsqrt,
    ]

    /// Inputs inside each op's domain, away from where finite differences break down.
    static func inputs(_ op: UnaryOp, _ count: Int, _ rng: inout TestRNG) -> [Float] {
        switch op {
        case .log, .sqrt, .reciprocal, .rsqrt: return rng.array(count, 0.1, 4)
        case .exp: return rng.array(count, -20, 20)
        default: return rng.array(count, -6, 6)
        }
    }

    func testForwardAgainstNaive() {
        var rng = TestRNG(50)
        for op in Self.ops {
            for count in [1, 7, 8, 9, 33, 100] {
                let x = Self.inputs(op, count, &rng)
                var y = [Float](repeating: .nan, count: count), ref = y
                unary(op, x: x, y: &y, count: count)
                unaryNaive(op, x: x, y: &ref, count: count)
                // Relative per element: exp spans many magnitudes.
                for i in 0..<count {
                    XCTAssertEqual(y[i], ref[i], accuracy: 2e-6 * max(1, abs(ref[i])), "\(op) x=\(x[i])")
                }
            }
        }
    }

    func testBackwardAgainstNaiveDerivative() {
        var rng = TestRNG(51)
        for op in Self.ops {
            let count = 37
            let x = Self.inputs(op, count, &rng), dy = rng.array(count)
            var dx = [Float](repeating: .nan, count: count), ref = dx
            unaryBackward(op, x: x, dy: dy, dx: &dx, count: count)
            unaryBackwardNaive(op, x: x, dy: dy, dx: &ref, count: count)
            for i in 0..<count {
                XCTAssertEqual(dx[i], ref[i], accuracy: 1e-5 * max(1, abs(ref[i])), "\(op) x=\(x[i])")
            }
        }
    }

    /// The naive derivative is the derivative of the naive function (central differences in Double).
    func testNaiveDerivativeByFiniteDifferences() {
        var rng = TestRNG(52)
        for op in Self.ops {
            for x in Self.inputs(op, 25, &rng) where abs(x) > 1e-2 {
                let h = 1e-5
                let fd = (op.reference(Double(x) + h) - op.reference(Double(x) - h)) / (2 * h)
                assertClose(op.referenceDerivative(Double(x)), fd, rtol: 1e-6, "\(op) at \(x)")
            }
        }
    }

    /// Relative accuracy where values get tiny or huge (softplus(−80) ≈ e^−80, log near 0).
    func testWideRangeRelativeAccuracy() {
        let cases: [(UnaryOp, [Float])] = [
            (.softplus, [-100, -80, -30, -1e-3, 0, 1e-3, 15, 30, 100]),
            (.exp, [-100, -87, -20, 0, 1e-6, 20, 88]),
            (.log, [Float(1e-40 as Double), 1e-30, 1e-3, 0.999, 1, 1.001, 1e30, 3e38]),
            (.sigmoid, [-80, -20, -1e-4, 0, 1e-4, 20]),
            (.tanh, [-9, -1e-4, 1e-8, 0.6, 0.65, 3]),
        ]
        for (op, xs) in cases {
            var y = [Float](repeating: .nan, count: xs.count)
            unary(op, x: xs, y: &y, count: xs.count)
            for (i, x) in xs.enumerated() {
                let want = op.reference(Double(x))
                XCTAssertEqual(Double(y[i]), want, accuracy: 1e-6 * abs(want) + 1e-44, "\(op)(\(x))")
            }
        }
    }

    func testKinksFollowJAX() {
        let x: [Float] = [0, 0, 0]
        let dy: [Float] = [1, 1, 1]
        var dx: [Float] = [9, 9, 9]
        unaryBackward(.relu, x: x, dy: dy, dx: &dx, count: 1)
        XCTAssertEqual(dx[0], 0)
        unaryBackward(.leakyRelu(slope: 0.1), x: x, dy: dy, dx: &dx, count: 1)
        XCTAssertEqual(dx[0], 1)
        unaryBackward(.abs, x: x, dy: dy, dx: &dx, count: 1)
        XCTAssertEqual(dx[0], 0)
    }

    func testInPlaceAndThreadsGiveSameResult() {
        var rng = TestRNG(53)
        let count = 140_001  // above the parallel threshold, odd
        let x = rng.array(count, -5, 5)
        for op in [UnaryOp.tanh, .sigmoid, .relu] {
            var one = [Float](repeating: 0, count: count)
            unary(op, x: x, y: &one, count: count, threads: 1)
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { p in
                unary(op, x: p.baseAddress!, y: p.baseAddress!, count: count, threads: 3)
            }
            XCTAssertEqual(one, inPlace, "\(op)")
        }
    }
}
