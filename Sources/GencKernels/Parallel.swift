// Parallel.swift — a deterministic parallel loop over fixed blocks.
//
// The index range is cut into blocks whose boundaries depend only on the
// count and the grain, never on the thread count, so a body that writes only
// its own block (and reduces only within it) gives bit-identical results on
// any number of threads. The threads are genc's own (WorkerPool.swift).

/// What one block of a parallel loop does.
///
/// A struct holding what the body reads, not a closure, because handing a
/// closure to other threads makes it escaping, and Swift allocates the
/// escaping wrapper of a non-escaping closure on the heap every time: an
/// allocation per parallel call, dozens per training step. A struct is
/// handed to the workers by address and allocates nothing.
public protocol ParallelBody {
    /// Runs the block; must be safe to run concurrently with other blocks.
    func run(_ block: Range<Int>)
}

/// A loop body for one index at a time (a row, a channel), as a
/// `ParallelBody` through `EachIndex`.
protocol IndexBody {
    func run(_ index: Int)
}

/// Runs an `IndexBody` for every index of each block, in order.
struct EachIndex<Body: IndexBody>: ParallelBody {
    let body: Body
    init(_ body: Body) { self.body = body }
    @inline(__always)
    func run(_ block: Range<Int>) { for i in block { body.run(i) } }
}

/// Calls `body` once per block of `0..<count`, on up to `threads` threads.
///
/// Blocks are `grain` indices long (the last may be shorter); block `b` is
/// `b*grain ..< min((b+1)*grain, count)`. With `threads <= 1` or a single
/// block everything runs on the calling thread, in order. Allocates nothing.
public func parallelFor<Body: ParallelBody>(
    count: Int, grain: Int, threads: Int, _ body: Body
) {
    precondition(grain > 0, "parallelFor: grain must be positive")
    if count <= 0 { return }
    let blocks = (count + grain - 1) / grain
    if threads <= 1 || blocks == 1 {
        var start = 0
        while start < count {
            let end = min(start + grain, count)
            body.run(start..<end)
            start = end
        }
        return
    }
    let workers = min(threads, blocks)
    WorkerPool.shared.run(workers, BlockRuns(body: body, count: count, grain: grain, blocks: blocks, workers: workers))
}

/// Worker w's contiguous run of blocks; the block edges stay fixed.
private struct BlockRuns<Body: ParallelBody>: ParallelTasks {
    let body: Body
    let count: Int, grain: Int, blocks: Int, workers: Int

    func run(task w: Int) {
        let first = blocks * w / workers
        let last = blocks * (w + 1) / workers
        for b in first..<last { body.run(b * grain ..< min((b + 1) * grain, count)) }
    }
}

/// The grain used by the elementwise kernels: big enough that a block costs
/// far more than a dispatch, small enough to split a 1M-float loop.
public let elementwiseGrain = 1 << 15

/// Below this many elements an elementwise kernel does not fan out.
let parallelThreshold = 1 << 17
