// SoftmaxStrided.swift — softmax and log-softmax over any axis: the tensor
// viewed as (outer, n, inner), normalised along n for each of the
// outer × inner lanes.
//
// inner == 1 is the last axis: the row kernels in Softmax.swift. For
// inner > 1 the outer × inner lanes are taken 8 at a time, in order: one
// max, one exp-and-sum and one scale pass over the n rows, in registers,
// with no scratch memory. Eight lanes inside one outer block are
// contiguous (one vector load per row); a group that crosses into the next
// block (inner not a multiple of 8, or inner < 8) gathers its lanes, so
// every exp still fills 8 lanes. Groups are split over threads in fixed
// blocks, so a softmax over axis 0 (outer == 1) is parallel too, and each
// lane is computed by one thread in one order: results do not depend on
// the thread count.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// y = softmax(x) along the middle axis of (outer, n, inner).
///
/// - x, y: (outer, n, inner); y may be the same buffer as x
public func softmax(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int, threads: Int = 1) {
    if inner == 1 { return softmax(x: x, y: y, rows: outer, n: n, threads: threads) }
    forEachLaneGroup(outer: outer, n: n, inner: inner, threads: threads, SoftmaxLanes(x: x, y: y, n: n))
}

private struct SoftmaxLanes: LaneGroupBody {
    let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, n: Int
    func run(_ g: LaneGroup) {
        let m = laneMax(x, g, n: n)
        var total = Vec8(repeating: 0)
        for i in 0..<n {
            let e = vexp(g.load(x, row: i) - m)
            total += e
            g.store(e, y, row: i)
        }
        let scale = 1 / total
        for i in 0..<n { g.store(g.load(UnsafePointer(y), row: i) * scale, y, row: i) }
    }
}

/// y = log_softmax(x) along the middle axis of (outer, n, inner).
///
/// - x, y: (outer, n, inner); y may be the same buffer as x
public func logSoftmax(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int, threads: Int = 1) {
    if inner == 1 { return logSoftmax(x: x, y: y, rows: outer, n: n, threads: threads) }
    forEachLaneGroup(outer: outer, n: n, inner: inner, threads: threads, LogSoftmaxLanes(x: x, y: y, n: n))
}

private struct LogSoftmaxLanes: LaneGroupBody {
    let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, n: Int
    func run(_ g: LaneGroup) {
        let m = laneMax(x, g, n: n)
        var total = Vec8(repeating: 0)
        for i in 0..<n { total += vexp(g.load(x, row: i) - m) }
        // Unused lanes hold 0: log(1) keeps them finite.
        var logSum = Vec8(repeating: 0)
        for l in 0..<8 { logSum[l] = l < g.lanes ? logf(total[l]) : 0 }
        for i in 0..<n { g.store((g.load(x, row: i) - m) - logSum, y, row: i) }
    }
}

// MARK: - Helpers

/// Up to 8 lanes of an (outer, n, inner) tensor: where each lane's first
/// row starts, and the step from one row to the next (`inner`).
private struct LaneGroup {
    /// 1...8.
    var lanes: Int
    /// The lanes are consecutive elements from `first` (one vector load per row).
    var contiguous: Bool
    var first: Int
    var offsets: SIMD8<Int>
    var rowStride: Int

    @inline(__always)
    func load(_ p: UnsafePointer<Float>, row i: Int) -> Vec8 {
        let r = i * rowStride
        if contiguous { return load8(p + first + r) }
        var v = Vec8(repeating: 0)
        for l in 0..<lanes { v[l] = p[offsets[l] + r] }
        return v
    }

    @inline(__always)
    func store(_ v: Vec8, _ p: UnsafeMutablePointer<Float>, row i: Int) {
        let r = i * rowStride
        if contiguous { return store8(v, p + first + r) }
        for l in 0..<lanes { p[offsets[l] + r] = v[l] }
    }
}

/// Calls `body` for each group of 8 lanes (the last may have fewer), the
/// outer × inner lanes taken in order.
@inline(__always)
private func forEachLaneGroup<Body: LaneGroupBody>(outer: Int, n: Int, inner: Int, threads: Int, _ body: Body) {
    let lanes = outer * inner
    let groups = (lanes + 7) / 8
    let t = lanes * n >= parallelThreshold ? threads : 1
    parallelFor(count: groups, grain: max(1, elementwiseGrain / max(1, 8 * n)), threads: t,
                LaneGroups(body: body, n: n, inner: inner, lanes: lanes))
}

/// What is done to one group of up to 8 lanes.
private protocol LaneGroupBody {
    func run(_ group: LaneGroup)
}

/// The lane groups of a block of group indices.
private struct LaneGroups<Body: LaneGroupBody>: ParallelBody {
    let body: Body, n: Int, inner: Int, lanes: Int

    func run(_ range: Range<Int>) {
        for g in range {
            let l0 = g * 8
            let count = min(8, lanes - l0)
            let (o, j) = l0.quotientAndRemainder(dividingBy: inner)
            let first = o * n * inner + j
            var group = LaneGroup(lanes: count, contiguous: count == 8 && j + 8 <= inner, first: first,
                                  offsets: SIMD8(repeating: first), rowStride: inner)
            if !group.contiguous {
                for l in 0..<count {
                    let (ol, jl) = (l0 + l).quotientAndRemainder(dividingBy: inner)
                    group.offsets[l] = ol * n * inner + jl
                }
            }
            body.run(group)
        }
    }
}

/// The per-lane maximum over the n rows (unused lanes: 0).
@inline(__always)
private func laneMax(_ p: UnsafePointer<Float>, _ g: LaneGroup, n: Int) -> Vec8 {
    var m = Vec8(repeating: -.infinity)
    for i in 0..<n {
        let v = g.load(p, row: i)
        m.replace(with: v, where: v .> m)
    }
    return m
}
