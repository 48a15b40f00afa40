/// The arguments each layer takes, main argument first (LANGUAGE.md §3 and
/// docs/language.md). The table drives the short forms, "did you mean" for
/// argument names, and the required-argument checks.
struct LayerArgument {
    enum Kind {
        /// An integer >= 1 (or a dim expression).
        case size
        /// A size or a pair [h, w].
        case sizePair
        /// An integer >= 0 or a pair [h, w] of them.
        case nonNegativePair
        /// Like `nonNegativePair`, or `same`.
        case padding
        /// A real number in [0, 1).
        case rate
        /// A real number in [0, 1].
        case fraction
        /// A real number > 0.
        case positive
        /// Any real number.
        case real
        case bool
        case activation
        /// A shape without the batch dim; one extent may be -1.
        case shape
        /// An integer axis (negative counts from the end).
        case axis
    }
    var name: String
    var kind: Kind
    var required: Bool = false
}

extension LayerKind {
    /// The arguments of this layer kind; the first is the main argument of
    /// the short form `- KIND: VALUE`.
    var arguments: [LayerArgument] {
        let conv: [LayerArgument] = [
            .init(name: "filters", kind: .size, required: true), .init(name: "kernel", kind: .sizePair, required: true),
            .init(name: "stride", kind: .sizePair), .init(name: "padding", kind: .padding),
            .init(name: "activation", kind: .activation), .init(name: "bias", kind: .bool),
        ]
        switch self {
        case .dense:
            return [.init(name: "units", kind: .size, required: true), .init(name: "activation", kind: .activation), .init(name: "bias", kind: .bool)]
        case .conv, .conv1d: return conv
        case .convTranspose: return conv + [.init(name: "output_padding", kind: .nonNegativePair)]
        case .batchnorm: return [.init(name: "momentum", kind: .fraction), .init(name: "eps", kind: .positive)]
        case .layernorm: return [.init(name: "eps", kind: .positive)]
        case .dropout: return [.init(name: "rate", kind: .rate, required: true)]
        case .embedding: return [.init(name: "vocab", kind: .size, required: true), .init(name: "dim", kind: .size, required: true)]
        case .lstm:
            return [.init(name: "units", kind: .size, required: true), .init(name: "layers", kind: .size),
                    .init(name: "return_sequences", kind: .bool)]
        case .maxpool, .avgpool:
            return [.init(name: "kernel", kind: .sizePair, required: true), .init(name: "stride", kind: .sizePair),
                    .init(name: "padding", kind: .nonNegativePair)]
        case .reshape: return [.init(name: "shape", kind: .shape, required: true)]
        case .leakyRelu: return [.init(name: "slope", kind: .real)]
        case .softmax: return [.init(name: "axis", kind: .axis)]
        case .concat: return [.init(name: "axis", kind: .axis)]
        case .flatten, .relu, .tanh, .sigmoid, .softplus, .gelu, .add: return []
        }
    }
}
