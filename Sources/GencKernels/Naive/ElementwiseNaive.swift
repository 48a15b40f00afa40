// ElementwiseNaive.swift — elementwise ops one element at a time in Double
// through libm, and broadcasting by explicit multi-index arithmetic.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Unary

extension UnaryOp {
    /// The function at one point, in Double.
    public func reference(_ x: Double) -> Double {
        switch self {
        case .neg: return -x
        case .exp: return Glibc.exp(x)
        case .log: return Glibc.log(x)
        case .sqrt: return x.squareRoot()
        case .abs: return Swift.abs(x)
        case .tanh: return Glibc.tanh(x)
        case .sigmoid: return 1 / (1 + Glibc.exp(-x))
        case .relu: return x > 0 ? x : 0
        case .leakyRelu(let s): return x >= 0 ? x : Double(s) * x
        case .softplus: return Swift.max(x, 0) + log1p(Glibc.exp(-Swift.abs(x)))
        case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .geluDerivative: return 0.5 * (1 + erf(x / 2.0.squareRoot())) + x * Glibc.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
        case .geluTanh:
            return 0.5 * x * (1 + Glibc.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .square: return x * x
        case .reciprocal: return 1 / x
        case .rsqrt: return 1 / x.squareRoot()
        }
    }

    /// The derivative at one point, in Double (JAX's values at the kinks).
    public func referenceDerivative(_ x: Double) -> Double {
        switch self {
        case .neg: return -1
        case .exp: return Glibc.exp(x)
        case .log: return 1 / x
        case .sqrt: return 0.5 / x.squareRoot()
        case .abs: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .tanh: let t = Glibc.tanh(x); return 1 - t * t
        case .sigmoid: let s = 1 / (1 + Glibc.exp(-x)); return s * (1 - s)
        case .relu: return x > 0 ? 1 : 0
        case .leakyRelu(let s): return x >= 0 ? 1 : Double(s)
        case .softplus: return 1 / (1 + Glibc.exp(-x))
        case .gelu: return 0.5 * (1 + erf(x / 2.0.squareRoot())) + x * Glibc.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
        case .geluDerivative: return Glibc.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() * (2 - x * x)
        case .geluTanh:
            let c = (2 / Double.pi).squareRoot()
            let t = Glibc.tanh(c * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        case .square: return 2 * x
        case .reciprocal: return -1 / (x * x)
        case .rsqrt: return -0.5 / (x * x.squareRoot())
        }
    }
}

/// Naive twin of `unary`. x: (count); y: (count).
public func unaryNaive(_ op: UnaryOp, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = Float(op.reference(Double(x[i]))) }
}

/// Naive twin of `unaryBackward`. x, dy, dx: (count).
public func unaryBackwardNaive(
    _ op: UnaryOp, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, count: Int
) {
    for i in 0..<count { dx[i] = Float(Double(dy[i]) * op.referenceDerivative(Double(x[i]))) }
}

// MARK: - Binary

extension BinaryOp {
    /// The function at one point, in Double.
    public func reference(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return Glibc.pow(a, b)
        case .max: return Swift.max(a, b)
        case .min: return Swift.min(a, b)
        case .greater: return a > b ? 1 : 0
        }
    }
}

/// Naive twin of `binary`: every output index is unravelled, then each
/// operand's index is formed from it (a size-1 or missing axis reads index 0).
///
/// - a: (aShape); b: (bShape); out: (the broadcast shape)
public func binaryNaive(
    _ op: BinaryOp, a: UnsafePointer<Float>, aShape: [Int],
    b: UnsafePointer<Float>, bShape: [Int], out: UnsafeMutablePointer<Float>
) {
    guard let shape = BroadcastLayout.broadcastShape(aShape, bShape) else {
        preconditionFailure("binaryNaive: shapes \(aShape) and \(bShape) do not broadcast")
    }
    let count = shape.reduce(1, *)
    for i in 0..<count {
        let index = unravel(i, shape)
        let x = Double(a[broadcastIndex(index, aShape)])
        let y = Double(b[broadcastIndex(index, bShape)])
        out[i] = Float(op.reference(x, y))
    }
}

/// The multi-index of flat index i in a row-major shape.
func unravel(_ i: Int, _ shape: [Int]) -> [Int] {
    var i = i
    var index = Array(repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        index[d] = i % shape[d]
        i /= shape[d]
    }
    return index
}

/// The flat index in `shape` (right-aligned) that output multi-index `index` reads.
func broadcastIndex(_ index: [Int], _ shape: [Int]) -> Int {
    let skip = index.count - shape.count
    var flat = 0
    for d in 0..<shape.count {
        flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[skip + d])
    }
    return flat
}
