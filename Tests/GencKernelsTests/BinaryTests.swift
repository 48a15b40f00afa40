import XCTest
@testable import GencKernels

final class BinaryTests: XCTestCase {
    static let ops: [BinaryOp] = [.add, .sub, .mul, .div, .pow, .max, .min, .greater]

    /// Shape pairs that broadcast: every rank 1–4, size-1 dims on either side, scalars, a 6-d pair.
    static func shapePairs(_ rng: inout TestRNG) -> [([Int], [Int])] {
        var pairs: [([Int], [Int])] = [
            ([5], [5]), ([1], [7]), ([7], [1]), ([], [3, 2]), ([4, 3], []),
            ([3, 4], [4]), ([3, 4], [3, 1]), ([3, 1], [1, 4]), ([2, 3, 4], [3, 1]),
            ([2, 1, 4], [1, 3, 1]), ([2, 3, 4, 5], [1, 3, 1, 5]), ([5], [2, 3, 4, 5]),
            ([2, 1, 3, 1, 2, 2], [1, 2, 1, 3, 2, 1]),
        ]
        while pairs.count < 40 {
            let rank = rng.int(1...4)
            let out = (0..<rank).map { _ in rng.int(1...4) }
            func operand(_ rng: inout TestRNG) -> [Int] {
                let drop = rng.int(0...rank)
                return out[drop...].map { rng.int(0...2) == 0 ? 1 : $0 }
            }
            pairs.append((operand(&rng), operand(&rng)))
        }
        return pairs
    }

    static func inputs(_ op: BinaryOp, _ shape: [Int], _ rng: inout TestRNG) -> [Float] {
        let n = shape.reduce(1, *)
        switch op {
        case .pow: return rng.array(n, 0.2, 2)
        case .div: return rng.array(n, 0.5, 2).map { rng.bool() ? $0 : -$0 }
        default: return rng.array(n, -2, 2)
        }
    }

    func testForwardAgainstNaive() {
        var rng = TestRNG(60)
        for (sa, sb) in Self.shapePairs(&rng) {
            guard let layout = BroadcastLayout(a: sa, b: sb) else { return XCTFail("\(sa) \(sb)") }
            for op in Self.ops {
                let a = Self.inputs(op, sa, &rng), b = Self.inputs(op, sb, &rng)
                var out = [Float](repeating: .nan, count: layout.count), ref = out
                binary(op, a: a, b: b, out: &out, layout: layout)
                binaryNaive(op, a: a, aShape: sa, b: b, bShape: sb, out: &ref)
                assertClose(out, ref, rtol: 1e-6, "\(op) \(sa) \(sb)")
            }
        }
    }

    func testLayoutCollapses() {
        func dims(_ a: [Int], _ b: [Int]) -> [Int]? { BroadcastLayout(a: a, b: b)?.dims }
        XCTAssertEqual(dims([2, 3, 4], [2, 3, 4]), [24])  // same shape: one loop
        XCTAssertEqual(dims([2, 3, 4], []), [24])  // scalar
        XCTAssertEqual(dims([2, 3, 4], [4]), [6, 4])  // row vector over rows
        XCTAssertEqual(dims([2, 3, 4], [3, 1]), [2, 3, 4])
        XCTAssertEqual(dims([1, 1], [1]), [1])
        XCTAssertEqual(BroadcastLayout(a: [2, 3, 4], b: [4])?.bInnerStride, 1)
        XCTAssertEqual(BroadcastLayout(a: [2, 3, 1], b: [4])?.shape, [2, 3, 4])
        XCTAssertNil(BroadcastLayout(a: [2, 3], b: [4]))
        XCTAssertNil(BroadcastLayout(output: [2, 3], a: [2, 3], b: [2, 4]))
        XCTAssertNil(BroadcastLayout(from: [2, 3], to: [3]))
        XCTAssertEqual(BroadcastLayout.broadcastShape([8, 1, 6, 1], [7, 1, 5]), [8, 7, 6, 5])
    }

    func testBroadcastCopy() {
        var rng = TestRNG(61)
        for (sa, sb) in Self.shapePairs(&rng) {
            guard let out = BroadcastLayout.broadcastShape(sa, sb),
                  let layout = BroadcastLayout(from: sa, to: out) else { return XCTFail() }
            let a = rng.array(sa.reduce(1, *))
            var y = [Float](repeating: .nan, count: layout.count), ref = y
            broadcastCopy(a, out: &y, layout: layout)
            let zeros = [Float](repeating: 0, count: out.reduce(1, *))
            binaryNaive(.add, a: a, aShape: sa, b: zeros, bShape: out, out: &ref)
            XCTAssertEqual(y, ref, "\(sa) → \(out)")
        }
    }

    /// Output-shaped partials against central differences of the forward op.
    func testBackwardByFiniteDifferences() {
        var rng = TestRNG(62)
        for op in Self.ops {
            let (sa, sb) = ([2, 3], [3])
            guard let layout = BroadcastLayout(a: sa, b: sb) else { return XCTFail() }
            let a = Self.inputs(op, sa, &rng), b = Self.inputs(op, sb, &rng)
            let dy = rng.array(layout.count)
            var da = [Float](repeating: .nan, count: layout.count), db = da
            binaryBackward(op, a: a, b: b, dy: dy, da: &da, db: &db, layout: layout)
            for i in 0..<layout.count {
                let (x, y) = (Double(a[i]), Double(b[i % 3]))
                let h = 1e-4
                let fa = (op.reference(x + h, y) - op.reference(x - h, y)) / (2 * h)
                let fb = (op.reference(x, y + h) - op.reference(x, y - h)) / (2 * h)
                assertClose(Double(da[i]), Double(dy[i]) * fa, rtol: 1e-4, "\(op) da")
                assertClose(Double(db[i]), Double(dy[i]) * fb, rtol: 1e-4, "\(op) db")
            }
        }
    }

    func testMaxMinSplitTies() {
        let layout = BroadcastLayout(a: [2], b: [2])!
        var da: [Float] = [0, 0], db: [Float] = [0, 0]
        binaryBackward(.max, a: [1, 2], b: [1, 3], dy: [4, 4], da: &da, db: &db, layout: layout)
        XCTAssertEqual(da, [2, 0])
        XCTAssertEqual(db, [2, 4])
    }

    func testThreadsGiveSameResult() {
        var rng = TestRNG(63)
        let (sa, sb) = ([300, 500], [500])
        let layout = BroadcastLayout(a: sa, b: sb)!
        let a = rng.array(150_000), b = rng.array(500)
        var one = [Float](repeating: 0, count: layout.count), two = one
        binary(.mul, a: a, b: b, out: &one, layout: layout, threads: 1)
        binary(.mul, a: a, b: b, out: &two, layout: layout, threads: 2)
        XCTAssertEqual(one, two)
    }
}
