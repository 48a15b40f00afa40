// MARK: - Op codes: every op and elementwise function, enumerable

/// One code per op family and per elementwise or reduction function, so a
/// test can iterate every kind of op (`OpCode.allCases`) and fail when one
/// has no check; `Op.code` is the exhaustive map.
public enum OpCode: String, CaseIterable, Sendable {
    case input, parameter, state, carried, constant, randomNormal, randomUniform
    case negate, exp, log, sqrt, rsqrt, abs, tanh, sigmoid, relu, softplus, square, reciprocal, gelu, geluDerivative, leakyRelu
    case add, subtract, multiply, divide, power, maximum, minimum, greater
    case matmul, conv1d, conv2d, convInputGrad, convFilterGrad, maxPool, averagePool, maxPoolGrad, averagePoolGrad
    case reduceSum, reduceMean, reduceMax, softmax, logSoftmax
    case reshape, transpose, slice, unslice, concat, broadcast
    case gather, scatterAdd, oneHot
}

extension Op {
    public var code: OpCode {
        switch self {
        case .input: return .input
        case .parameter: return .parameter
        case .state: return .state
        case .carried: return .carried
        case .constant: return .constant
        case let .random(d, _):
            switch d {
            case .normal: return .randomNormal
            case .uniform: return .randomUniform
            }
        case let .unary(f):
            switch f {
            case .negate: return .negate
            case .exp: return .exp
            case .log: return .log
            case .sqrt: return .sqrt
            case .rsqrt: return .rsqrt
            case .abs: return .abs
            case .tanh: return .tanh
            case .sigmoid: return .sigmoid
            case .relu: return .relu
            case .softplus: return .softplus
            case .square: return .square
            case .reciprocal: return .reciprocal
            case .gelu: return .gelu
            case .geluDerivative: return .geluDerivative
            case .leakyRelu: return .leakyRelu
            }
        case let .binary(f):
            switch f {
            case .add: return .add
            case .subtract: return .subtract
            case .multiply: return .multiply
            case .divide: return .divide
            case .power: return .power
            case .maximum: return .maximum
            case .minimum: return .minimum
            case .greater: return .greater
            }
        case .matmul: return .matmul
        case let .conv(a): return a.spatialRank == 1 ? .conv1d : .conv2d
        case .convInputGrad: return .convInputGrad
        case .convFilterGrad: return .convFilterGrad
        case let .pool(p): return p.kind == .max ? .maxPool : .averagePool
        case let .poolGrad(p): return p.kind == .max ? .maxPoolGrad : .averagePoolGrad
        case let .reduce(f, _, _):
            switch f {
            case .sum: return .reduceSum
            case .mean: return .reduceMean
            case .max: return .reduceMax
            }
        case .softmax: return .softmax
        case .logSoftmax: return .logSoftmax
        case .reshape: return .reshape
        case .transpose: return .transpose
        case .slice: return .slice
        case .unslice: return .unslice
        case .concat: return .concat
        case .broadcast: return .broadcast
        case .gather: return .gather
        case .scatterAdd: return .scatterAdd
        case .oneHot: return .oneHot
        }
    }
}

// MARK: - What autodiff and the optimizing passes need to know

extension Op {
    /// Whether the same op on the same operands always gives the same value,
    /// so two such nodes may be merged and an unused one dropped. Random
    /// draws are not pure: each node is its own draw, and the backward pass
    /// reuses the forward node rather than drawing again.
    public var isPure: Bool {
        switch self {
        case .random: return false
        case .input, .parameter, .state, .carried, .constant, .unary, .binary, .matmul, .conv, .convInputGrad, .convFilterGrad, .pool, .poolGrad,
             .reduce, .softmax, .logSoftmax, .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd, .oneHot:
            return true
        }
    }

    /// Whether a gradient flows to operand `i`: not to integer ids, not
    /// through a comparison's 0/1 mask (its derivative is 0 wherever it is
    /// defined), not to the `x` of a pooling gradient (the window choice is
    /// piecewise constant in x). Leaves have no operands.
    public func isDifferentiable(operand i: Int) -> Bool {
        switch self {
        case .input, .parameter, .state, .carried, .constant, .random: return false
        case let .binary(f): return f != .greater
        case .gather, .scatterAdd: return i == 0
        case .oneHot: return false
        case .poolGrad: return i == 1
        case .unary, .matmul, .conv, .convInputGrad, .convFilterGrad, .pool, .reduce, .softmax, .logSoftmax, .reshape, .transpose,
             .slice, .unslice, .concat, .broadcast:
            return true
        }
    }
}

extension Op {
    /// Whether the op's kernel reads each operand of the result's shape at
    /// the index it writes, so its result may be written over that operand
    /// (an in-place update of a persistent buffer; the kernels of unary and
    /// binary ops allow it).
    public var readsElementwise: Bool {
        switch self {
        case .unary, .binary: return true
        case .input, .parameter, .state, .carried, .constant, .random, .matmul, .conv, .convInputGrad, .convFilterGrad, .pool, .poolGrad, .reduce,
             .softmax, .logSoftmax, .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd, .oneHot:
            return false
        }
    }
}
