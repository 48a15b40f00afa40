// Binary.swift — elementwise binary functions with NumPy broadcasting, and
// their vector-Jacobian products.
//
// The layout (BroadcastLayout.swift) turns any broadcast into rows of one
// contiguous inner loop in which each operand either steps by 1 or stays
// put; each of those three inner loops is written out so the compiler
// vectorises it. Same shape, scalar, and row-vector-over-rows are just the
// layouts with one row, a stride-0 operand, and a stride-0 outer dimension.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Ops

/// An elementwise binary function.
public enum BinaryOp: Hashable, Sendable {
    case add, sub, mul, div, pow, max, min
    /// 1 where a > b, else 0 (a mask; its partials are 0).
    case greater
}

protocol BinaryFunction { static func apply(_ a: Float, _ b: Float) -> Float }
enum AddF: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubF: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MulF: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivF: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
enum PowF: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { powf(a, b) } }
enum MaxF: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a > b ? a : b } }
enum MinF: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a < b ? a : b } }
enum GreaterF: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a > b ? 1 : 0 } }

// MARK: - Forward

/// out = a ⊙ b with NumPy broadcasting.
///
/// - a: `layout`'s a shape; b: its b shape
/// - out: `layout.shape`, overwritten; may alias an operand of the same shape
public func binary(
    _ op: BinaryOp, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    out: UnsafeMutablePointer<Float>, layout: BroadcastLayout, threads: Int = 1
) {
    switch op {
    case .add: binaryRows(AddF.self, a, b, out, layout, threads)
    case .sub: binaryRows(SubF.self, a, b, out, layout, threads)
    case .mul: binaryRows(MulF.self, a, b, out, layout, threads)
    case .div: binaryRows(DivF.self, a, b, out, layout, threads)
    case .pow: binaryRows(PowF.self, a, b, out, layout, threads)
    case .max: binaryRows(MaxF.self, a, b, out, layout, threads)
    case .min: binaryRows(MinF.self, a, b, out, layout, threads)
    case .greater: binaryRows(GreaterF.self, a, b, out, layout, threads)
    }
}

@inline(__always)
private func binaryRows<F: BinaryFunction>(
    _: F.Type, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
    _ out: UnsafeMutablePointer<Float>, _ layout: BroadcastLayout, _ threads: Int
) {
    forRows(layout, threads: threads, BinaryRow<F>(a: a, b: b, out: out, layout: layout))
}

private struct BinaryRow<F: BinaryFunction>: IndexBody {
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>
    let layout: BroadcastLayout
    func run(_ r: Int) {
        let n = layout.innerCount
        let (oa, ob) = layout.offsets(ofRow: r)
        let (x, y, z) = (a + oa, b + ob, out + r * n)
        switch (layout.aInnerStride, layout.bInnerStride) {
        case (1, 1): for i in 0..<n { z[i] = F.apply(x[i], y[i]) }
        case (1, _): let v = y[0]; for i in 0..<n { z[i] = F.apply(x[i], v) }
        case (_, 1): let u = x[0]; for i in 0..<n { z[i] = F.apply(u, y[i]) }
        default: z.update(repeating: F.apply(x[0], y[0]), count: n)
        }
    }
}

// MARK: - Backward

/// The vector-Jacobian product of `binary`, at the *output* shape:
/// da = dy · ∂(a⊙b)/∂a and db = dy · ∂(a⊙b)/∂b, each (layout.shape).
///
/// Sum them over the broadcast axes (`reduce(.sum, …)`) to get the
/// gradients of a and b. Conventions follow JAX: max/min split a tie evenly
/// (0.5 each); ∂pow/∂b is 0 where a == 0.
/// - a, b: as for `binary`; dy: (layout.shape)
/// - da, db: (layout.shape), overwritten; nil to skip
public func binaryBackward(
    _ op: BinaryOp, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    dy: UnsafePointer<Float>, da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
    layout: BroadcastLayout, threads: Int = 1
) {
    forRows(layout, threads: threads, BinaryBackwardRow(op: op, a: a, b: b, dy: dy, da: da, db: db, layout: layout))
}

private struct BinaryBackwardRow: IndexBody {
    let op: BinaryOp, a: UnsafePointer<Float>, b: UnsafePointer<Float>, dy: UnsafePointer<Float>
    let da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?
    let layout: BroadcastLayout
    func run(_ r: Int) {
        let n = layout.innerCount
        let (sa, sb) = (layout.aInnerStride, layout.bInnerStride)
        let (oa, ob) = layout.offsets(ofRow: r)
        let base = r * n
        for i in 0..<n {
            let (x, y, g) = (a[oa + i * sa], b[ob + i * sb], dy[base + i])
            let (gx, gy) = binaryPartials(op, x, y)
            da?[base + i] = g * gx
            db?[base + i] = g * gy
        }
    }
}

/// (∂f/∂a, ∂f/∂b) of one binary op at (a, b).
@inline(__always)
func binaryPartials(_ op: BinaryOp, _ a: Float, _ b: Float) -> (Float, Float) {
    switch op {
    case .add: return (1, 1)
    case .sub: return (1, -1)
    case .mul: return (b, a)
    case .div: return (1 / b, -a / (b * b))
    case .pow:
        let p = powf(a, b)
        let gb = a == 0 ? 0 : p * logf(a)
        return (b == 0 ? 0 : b * powf(a, b - 1), gb)
    case .max: return a > b ? (1, 0) : (a < b ? (0, 1) : (0.5, 0.5))
    case .min: return a < b ? (1, 0) : (a > b ? (0, 1) : (0.5, 0.5))
    case .greater: return (0, 0)
    }
}
