import GencSupport
import GencSyntax

/// A parsed argument value.
enum ArgumentValue {
    case int(Int)
    case pair(Int, Int)
    case same
    case real(Double)
    case bool(Bool)
    case activation(Activation)
    case shape([Int])
}

// MARK: - Layers

extension SpecValidator {
    /// Reads one layer: `kindKey` is the layer kind as written, `value` what
    /// follows it (nil for a bare `- relu`). `defaultName` is the layer's
    /// name unless `name:` overrides it.
    mutating func layer(kindKey: YAMLScalarNode, value: YAMLNode?, entry: SourceRange, network: String,
                        defaultName: (LayerKind) -> String) -> LayerSpec? {
        guard let kind = LayerKind(rawValue: kindKey.value) else {
            report(SpecDiagnostics.unknownLayer(kindKey.value, suggestion: LayerKind.suggestion(for: kindKey.value), kindKey.range))
            return nil
        }
        let defs = kind.arguments
        var given: [String: (YAMLNode, SourceRange)] = [:]
        var name = defaultName(kind)
        if let value, !(value.scalar?.isNull ?? false) {
            if let pairs = value.pairs {
                for p in pairs {
                    if p.key.value == "name" {
                        if let n = identifier(p.value, "a layer name") { name = n }
                        continue
                    }
                    guard defs.contains(where: { $0.name == p.key.value }) else {
                        report(SpecDiagnostics.unknownArgument(p.key.value, layer: kind.rawValue,
                                                               suggestion: Suggestions.suffix(for: p.key.value, among: defs.map(\.name) + ["name"]),
                                                               allowed: defs.map(\.name) + ["name"], p.key.range))
                        return nil
                    }
                    given[p.key.value] = (p.value, p.key.range)
                }
            } else if let main = defs.first {
                given[main.name] = (value, value.range)
            } else {
                report(SpecDiagnostics.layerSemantics("layer '\(kind.rawValue)' takes no arguments; write it as '- \(kind.rawValue)'", value.range))
                return nil
            }
        }
        var args: [String: ArgumentValue] = [:]
        var ok = true
        for d in defs {
            guard let (node, _) = given[d.name] else {
                if d.required {
                    report(SpecDiagnostics.missingKey(d.name, in: "layer '\(kind.rawValue)'", kindKey.range))
                    ok = false
                }
                continue
            }
            if let v = argument(node, d, layer: kind.rawValue) { args[d.name] = v } else { ok = false }
        }
        guard ok, let config = config(kind, args, given: given, kindRange: kindKey.range) else { return nil }
        return LayerSpec(kind: kind, qualifiedName: "\(network).\(name)", name: name, config: config,
                         kindRange: kindKey.range, range: entry)
    }

    /// Reads one argument according to its kind in the table.
    mutating func argument(_ node: YAMLNode, _ d: LayerArgument, layer: String) -> ArgumentValue? {
        let what = "'\(d.name)' of \(layer)"
        switch d.kind {
        case .size: return integer(node, what).map { .int($0) }
        case .sizePair: return integerPair(node, what, minimum: 1).map { .pair($0.0, $0.1) }
        case .nonNegativePair: return integerPair(node, what, minimum: 0).map { .pair($0.0, $0.1) }
        case .padding:
            if let s = node.scalar, s.style == .plain, s.value == "same" { return .same }
            if let s = node.scalar, s.style != .plain || (NumberSyntax.parse(s.value) == nil && !Self.isIdentifier(s.value)) {
                report(SpecDiagnostics.wrongType(what, expected: "an integer, a pair [h, w], or 'same'", got: node.kindDescription, node.range))
                return nil
            }
            return integerPair(node, what, minimum: 0).map { .pair($0.0, $0.1) }
        case .rate: return number(node, what, expected: "in [0, 1)") { $0 >= 0 && $0 < 1 }.map { .real($0) }
        case .fraction: return number(node, what, expected: "in [0, 1]") { $0 >= 0 && $0 <= 1 }.map { .real($0) }
        case .positive: return number(node, what, expected: "greater than 0") { $0 > 0 }.map { .real($0) }
        case .real: return number(node, what).map { .real($0) }
        case .bool: return bool(node, what).map { .bool($0) }
        case .axis: return integer(node, what, minimum: nil, dimsAllowed: false).map { .int($0) }
        case .shape: return shape(node, "the shape of \(layer)", allowInferred: true).map { .shape($0) }
        case .activation: return activation(node, what).map { .activation($0) }
        }
    }

    static let activationNames = ["relu", "tanh", "sigmoid", "softplus", "gelu", "softmax", "leaky_relu", "linear"]

    /// `relu` ... or `{leaky_relu: SLOPE}`.
    mutating func activation(_ node: YAMLNode, _ what: String) -> Activation? {
        if let pairs = node.pairs, pairs.count == 1, pairs[0].key.value == "leaky_relu" {
            return number(pairs[0].value, "the slope of leaky_relu").map { .leakyRelu(slope: $0) }
        }
        guard let s = node.scalar, s.style == .plain || s.style == .singleQuoted || s.style == .doubleQuoted, !s.isNull else {
            report(SpecDiagnostics.wrongType(what, expected: "an activation name or {leaky_relu: SLOPE}", got: node.kindDescription, node.range))
            return nil
        }
        switch s.value {
        case "relu": return .relu
        case "tanh": return .tanh
        case "sigmoid": return .sigmoid
        case "softplus": return .softplus
        case "gelu": return .gelu
        case "linear": return .linear
        case "softmax": return .softmax(axis: -1)
        case "leaky_relu": return .leakyRelu(slope: 0.01)
        default:
            report(SpecDiagnostics.outOfRange(what, "'\(s.value)'",
                                              expected: "one of \(Self.activationNames.joined(separator: ", "))\(Activation.suggestion(for: s.value, among: Self.activationNames))",
                                              node.range))
            return nil
        }
    }

