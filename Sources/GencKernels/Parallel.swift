// Parallel.swift — a deterministic parallel loop over fixed blocks.
//
// The index range is cut into blocks whose boundaries depend only on the
// count and the grain, never on the thread count, so a body that writes only
// its own block (and reduces only within it) gives bit-identical results on
// any number of threads. The threads are genc's own (WorkerPool.swift).

/// Calls `body` once per block of `0..<count`, on up to `threads` threads.
///
/// Blocks are `grain` indices long (the last may be shorter); block `b` is
/// `b*grain ..< min((b+1)*grain, count)`. With `threads <= 1` or a single
/// block everything runs on the calling thread, in order. `body` must be safe
/// to run concurrently on disjoint blocks.
public func parallelFor(
    count: Int, grain: Int, threads: Int,
    _ body: (Range<Int>) -> Void
) {
    precondition(grain > 0, "parallelFor: grain must be positive")
    if count <= 0 { return }
    let blocks = (count + grain - 1) / grain
    if threads <= 1 || blocks == 1 {
        // No closure values here: the single-threaded path allocates nothing.
        var start = 0
        while start < count {
            let end = min(start + grain, count)
            body(start..<end)
            start = end
        }
        return
    }
    // Each worker takes a contiguous run of blocks; the block edges stay fixed.
    let workers = min(threads, blocks)
    WorkerPool.shared.run(workers) { w in
        let first = blocks * w / workers
        let last = blocks * (w + 1) / workers
        for b in first..<last { body(b * grain ..< min((b + 1) * grain, count)) }
    }
}

/// The grain used by the elementwise kernels: big enough that a block costs
/// far more than a dispatch, small enough to split a 1M-float loop.
public let elementwiseGrain = 1 << 15

/// Below this many elements an elementwise kernel does not fan out.
let parallelThreshold = 1 << 17
