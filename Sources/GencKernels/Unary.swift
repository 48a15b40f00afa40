// Unary.swift — elementwise unary functions and their derivatives.
//
// One `switch` per call picks a tight loop; exp, log, sqrt, tanh, sigmoid,
// softplus and the tanh form of GELU run 8 lanes at a time through
// FastMath.swift, the rest are loops the compiler vectorises, or libm's erf
// (exact GELU). Big arrays
// are split over threads in fixed blocks (Parallel.swift), so results do
// not depend on the thread count.
//
// Conventions at the kinks follow JAX: relu'(0) = 0, leaky_relu'(0) = 1,
// abs'(0) = 0.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Ops

/// An elementwise unary function.
public enum UnaryOp: Hashable, Sendable {
    case neg, exp, log, sqrt, abs, tanh, sigmoid, relu
    /// x for x >= 0, slope·x below.
    case leakyRelu(slope: Float)
    /// log(1 + e^x), computed as max(x, 0) + log1p(e^{−|x|}).
    case softplus
    /// The exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (PyTorch's default, JAX's `approximate=False`).
    case gelu
    /// The tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (JAX's default).
    case geluTanh
    /// GELU's derivative Φ(x) + x·φ(x) (the backward pass of exact GELU as a
    /// function of its own, so that it can be differentiated again).
    case geluDerivative
    case square, reciprocal
    /// 1 / √x (batchnorm's inverse standard deviation).
    case rsqrt
}

// MARK: - Forward

/// y[i] = op(x[i]).
///
/// - x: (count); y: (count), may be the same buffer as x
public func unary(
    _ op: UnaryOp, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    count: Int, threads: Int = 1
) {
    let t = count >= parallelThreshold ? threads : 1
    parallelFor(count: count, grain: elementwiseGrain, threads: t, UnaryBlocks(op: op, x: x, y: y))
}

private struct UnaryBlocks: ParallelBody {
    let op: UnaryOp, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    func run(_ r: Range<Int>) { unaryBlock(op, x + r.lowerBound, y + r.lowerBound, r.count) }
}

func unaryBlock(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    switch op {
    case .neg: for i in 0..<n { y[i] = -x[i] }
    case .exp: expRow(x, y, n)
    case .log: logRow(x, y, n)
    case .sqrt: map8(x, y, n, vsqrt)
    case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
    case .tanh: tanhRow(x, y, n)
    case .sigmoid: sigmoidRow(x, y, n)
    case .relu:
        map8(x, y, n) { v in var v = v; v.replace(with: 0, where: v .< 0); return v }
    case .leakyRelu(let slope):
        map8(x, y, n) { v in var v = v; v.replace(with: v * slope, where: v .< 0); return v }
    case .softplus: softplusRow(x, y, n)
    case .gelu:
        for i in 0..<n { y[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.707_106_78)) }
    case .geluTanh:
        map8(x, y, n) { v in 0.5 * v * (1 + vtanh(geluTanhInner(v))) }
    case .geluDerivative:
        for i in 0..<n {
            let v = x[i]
            y[i] = 0.5 * (1 + erff(v * 0.707_106_78)) + v * expf(-0.5 * v * v) * 0.398_942_28
        }
    case .square: for i in 0..<n { y[i] = x[i] * x[i] }
    case .reciprocal: for i in 0..<n { y[i] = 1 / x[i] }
    case .rsqrt: map8(x, y, n) { v in 1 / vsqrt(v) }
    }
}

// The transcendental rows, each a function of its own: one loop with the
// (transparent, FastMath.swift) function inlined and two independent vectors
// a step, and `unaryBlock`'s body stays small.

@inline(never)
private func expRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { map8(x, y, n, vexp) }

@inline(never)
private func logRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { map8(x, y, n, vlog) }

@inline(never)
private func tanhRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { map8(x, y, n, vtanh) }

@inline(never)
private func sigmoidRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { map8(x, y, n, vsigmoid) }

@inline(never)
private func softplusRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { map8(x, y, n, vsoftplus) }

// MARK: - Backward