    /// Builds the typed configuration and checks what involves several arguments.
    mutating func config(_ kind: LayerKind, _ a: [String: ArgumentValue], given: [String: (YAMLNode, SourceRange)],
                         kindRange: SourceRange) -> LayerConfig? {
        func int(_ k: String, _ d: Int) -> Int { if case let .int(v)? = a[k] { return v }; return d }
        func real(_ k: String, _ d: Double) -> Double { if case let .real(v)? = a[k] { return v }; return d }
        func flag(_ k: String, _ d: Bool) -> Bool { if case let .bool(v)? = a[k] { return v }; return d }
        func pair(_ k: String, _ d: (Int, Int)) -> (Int, Int) { if case let .pair(x, y)? = a[k] { return (x, y) }; return d }
        func act() -> Activation? { if case let .activation(v)? = a["activation"] { return v }; return nil }
        func range(_ k: String) -> SourceRange { given[k]?.0.range ?? kindRange }

        switch kind {
        case .dense:
            return .dense(units: int("units", 1), activation: act(), bias: flag("bias", true))
        case .conv, .convTranspose, .conv1d:
            var kernel = pair("kernel", (1, 1)), stride = pair("stride", (1, 1))
            var padding: ConvConfig.Padding = .explicit(0, 0)
            if case .same? = a["padding"] {
                if kind == .convTranspose {
                    report(SpecDiagnostics.layerSemantics("conv_transpose does not take padding 'same'; give the padding as a number", range("padding")))
                    return nil
                }
                if stride != (1, 1) {
                    report(SpecDiagnostics.layerSemantics("padding 'same' needs stride 1, got stride \(stride.0 == stride.1 ? String(stride.0) : "[\(stride.0), \(stride.1)]")", range("padding")))
                    return nil
                }
                if kernel.0 % 2 == 0 || (kind != .conv1d && kernel.1 % 2 == 0) || (kind == .conv1d && kernel.1 % 2 == 0) {
                    report(SpecDiagnostics.layerSemantics("padding 'same' needs an odd kernel (the padding splits evenly), got kernel \(kernel.0 == kernel.1 || kind == .conv1d ? String(kernel.1) : "[\(kernel.0), \(kernel.1)]")", range("padding")))
                    return nil
                }
                padding = .same
            } else {
                let p = pair("padding", (0, 0))
                padding = .explicit(p.0, p.1)
            }
            var outputPadding = pair("output_padding", (0, 0))
            if kind == .conv1d {
                for k in ["kernel", "stride", "padding"] where given[k]?.0.items != nil {
                    report(SpecDiagnostics.layerSemantics("conv1d takes a single '\(k)', not a pair", range(k)))
                    return nil
                }
                kernel = (1, kernel.1)
                stride = (1, stride.1)
                if case let .explicit(_, w) = padding { padding = .explicit(0, w) }
                outputPadding = (0, 0)
            }
            if kind == .convTranspose, outputPadding.0 >= stride.0 || outputPadding.1 >= stride.1 {
                report(SpecDiagnostics.layerSemantics("output_padding must be smaller than the stride (PyTorch's rule), got output_padding \(outputPadding.0) with stride \(stride.0)", range("output_padding")))
                return nil
            }
            let c = ConvConfig(filters: int("filters", 1), kernel: kernel, stride: stride, padding: padding,
                               outputPadding: outputPadding, activation: act(), bias: flag("bias", true))
            return kind == .conv ? .conv(c) : kind == .conv1d ? .conv1d(c) : .convTranspose(c)
        case .batchnorm: return .batchnorm(momentum: real("momentum", 0.1), eps: real("eps", 1e-5))
        case .layernorm: return .layernorm(eps: real("eps", 1e-5))
        case .dropout: return .dropout(rate: real("rate", 0))
        case .embedding: return .embedding(vocab: int("vocab", 1), dim: int("dim", 1))
        case .lstm: return .lstm(units: int("units", 1), layers: int("layers", 1), returnSequences: flag("return_sequences", true))
        case .maxpool, .avgpool:
            let k = pair("kernel", (1, 1))
            let s = a["stride"] == nil ? k : pair("stride", k)
            let p = pair("padding", (0, 0))
            if p.0 > k.0 / 2 || p.1 > k.1 / 2 {  // 2·p > k, without overflowing on a huge p
                report(SpecDiagnostics.layerSemantics("pooling padding must be at most half the kernel, got padding \(p.0) with kernel \(k.0)", range("padding")))
                return nil
            }
            let c = PoolConfig(kernel: k, stride: s, padding: p)
            return kind == .maxpool ? .maxpool(c) : .avgpool(c)
        case .flatten: return .flatten
        case .reshape:
            if case let .shape(s)? = a["shape"] { return .reshape(s) }
            return nil
        case .relu: return .activation(.relu)
        case .tanh: return .activation(.tanh)
        case .sigmoid: return .activation(.sigmoid)
        case .softplus: return .activation(.softplus)
        case .gelu: return .activation(.gelu)
        case .leakyRelu: return .activation(.leakyRelu(slope: real("slope", 0.01)))
        case .softmax: return .activation(.softmax(axis: int("axis", -1)))
        case .concat:
            let axis = int("axis", 1)
            if axis == 0 {
                report(SpecDiagnostics.layerSemantics("concat along axis 0 would change the batch size; use axis 1 or later", range("axis")))
                return nil
            }
            return .concat(axis: axis)
        case .add: return .add
        }
    }
}
