// Softmax.swift — softmax and log-softmax over the last axis, and their
// vector-Jacobian products.
//
// Numerically stable: each row is shifted by its maximum before exp, so no
// exp overflows and the largest term is exactly 1. Rows are independent
// and split over threads in fixed blocks.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Forward

/// y = softmax(x) along the last axis.
///
/// - x: (rows, n); y: (rows, n), may be the same buffer as x
public func softmax(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    rows: Int, n: Int, threads: Int = 1
) {
    forSoftmaxRows(rows: rows, n: n, threads: threads, SoftmaxRow(x: x, y: y, n: n))
}

private struct SoftmaxRow: IndexBody {
    let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, n: Int
    func run(_ r: Int) {
        let (src, dst) = (x + r * n, y + r * n)
        let m = max8(src, n)
        map8(src, dst, n) { v in vexp(v - m) }
        let scale = 1 / sum8(dst, n)
        for i in 0..<n { dst[i] *= scale }
    }
}

/// y = log_softmax(x) = (x − max) − log Σ exp(x − max), along the last axis.
///
/// - x: (rows, n); y: (rows, n), may be the same buffer as x
public func logSoftmax(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    rows: Int, n: Int, threads: Int = 1
) {
    forSoftmaxRows(rows: rows, n: n, threads: threads, LogSoftmaxRow(x: x, y: y, n: n))
}

private struct LogSoftmaxRow: IndexBody {
    let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, n: Int
    func run(_ r: Int) {
        let (src, dst) = (x + r * n, y + r * n)
        let (m, logSum) = maxAndLogSumExp(src, n)
        for j in 0..<n { dst[j] = (src[j] - m) - logSum }
    }
}

// MARK: - Backward

/// dx = y ⊙ (dy − Σ dy⊙y), the VJP of softmax given its output y.
///
/// - y: (rows, n), softmax's output; dy: (rows, n)
/// - dx: (rows, n), overwritten; may alias dy
public func softmaxBackward(
    y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
    rows: Int, n: Int, threads: Int = 1
) {
    forSoftmaxRows(rows: rows, n: n, threads: threads, SoftmaxBackwardRow(y: y, dy: dy, dx: dx, n: n))
}

private struct SoftmaxBackwardRow: IndexBody {
    let y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, n: Int
    func run(_ r: Int) {
        let (yr, gr, out) = (y + r * n, dy + r * n, dx + r * n)
        var dot: Float = 0
        for i in 0..<n { dot += yr[i] * gr[i] }
        for i in 0..<n { out[i] = yr[i] * (gr[i] - dot) }
    }
}

/// dx = dy − exp(y)·Σ dy, the VJP of log-softmax given its output y.
///
/// - y: (rows, n), logSoftmax's output; dy: (rows, n)
/// - dx: (rows, n), overwritten; may alias dy
public func logSoftmaxBackward(
    y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
    rows: Int, n: Int, threads: Int = 1
) {
    forSoftmaxRows(rows: rows, n: n, threads: threads, LogSoftmaxBackwardRow(y: y, dy: dy, dx: dx, n: n))
}

private struct LogSoftmaxBackwardRow: IndexBody {
    let y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, n: Int
    func run(_ r: Int) {
        let (yr, gr, out) = (y + r * n, dy + r * n, dx + r * n)
        let total = sum8(gr, n)
        // dx[i] = dy[i] - exp(y[i]) * total, 8 lanes at a time.
        var i = 0
        while i + 8 <= n {
            store8(load8(gr + i) - vexp(load8(yr + i)) * total, out + i)
            i += 8
        }
        while i < n { out[i] = gr[i] - vexp(Vec8(repeating: yr[i]))[0] * total; i += 1 }
    }
}

// MARK: - Helpers

/// The row maximum m and log Σ exp(x[i] − m); logsumexp(x) = m + that.
/// Kept apart so callers can form (x − m) − log Σ, which loses less than
/// x − (m + log Σ) when |x| is large. An all −inf row gives (−inf, NaN).
@inline(__always)
func maxAndLogSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> (max: Float, logSum: Float) {
    let m = max8(x, n)
    var acc = Vec8(repeating: 0)
    var i = 0
    while i + 8 <= n {
        acc += vexp(load8(x + i) - m)
        i += 8
    }
    var total = acc.sum()
    while i < n { total += vexp(Vec8(repeating: x[i] - m))[0]; i += 1 }
    return (m, logf(total))
}

@inline(__always)
private func forSoftmaxRows<Body: IndexBody>(rows: Int, n: Int, threads: Int, _ body: Body) {
    let t = rows * n >= parallelThreshold ? threads : 1
    parallelFor(count: rows, grain: max(1, elementwiseGrain / max(1, n)), threads: t, EachIndex(body))
}
