/// How an op may fuse with its neighbours (TVM's OpPatternKind), decided by
/// kind, never by name.
public enum FusionKind: Int, Comparable, Sendable {
    /// Leaves: inputs, parameters, state, constants.
    case leaf
    /// One output element from the same-index input elements (and random
    /// draws: counter-based, element i is a function of the seed and i).
    case elementwise
    /// Elementwise with NumPy broadcasting of an operand.
    case broadcast
    /// Each output element reads one input element (reshape, slice, ...).
    case injective
    /// Reads many input elements per output element.
    case reduction
    /// A contraction (GEMM, convolution) whose result elementwise consumers
    /// may finish in its epilogue, while it is still in cache.
    case outElementwiseFusable
    /// Its own kernel (pooling, gather, scatter).
    case opaque

    public static func < (a: FusionKind, b: FusionKind) -> Bool { a.rawValue < b.rawValue }
}

extension Op {
    public var fusionKind: FusionKind {
        switch self {
        case .input, .parameter, .state, .carried, .constant: return .leaf
        case .unary, .random: return .elementwise
        case .binary, .broadcast: return .broadcast
        case .reshape, .transpose, .slice, .unslice, .concat, .oneHot: return .injective
        case .reduce, .softmax, .logSoftmax: return .reduction
        case .matmul, .conv, .convInputGrad, .convFilterGrad: return .outElementwiseFusable
        case .pool, .poolGrad, .gather, .scatterAdd: return .opaque
        }
    }
}
