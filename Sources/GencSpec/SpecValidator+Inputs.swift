import GencSupport
import GencSyntax

// MARK: - inputs and tensor types

extension SpecValidator {
    mutating func validateInputs(_ node: YAMLNode) -> [InputSpec] {
        guard let pairs = node.pairs else {
            report(SpecDiagnostics.notMapping("'inputs'", got: node.kindDescription, node.range))
            return []
        }
        if pairs.isEmpty { report(SpecDiagnostics.emptySection("'inputs'", node.range)) }
        var out: [InputSpec] = []
        for p in pairs {
            guard declaredName(p.key, "input", as: .input) else { continue }
            let name = p.key.value
            if let d = dimRanges[name] {
                report(SpecDiagnostics.shadows("input", name, other: "the dim '\(name)'", p.key.range, otherRange: d))
                reject(name, as: .input)
                continue
            }
            guard let (type, noise) = tensorType(p.value, "input '\(name)'", key: p.key.range, allowNoise: true) else {
                reject(name, as: .input)
                continue
            }
            let input = InputSpec(name: name, range: p.key.range, type: type, noise: noise)
            inputs[name] = input
            out.append(input)
        }
        return out
    }

    /// `[shape]` or `{shape, dtype, sample}` (sample only where `allowNoise`).
    mutating func tensorType(_ node: YAMLNode, _ what: String, key: SourceRange, allowNoise: Bool) -> (TensorTypeSpec, NoiseSpec?)? {
        if node.items != nil {
            guard let s = shape(node, "the shape of \(what)") else { return nil }
            return (TensorTypeSpec(shape: s, dtype: .f32, range: node.range), nil)
        }
        let allowed = allowNoise ? ["shape", "dtype", "sample"] : ["shape", "dtype"]
        guard node.pairs != nil else {
            report(SpecDiagnostics.wrongType(what, expected: allowNoise ? "a shape list or a mapping {shape, dtype, sample}" : "a shape list or a mapping {shape, dtype}",
                                             got: node.kindDescription, node.range))
            return nil
        }
        guard let f = mapping(node, what, owner: key, allowed: allowed, required: ["shape"]),
              let shapeNode = f["shape"], let s = shape(shapeNode.value, "the shape of \(what)") else {
            return nil
        }
        var dtype = DType.f32
        if let d = f["dtype"] {
            guard let text = string(d.value, "the dtype of \(what)") else { return nil }
            guard let t = DType(rawValue: text) else {
                report(SpecDiagnostics.outOfRange("the dtype of \(what)", "'\(text)'", expected: "f32 or i32\(Suggestions.suffix(for: text, among: DType.allCases.map(\.rawValue)))", d.value.range))
                return nil
            }
            dtype = t
        }
        var noise: NoiseSpec?
        if let n = f["sample"] {
            guard let spec = noiseSpec(n.value, what) else { return nil }
            if dtype == .i32 {
                report(SpecDiagnostics.misuse("\(what) is i32, but 'sample:' draws floating-point noise", n.key.range))
                return nil
            }
            noise = spec
        }
        // A misspelt key ('smaple:') is reported; the declaration is not taken
        // without it, or its uses would be judged as what it was not meant to be.
        guard !f.hasUnknownKeys else { return nil }
        return (TensorTypeSpec(shape: s, dtype: dtype, range: shapeNode.value.range), noise)
    }

    /// `normal`, `uniform`, `{normal: {mean, std}}`, `{uniform: {low, high}}`.
    mutating func noiseSpec(_ node: YAMLNode, _ what: String) -> NoiseSpec? {
        let kinds = ["normal", "uniform"]
        if let s = node.scalar, s.style == .plain, !s.isNull {
            switch s.value {
            case "normal": return .normal(mean: 0, std: 1)
            case "uniform": return .uniform(low: 0, high: 1)
            default:
                report(SpecDiagnostics.outOfRange("'sample' of \(what)", "'\(s.value)'", expected: "normal or uniform\(Suggestions.suffix(for: s.value, among: kinds))", node.range))
                return nil
            }
        }
        guard let pairs = node.pairs, pairs.count == 1 else {
            report(SpecDiagnostics.wrongType("'sample' of \(what)", expected: "normal, uniform, {normal: {mean, std}} or {uniform: {low, high}}",
                                             got: node.kindDescription, node.range))
            return nil
        }
        let p = pairs[0]
        switch p.key.value {
        case "normal":
            if p.value.scalar?.isNull == true { return .normal(mean: 0, std: 1) }
            guard let f = mapping(p.value, "normal noise", owner: p.key.range, allowed: ["mean", "std"]) else { return nil }
            let mean = f["mean"].map { number($0.value, "the mean") } ?? 0
            let std = f["std"].map { number($0.value, "the std", expected: "greater than 0") { $0 > 0 } } ?? 1
            guard let mean, let std else { return nil }
            return .normal(mean: mean, std: std)
        case "uniform":
            if p.value.scalar?.isNull == true { return .uniform(low: 0, high: 1) }
            guard let f = mapping(p.value, "uniform noise", owner: p.key.range, allowed: ["low", "high"]) else { return nil }
            let low = f["low"].map { number($0.value, "low") } ?? 0
            let high = f["high"].map { number($0.value, "high") } ?? 1
            guard let low, let high else { return nil }
            guard low < high else {
                report(SpecDiagnostics.outOfRange("the uniform range", "[\(low), \(high))", expected: "non-empty (low < high)", p.value.range))
                return nil
            }
            return .uniform(low: low, high: high)
        default:
            report(SpecDiagnostics.unknownKey(p.key.value, in: "'sample' of \(what)", suggestion: Suggestions.suffix(for: p.key.value, among: kinds),
                                              allowed: kinds, p.key.range))
            return nil
        }
    }
}