/// dx[i] = dy[i] · op′(x[i]) — the vector-Jacobian product of `unary`.
///
/// The derivative is computed from the forward *input* x, which is always
/// valid (even where y was overwritten in place).
/// - x: (count); dy: (count); dx: (count), may be the same buffer as dy
public func unaryBackward(
    _ op: UnaryOp, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1
) {
    let t = count >= parallelThreshold ? threads : 1
    parallelFor(count: count, grain: elementwiseGrain, threads: t, UnaryBackwardBlocks(op: op, x: x, dy: dy, dx: dx))
}

private struct UnaryBackwardBlocks: ParallelBody {
    let op: UnaryOp, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
    func run(_ r: Range<Int>) {
        let o = r.lowerBound
        unaryBackwardBlock(op, x + o, dy + o, dx + o, r.count)
    }
}

private func unaryBackwardBlock(
    _ op: UnaryOp, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
    _ dx: UnsafeMutablePointer<Float>, _ n: Int
) {
    switch op {
    case .neg: for i in 0..<n { dx[i] = -dy[i] }
    case .exp: map8x2(x, dy, dx, n) { v, g in g * vexp(v) }
    case .log: for i in 0..<n { dx[i] = dy[i] / x[i] }
    case .sqrt: map8x2(x, dy, dx, n) { v, g in g * 0.5 / vsqrt(v) }
    case .abs: for i in 0..<n { dx[i] = x[i] > 0 ? dy[i] : (x[i] < 0 ? -dy[i] : 0) }
    case .tanh: map8x2(x, dy, dx, n) { v, g in let t = vtanh(v); return g * (1 - t * t) }
    case .sigmoid: map8x2(x, dy, dx, n) { v, g in let s = vsigmoid(v); return g * s * (1 - s) }
    case .relu:
        map8x2(x, dy, dx, n) { v, g in var g = g; g.replace(with: 0, where: v .<= 0); return g }
    case .leakyRelu(let slope):
        map8x2(x, dy, dx, n) { v, g in var g = g; g.replace(with: g * slope, where: v .< 0); return g }
    case .softplus: map8x2(x, dy, dx, n) { v, g in g * vsigmoid(v) }
    case .geluDerivative:
        // d/dx (Φ + xφ) = φ·(2 − x²)
        for i in 0..<n {
            let v = x[i]
            dx[i] = dy[i] * expf(-0.5 * v * v) * 0.398_942_28 * (2 - v * v)
        }
    case .gelu:
        for i in 0..<n {
            let v = x[i]
            let cdf = 0.5 * (1 + erff(v * 0.707_106_78))
            let pdf = expf(-0.5 * v * v) * 0.398_942_28
            dx[i] = dy[i] * (cdf + v * pdf)
        }
    case .geluTanh:
        map8x2(x, dy, dx, n) { v, g in
            let t = vtanh(geluTanhInner(v))
            let du = 0.797_884_56 * (1 + 3 * 0.044_715 * v * v)
            return g * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du)
        }
    case .square: for i in 0..<n { dx[i] = 2 * x[i] * dy[i] }
    case .reciprocal: for i in 0..<n { dx[i] = -dy[i] / (x[i] * x[i]) }
    case .rsqrt: map8x2(x, dy, dx, n) { v, g in let r = 1 / vsqrt(v); return -0.5 * g * r * r * r }
    }
}

// MARK: - Helpers

/// √(2/π)·(x + 0.044715·x³), the argument of tanh in the GELU approximation.
@inline(__always)
private func geluTanhInner(_ v: Vec8) -> Vec8 {
    0.797_884_56 * (v + 0.044_715 * v * v * v)
}

/// out[i] = f(x[i], g[i]), 8 lanes at a time; out may alias g.
@inline(__always)
private func map8x2(
    _ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
    _ count: Int, _ f: (Vec8, Vec8) -> Vec8
) {
    var i = 0
    while i + 8 <= count {
        store8(f(load8(x + i), load8(g + i)), out + i)
        i += 8
    }
    if i < count {
        var v = Vec8(repeating: 0), w = Vec8(repeating: 0)
        for j in 0..<(count - i) { v[j] = x[i + j]; w[j] = g[i + j] }
        let r = f(v, w)
        for j in 0..<(count - i) { out[i + j] = r[j] }
    }
}
