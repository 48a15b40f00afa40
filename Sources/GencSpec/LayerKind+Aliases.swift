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
        "avgpool2d": .avgpool,
        "averagepooling2d": .avgpool,
        "averagepool": .avgpool,
        "embed": .embedding,
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

    /// genc's name for a layer written with another framework's name, if any.
    static func wellKnown(_ written: String) -> LayerKind? {
        let key = String(written.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" && $0 != " " })
        if let k = LayerKind(rawValue: key) { return k }
        return wellKnownNames[key]
    }

    /// " (did you mean 'conv'?)" for a misspelled or foreign layer name.
    static func suggestion(for written: String) -> String {
        if let k = wellKnown(written) { return " (did you mean '\(k.rawValue)'?)" }
        return Suggestions.suffix(for: written, among: allCases.map(\.rawValue))
    }
}
