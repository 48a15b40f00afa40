import XCTest
import GencKernels

final class StridedRegionTests: XCTestCase {
    func testTransposeAgainstNaive() {
        var rng = TestRNG(100)
        var cases: [([Int], [Int])] = [([3, 4], [1, 0]), ([2, 3, 4], [0, 2, 1]), ([2, 1, 3, 5], [3, 1, 0, 2]), ([7], [0])]
        while cases.count < 16 {
            let shape = (0..<rng.int(1...4)).map { _ in rng.int(1...5) }
            var perm = Array(0..<shape.count)
            for i in stride(from: perm.count - 1, to: 0, by: -1) { perm.swapAt(i, rng.int(0...i)) }
            cases.append((shape, perm))
        }
        for (shape, perm) in cases {
            guard let region = StridedRegion(permuting: shape, by: perm) else { return XCTFail() }
            let x = rng.array(shape.reduce(1, *))
            var out = [Float](repeating: .nan, count: region.count), ref = out
            gatherRegion(x, region: region, out: &out)
            transposeNaive(x, shape: shape, perm: perm, out: &ref)
            XCTAssertEqual(out, ref, "\(shape) \(perm)")
            XCTAssertEqual(region.shape, perm.map { shape[$0] })
        }
        XCTAssertNil(StridedRegion(permuting: [2, 3], by: [0, 0]))
    }

    func testSliceAgainstNaiveAndAdjoint() {
        var rng = TestRNG(101)
        for _ in 0..<20 {
            let shape = (0..<rng.int(1...4)).map { _ in rng.int(1...6) }
            let starts = shape.map { rng.int(0...($0 - 1)) }
            let ends = zip(shape, starts).map { rng.int(($1 + 1)...$0) }
            let steps = shape.map { _ in rng.int(1...3) }
            guard let region = StridedRegion(slicing: shape, starts: starts, ends: ends, steps: steps) else {
                return XCTFail()
            }
            let x = rng.array(shape.reduce(1, *))
            var out = [Float](repeating: .nan, count: region.count), ref = out
            gatherRegion(x, region: region, out: &out)
            sliceNaive(x, shape: shape, starts: starts, ends: ends, steps: steps, out: &ref)
            XCTAssertEqual(out, ref, "\(shape) \(starts) \(ends) \(steps)")
            // The gradient: scatter dy into zeros; <slice(x), dy> == <x, scatter(dy)>.
            let dy = rng.array(region.count)
            var dx = [Float](repeating: 0, count: x.count)
            scatterRegion(dy, region: region, into: &dx)
            XCTAssertEqual(dot(out, dy), dot(x, dx), accuracy: 1e-9)
        }
        XCTAssertNil(StridedRegion(slicing: [4], starts: [3], ends: [5]))
        XCTAssertNil(StridedRegion(slicing: [4], starts: [0], ends: [4], steps: [0]))
    }

    func testConcatAsScatterAndIds() {
        // concat([2,3], [2,1]) on axis 1 → [2,4].
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [7, 8]
        var out = [Float](repeating: 0, count: 8)
        scatterRegion(a, region: StridedRegion(slicing: [2, 4], starts: [0, 0], ends: [2, 3])!, into: &out)
        scatterRegion(b, region: StridedRegion(slicing: [2, 4], starts: [0, 3], ends: [2, 4])!, into: &out)
        XCTAssertEqual(out, [1, 2, 3, 7, 4, 5, 6, 8])
        // text[:, 1:] on Int32 token ids.
        let ids: [Int32] = [1, 2, 3, 4, 5, 6]
        var tail = [Int32](repeating: 0, count: 4)
        gatherRegion(ids, region: StridedRegion(slicing: [2, 3], starts: [0, 1], ends: [2, 3])!, out: &tail)
        XCTAssertEqual(tail, [2, 3, 5, 6])
    }
}
