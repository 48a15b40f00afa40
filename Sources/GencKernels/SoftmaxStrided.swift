// SoftmaxStrided.swift — softmax and log-softmax over any axis: the tensor
// viewed as (outer, n, inner), normalised along n for each of the
// outer × inner lanes.
//
// inner == 1 is the last axis: the row kernels in Softmax.swift. For
// inner > 1 the lanes are contiguous, so eight lanes at a time go through
// one max, one exp-and-sum and one scale pass over the n rows, in registers,
// with no scratch memory. Outer blocks are split over threads.

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
    forEachLaneGroup(x, y, outer: outer, n: n, inner: inner, threads: threads) { src, dst, lanes in
        let m = laneMax(src, n: n, inner: inner, lanes: lanes)
        var total = Vec8(repeating: 0)
        for i in 0..<n {
            let e = vexp(loadLanes(src + i * inner, lanes) - m)
            total += e
            storeLanes(e, dst + i * inner, lanes)
        }
        let scale = 1 / total
        for i in 0..<n { storeLanes(loadLanes(UnsafePointer(dst + i * inner), lanes) * scale, dst + i * inner, lanes) }
    }
}

/// y = log_softmax(x) along the middle axis of (outer, n, inner).
///
/// - x, y: (outer, n, inner); y may be the same buffer as x
public func logSoftmax(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int, threads: Int = 1) {
    if inner == 1 { return logSoftmax(x: x, y: y, rows: outer, n: n, threads: threads) }
    forEachLaneGroup(x, y, outer: outer, n: n, inner: inner, threads: threads) { src, dst, lanes in
        let m = laneMax(src, n: n, inner: inner, lanes: lanes)
        var total = Vec8(repeating: 0)
        for i in 0..<n { total += vexp(loadLanes(src + i * inner, lanes) - m) }
        // Unused lanes hold 0: log(1) keeps them finite.
        var logSum = Vec8(repeating: 0)
        for l in 0..<8 { logSum[l] = l < lanes ? logf(total[l]) : 0 }
        for i in 0..<n { storeLanes((loadLanes(src + i * inner, lanes) - m) - logSum, dst + i * inner, lanes) }
    }
}

// MARK: - Helpers

/// Calls `body` for each group of up to 8 contiguous lanes of each outer
/// block: the group's first element in x and in y, and its lane count.
@inline(__always)
private func forEachLaneGroup(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int, threads: Int,
                              _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
    let t = outer * n * inner >= parallelThreshold ? threads : 1
    parallelFor(count: outer, grain: max(1, elementwiseGrain / max(1, n * inner)), threads: t) { range in
        for o in range {
            let base = o * n * inner
            var j = 0
            while j < inner {
                body(x + base + j, y + base + j, min(8, inner - j))
                j += 8
            }
        }
    }
}

/// The first `lanes` floats at p (the rest 0).
@inline(__always)
private func loadLanes(_ p: UnsafePointer<Float>, _ lanes: Int) -> Vec8 {
    if lanes == 8 { return load8(p) }
    var v = Vec8(repeating: 0)
    for l in 0..<lanes { v[l] = p[l] }
    return v
}

@inline(__always)
private func storeLanes(_ v: Vec8, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
    if lanes == 8 { return store8(v, p) }
    for l in 0..<lanes { p[l] = v[l] }
}

/// The per-lane maximum over the n rows.
@inline(__always)
private func laneMax(_ p: UnsafePointer<Float>, n: Int, inner: Int, lanes: Int) -> Vec8 {
    var m = Vec8(repeating: -.infinity)
    for i in 0..<n {
        let v = loadLanes(p + i * inner, lanes)
        m.replace(with: v, where: v .> m)
    }
    return m
}
