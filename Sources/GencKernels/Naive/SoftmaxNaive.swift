// SoftmaxNaive.swift — softmax, log-softmax and cross-entropy in Double,
// straight from their formulas.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Naive twin of `softmax`. x, y: (rows, n).
public func softmaxNaive(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
    for r in 0..<rows {
        let lse = logSumExpNaive(x + r * n, n)
        for i in 0..<n { y[r * n + i] = Float(exp(Double(x[r * n + i]) - lse)) }
    }
}

/// Naive twin of `logSoftmax`. x, y: (rows, n).
public func logSoftmaxNaive(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
    for r in 0..<rows {
        let lse = logSumExpNaive(x + r * n, n)
        for i in 0..<n { y[r * n + i] = Float(Double(x[r * n + i]) - lse) }
    }
}

/// Naive twin of the strided `softmax` (`log` for log-softmax): x, y (outer, n, inner).
public func softmaxNaive(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int, log takeLog: Bool = false) {
    for o in 0..<outer {
        for j in 0..<inner {
            let at = { (i: Int) in (o * n + i) * inner + j }
            let m = (0..<n).map { Double(x[at($0)]) }.max() ?? 0
            let lse = m + Glibc.log((0..<n).reduce(0.0) { $0 + exp(Double(x[at($1)]) - m) })
            for i in 0..<n { y[at(i)] = Float(takeLog ? Double(x[at(i)]) - lse : exp(Double(x[at(i)]) - lse)) }
        }
    }
}

/// Naive twin of `softmaxBackward`, through the full Jacobian
/// ∂y_j/∂x_i = y_j(δ_ij − y_i). y, dy, dx: (rows, n).
public func softmaxBackwardNaive(
    y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, n: Int
) {
    for r in 0..<rows {
        for i in 0..<n {
            var s = 0.0
            for j in 0..<n {
                let yi = Double(y[r * n + i]), yj = Double(y[r * n + j])
                s += Double(dy[r * n + j]) * yj * ((i == j ? 1 : 0) - yi)
            }
            dx[r * n + i] = Float(s)
        }
    }
}

/// Naive twin of `softmaxCrossEntropy` (bad ids give 0 and are counted).
public func softmaxCrossEntropyNaive(
    logits: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows: Int, classes v: Int,
    loss: UnsafeMutablePointer<Float>
) -> Int {
    var bad = 0
    for r in 0..<rows {
        let id = Int(ids[r])
        guard id >= 0 && id < v else { loss[r] = 0; bad += 1; continue }
        loss[r] = Float(logSumExpNaive(logits + r * v, v) - Double(logits[r * v + id]))
    }
    return bad
}

private func logSumExpNaive(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
    var m = -Double.infinity
    for i in 0..<n { m = max(m, Double(x[i])) }
    var s = 0.0
    for i in 0..<n { s += exp(Double(x[i]) - m) }
    return m + log(s)
}
