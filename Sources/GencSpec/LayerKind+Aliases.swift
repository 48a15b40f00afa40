import GencSupport

// MARK: - Names users bring from other frameworks

extension LayerKind {
    /// Layer names from PyTorch, Keras and other tools, and genc's layer for
    /// each: a user who writes one is told genc's name rather than the
    /// nearest spelling (`conv2d` is `conv`, not `conv1d`). Compared
    /// case-insensitively with `_` and `-` ignored. One line each.
    static let wellKnownNames: [String: LayerKind] = [
        "conv2d": .conv,                      // torch.nn.Conv2d, keras Conv2D
        "convolution": .conv,
        "convolution2d": .conv,
        "convolution1d": .conv1d,
        "convtranspose2d": .convTranspose,    // torch.nn.ConvTranspose2d
        "conv2dtranspose": .convTranspose,    // keras Conv2DTranspose
        "transposedconv": .convTranspose,
        "transposedconv2d": .convTranspose,
        "deconv": .convTranspose,
        "deconv2d": .convTranspose,
        "deconvolution": .convTranspose,
        "upconv": .convTranspose,
        "linear": .dense,                     // torch.nn.Linear
        "fc": .dense,
        "fullyconnected": .dense,
        "denselayer": .dense,
        "innerproduct": .dense,               // Caffe's InnerProduct
        "batchnorm1d": .batchnorm,
        "batchnorm2d": .batchnorm,            // torch.nn.BatchNorm2d
        "batchnormalization": .batchnorm,     // keras BatchNormalization
        "bn": .batchnorm,
        "layernormalization": .layernorm,     // keras LayerNormalization
        "ln": .layernorm,
        "maxpool2d": .maxpool,                // torch.nn.MaxPool2d
        "maxpooling2d": .maxpool,             // keras MaxPooling2D
        "maxpooling": .maxpool,
        "avgpool2d": .avgpool,
        "averagepooling2d": .avgpool,
        "averagepool": .avgpool,
        "averagepooling": .avgpool,
        "embed": .embedding,
        "embeddings": .embedding,
        "lstmlayer": .lstm,
        "leakyrelu": .leakyRelu,              // torch.nn.LeakyReLU
        "lrelu": .leakyRelu,
        "logistic": .sigmoid,
        "view": .reshape,
        "concatenate": .concat,               // keras Concatenate
        "cat": .concat,
        "sum": .add,
        "residual": .add,
    ]

    /// The form names are compared in: lowercase, without `_`, `-` and spaces.
    static func normalized(_ name: String) -> String {
        String(name.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// genc's name for a layer written with another framework's name or
    /// another spelling of genc's (`ConvTranspose`, `batch_norm`), if any.
    /// Consulted before edit distance, which would pick `conv1d` for `conv2d`.
    static func wellKnown(_ written: String) -> LayerKind? {
        let key = normalized(written)
        if let k = allCases.first(where: { normalized($0.rawValue) == key }) { return k }
        return wellKnownNames[key]
    }

    /// " (did you mean 'conv'?)" for a misspelled or foreign layer name.
    static func suggestion(for written: String) -> String {
        if let k = wellKnown(written) { return " (did you mean '\(k.rawValue)'?)" }
        return Suggestions.suffix(for: written, among: allCases.map(\.rawValue))
    }
}

extension Activation {
    /// Activation names from other frameworks that are not layer names too
    /// (those, `LeakyReLU` or `logistic`, come from the layer table).
    static let wellKnownNames: [String: String] = [
        "identity": "linear",                 // torch.nn.Identity
        "none": "linear",
    ]

    /// " (did you mean 'leaky_relu'?)" for a misspelled or foreign activation name.
    static func suggestion(for written: String, among names: [String]) -> String {
        if let k = LayerKind.wellKnown(written), names.contains(k.rawValue) { return " (did you mean '\(k.rawValue)'?)" }
        if let a = wellKnownNames[LayerKind.normalized(written)] { return " (did you mean '\(a)'?)" }
        return Suggestions.suffix(for: written, among: names)
    }
}
