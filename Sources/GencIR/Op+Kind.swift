/// How an op may fuse with its neighbours (TVM's OpPatternKind), decided by
/// kind, never by name.
public enum FusionKind: Int, Comparable, Sendable {
    /// Leaves: inputs, parameters, state, constants, random numbers.
    case leaf
    /// One output element from the same-index input elements.
    case elementwise
    /// Elementwise with NumPy broadcasting of an operand.
    case broadcast
    /// Each output element reads one input element (reshape, slice, ...).
    case injective
    /// Reads many input elements per output element.
    case reduction
    /// Its own kernel (GEMM, convolution, pooling, gather).
    case opaque

    public static func < (a: FusionKind, b: FusionKind) -> Bool { a.rawValue < b.rawValue }
}

extension Op {
    public var fusionKind: FusionKind {
        switch self {
        case .input, .parameter, .state, .constant, .random: return .leaf
        case .unary: return .elementwise
        case .binary, .broadcast: return .broadcast
        case .reshape, .transpose, .slice, .unslice, .concat, .oneHot: return .injective
        case .reduce, .softmax, .logSoftmax: return .reduction
        case .matmul, .conv, .convInputGrad, .convFilterGrad, .pool, .poolGrad, .gather, .scatterAdd: return .opaque
        }
    }
}
