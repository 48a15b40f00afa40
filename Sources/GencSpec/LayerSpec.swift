import GencSupport

/// The layers of LANGUAGE.md §3, v1.
public enum LayerKind: String, Sendable, CaseIterable {
    case dense, conv, convTranspose = "conv_transpose", conv1d, batchnorm, layernorm, dropout, embedding, lstm
    case maxpool, avgpool, flatten, reshape
    case relu, leakyRelu = "leaky_relu", tanh, sigmoid, softplus, gelu, softmax
    case concat, add

    /// Whether the layer has trainable parameters (so a network made only of
    /// other layers cannot be an `update:` target).
    public var ownsParameters: Bool {
        switch self {
        case .dense, .conv, .convTranspose, .conv1d, .batchnorm, .layernorm, .embedding, .lstm: return true
        default: return false
        }
    }

    /// Whether a graph node of this kind takes a list `from:`.
    public var takesSeveralInputs: Bool { self == .concat || self == .add }
}

/// A non-linearity, as a layer or as a layer's `activation:`.
public enum Activation: Sendable, Equatable {
    case relu, tanh, sigmoid, softplus, gelu, linear
    case leakyRelu(slope: Double)
    case softmax(axis: Int)

    public var name: String {
        switch self {
        case .relu: return "relu"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .softplus: return "softplus"
        case .gelu: return "gelu"
        case .linear: return "linear"
        case .leakyRelu: return "leaky_relu"
        case .softmax: return "softmax"
        }
    }
}

/// Convolution settings; pairs are (height, width), and conv1d uses the
/// second element only (its first is 1).
public struct ConvConfig: Sendable, Equatable {
    public var filters: Int
    public var kernel: (Int, Int)
    public var stride: (Int, Int)
    public enum Padding: Sendable, Equatable {
        case explicit(Int, Int)
        case same
    }
    public var padding: Padding
    public var outputPadding: (Int, Int)
    public var activation: Activation?
    public var bias: Bool

    public init(filters: Int, kernel: (Int, Int), stride: (Int, Int), padding: Padding, outputPadding: (Int, Int),
                activation: Activation?, bias: Bool) {
        self.filters = filters
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.activation = activation
        self.bias = bias
    }

    public static func == (a: ConvConfig, b: ConvConfig) -> Bool {
        a.filters == b.filters && a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding
            && a.outputPadding == b.outputPadding && a.activation == b.activation && a.bias == b.bias
    }
}

public struct PoolConfig: Sendable, Equatable {
    public var kernel: (Int, Int)
    public var stride: (Int, Int)
    public var padding: (Int, Int)
    public static func == (a: PoolConfig, b: PoolConfig) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding
    }
}

/// A layer's validated arguments, one case per family.
public enum LayerConfig: Sendable, Equatable {
    case dense(units: Int, activation: Activation?, bias: Bool)
    case conv(ConvConfig)
    case convTranspose(ConvConfig)
    case conv1d(ConvConfig)
    case batchnorm(momentum: Double, eps: Double)
    case layernorm(eps: Double)
    case dropout(rate: Double)
    case embedding(vocab: Int, dim: Int)
    case lstm(units: Int, layers: Int, returnSequences: Bool)
    case maxpool(PoolConfig)
    case avgpool(PoolConfig)
    case flatten
    /// Extents without the batch dim; at most one is -1 (inferred).
    case reshape([Int])
    case activation(Activation)
    case concat(axis: Int)
    case add
}

/// One layer of a network, with its resolved parameter-name prefix.
public struct LayerSpec: Sendable {
    public var kind: LayerKind
    /// `network.layer`: `generator.dense0`, or the graph node's name, or `name:`.
    public var qualifiedName: String
    /// The layer's own name (the part after the network's).
    public var name: String
    public var config: LayerConfig
    /// The layer kind as written (`conv` in `- conv: {...}`).
    public var kindRange: SourceRange
    /// The whole layer entry.
    public var range: SourceRange
}
