import XCTest
import GencKernels

final class ParallelTests: XCTestCase {
    func testBlocksCoverRangeOnceWithFixedEdges() {
        for threads in [1, 2, 5] {
            let count = 1001
            var hits = [Int](repeating: 0, count: count)
            var edges = [Int](repeating: -1, count: count)
            hits.withUnsafeMutableBufferPointer { h in
                edges.withUnsafeMutableBufferPointer { e in
                    parallelFor(count: count, grain: 64, threads: threads) { r in
                        for i in r { h[i] += 1; e[i] = r.lowerBound }
                    }
                }
            }
            XCTAssert(hits.allSatisfy { $0 == 1 }, "threads \(threads)")
            XCTAssertEqual(edges, (0..<count).map { $0 / 64 * 64 }, "threads \(threads)")
        }
        var called = false
        parallelFor(count: 0, grain: 8, threads: 4) { _ in called = true }
        XCTAssertFalse(called)
    }
}
