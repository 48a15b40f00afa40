import Foundation
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
                    parallelFor(count: count, grain: 64, threads: threads,
                                MarkBlocks(hits: h.baseAddress!, edges: e.baseAddress!))
                }
            }
            XCTAssert(hits.allSatisfy { $0 == 1 }, "threads \(threads)")
            XCTAssertEqual(edges, (0..<count).map { $0 / 64 * 64 }, "threads \(threads)")
        }
        var hits = [Int](repeating: 0, count: 1), edges = [Int](repeating: -1, count: 1)
        hits.withUnsafeMutableBufferPointer { h in
            edges.withUnsafeMutableBufferPointer { e in
                parallelFor(count: 0, grain: 8, threads: 4, MarkBlocks(hits: h.baseAddress!, edges: e.baseAddress!))
            }
        }
        XCTAssertEqual(hits, [0])
    }

    /// Many short jobs back to back (the pool's fast path), jobs nested in a
    /// job, and jobs posted from several threads at once: every block runs
    /// exactly once, and the sums are the same as on one thread.
    func testWorkerPoolNestedConcurrentAndRepeatedJobs() {
        func job(_ threads: Int, nested: Bool) -> [Int] {
            var out = [Int](repeating: 0, count: 64)
            out.withUnsafeMutableBufferPointer { o in
                let base = o.baseAddress!
                parallelFor(count: 64, grain: 4, threads: threads, Job(base: base, threads: threads, nested: nested))
            }
            return out
        }
        let expected = (0..<64).map { $0 * 28 }
        for _ in 0..<2000 { XCTAssertEqual(job(2, nested: false), expected) }
        for threads in [2, 3, 8] { XCTAssertEqual(job(threads, nested: true), expected, "threads \(threads)") }
        // Four threads posting jobs at once: one gets the workers, the others run inline.
        let results = UnsafeMutablePointer<Bool>.allocate(capacity: 4)
        results.initialize(repeating: false, count: 4)
        defer { results.deallocate() }
        let threads = (0..<4).map { t in
            Thread {
                var ok = true
                for _ in 0..<300 { ok = ok && job(2, nested: t % 2 == 0) == expected }
                results[t] = ok
            }
        }
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { usleep(1000) }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: results, count: 4)), [true, true, true, true])
    }
}

/// Counts the visits of each index and records the start of its block.
private struct MarkBlocks: ParallelBody {
    let hits: UnsafeMutablePointer<Int>, edges: UnsafeMutablePointer<Int>
    func run(_ r: Range<Int>) { for i in r { hits[i] += 1; edges[i] = r.lowerBound } }
}

/// base[i] = i · (0 + 1 + … + 7) = 28 i, directly or through a nested job.
private struct Job: ParallelBody {
    let base: UnsafeMutablePointer<Int>, threads: Int, nested: Bool
    func run(_ r: Range<Int>) {
        for i in r {
            if nested {
                // A job inside a job runs on the thread that posts it.
                var inner = [Int](repeating: 0, count: 8)
                inner.withUnsafeMutableBufferPointer { b in
                    parallelFor(count: 8, grain: 1, threads: threads, Products(p: b.baseAddress!, i: i))
                }
                base[i] = inner.reduce(0, +)
            } else {
                base[i] = i * 28
            }
        }
    }
}

private struct Products: ParallelBody {
    let p: UnsafeMutablePointer<Int>, i: Int
    func run(_ q: Range<Int>) { for j in q { p[j] = i * j } }
}
