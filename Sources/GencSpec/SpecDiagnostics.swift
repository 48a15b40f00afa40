import GencSupport

/// The catalog of validation messages. Each has a stable ID (tests and
/// `--json` consumers match on it); the wording lives here only.
public enum SpecDiagnostics {
    static func make(_ id: String, _ message: String, _ r: SourceRange?) -> Diagnostic {
        Diagnostic(id: id, message: message, at: r)
    }

    // MARK: - Structure
    static func notMapping(_ what: String, got: String, _ r: SourceRange) -> Diagnostic {
        make("expected-mapping", "\(what) must be a mapping, got \(got)", r)
    }
    static func notList(_ what: String, got: String, _ r: SourceRange) -> Diagnostic {
        make("expected-list", "\(what) must be a list, got \(got)", r)
    }
    static func unknownKey(_ key: String, in context: String, suggestion: String, allowed: [String], _ r: SourceRange) -> Diagnostic {
        let hint = suggestion.isEmpty && allowed.count <= 12 && !allowed.isEmpty
            ? "; expected one of: \(allowed.joined(separator: ", "))" : suggestion
        return make("unknown-key", "unknown key '\(key)' in \(context)\(hint)", r)
    }
    static func missingKey(_ key: String, in context: String, _ r: SourceRange) -> Diagnostic {
        make("missing-key", "\(context) needs '\(key)'", r)
    }
    static func conflictingKeys(_ a: String, _ b: String, in context: String, _ r: SourceRange, other: SourceRange) -> Diagnostic {
        make("conflicting-keys", "\(context) takes '\(a)' or '\(b)', not both", r).note("'\(a)' is given here", at: other)
    }
    static func wrongType(_ what: String, expected: String, got: String, _ r: SourceRange) -> Diagnostic {
        make("wrong-type", "\(what) must be \(expected), got \(got)", r)
    }
    static func outOfRange(_ what: String, _ value: String, expected: String, _ r: SourceRange) -> Diagnostic {
        make("out-of-range", "\(what) is \(value); it must be \(expected)", r)
    }
    static func badName(_ what: String, _ name: String, pattern: String, _ r: SourceRange) -> Diagnostic {
        make("bad-name", "\(what) '\(name)' is not a valid name (\(pattern))", r)
    }
    static func version(_ v: String, _ r: SourceRange) -> Diagnostic {
        make("unsupported-version", "genc language version \(v) is not supported; this genc reads version 1", r)
    }
    static func emptySection(_ what: String, _ r: SourceRange) -> Diagnostic {
        make("empty-section", "\(what) is empty", r)
    }

    // MARK: - Names
    static func undefined(_ kind: String, _ name: String, suggestion: String, _ r: SourceRange) -> Diagnostic {
        make("undefined-name", "unknown \(kind) '\(name)'\(suggestion)", r)
    }
    static func shadows(_ what: String, _ name: String, other: String, _ r: SourceRange, otherRange: SourceRange?) -> Diagnostic {
        let d = make("shadowed-name", "\(what) '\(name)' has the same name as \(other)", r)
        return otherRange == nil ? d : d.note("\(other) is declared here", at: otherRange)
    }
    static func cycle(_ what: String, path: [String], _ r: SourceRange, notes: [(String, SourceRange)]) -> Diagnostic {
        var d = make("cycle", "\(what) form a cycle: \(path.joined(separator: " → "))", r)
        for (n, nr) in notes { d = d.note("'\(n)' is part of the cycle", at: nr) }
        return d
    }

    // MARK: - Dims and shapes
    static func dimArithmetic(_ message: String, _ r: SourceRange) -> Diagnostic { make("dim-arithmetic", message, r) }
    static func unknownDimOverride(_ name: String, suggestion: String) -> Diagnostic {
        Diagnostic(id: "unknown-dim-override", message: "--dim \(name): the model has no dim '\(name)'\(suggestion)", at: nil, path: "genc")
    }

    // MARK: - Layers
    static func notFinite(_ what: String, _ text: String, overflows: Bool, _ r: SourceRange) -> Diagnostic {
        make("not-finite", "\(what) is \(text), which is not a finite number" + (overflows ? " (it overflows a 64-bit float)" : ""), r)
    }
    static func underflow(_ what: String, _ text: String, expected: String, _ r: SourceRange) -> Diagnostic {
        make("out-of-range", "\(what) is \(text), which is 0 as a 64-bit float (it underflows); it must be \(expected)", r)
    }
    static func unknownLayer(_ name: String, suggestion: String, _ r: SourceRange) -> Diagnostic {
        make("unknown-layer", "unknown layer '\(name)'\(suggestion)", r)
    }
    static func unknownArgument(_ arg: String, layer: String, suggestion: String, allowed: [String], _ r: SourceRange) -> Diagnostic {
        let hint = suggestion.isEmpty ? (allowed.isEmpty ? "; it takes no arguments" : "; it takes: \(allowed.joined(separator: ", "))") : suggestion
        return make("unknown-argument", "layer '\(layer)' has no argument '\(arg)'\(hint)", r)
    }
    static func layerSemantics(_ message: String, _ r: SourceRange) -> Diagnostic { make("layer-argument", message, r) }

    // MARK: - Expressions
    static func arity(_ f: String, expected: String, got: Int, _ r: SourceRange) -> Diagnostic {
        make("arity", "'\(f)' takes \(expected), got \(got)", r)
    }
    static func unknownKeyword(_ k: String, function: String, allowed: [String], _ r: SourceRange) -> Diagnostic {
        let what = allowed.isEmpty ? "no keyword arguments" : "keyword arguments \(allowed.map { "'\($0)'" }.joined(separator: ", "))"
        return make("unknown-keyword", "'\(function)' has no keyword argument '\(k)'\(Suggestions.suffix(for: k, among: allowed)); it takes \(what)", r)
    }
    static func notRecord(_ what: String, _ r: SourceRange) -> Diagnostic {
        make("not-a-record", "\(what) has no fields; only a call of a network whose 'out:' is a list returns a record", r)
    }
    static func unknownField(_ f: String, network: String, fields: [String], _ r: SourceRange, outRange: SourceRange?) -> Diagnostic {
        make("unknown-field", "network '\(network)' returns no field '\(f)'\(Suggestions.suffix(for: f, among: fields)); its fields are \(fields.joined(separator: ", "))", r)
            .note("'\(network)' declares its outputs here", at: outRange)
    }
    static func misuse(_ message: String, _ r: SourceRange) -> Diagnostic { make("expression", message, r) }

    // MARK: - Objectives, train, sample
    static func reference(_ message: String, _ r: SourceRange) -> Diagnostic { make("reference", message, r) }
    static func dataset(_ message: String, _ r: SourceRange) -> Diagnostic { make("dataset", message, r) }
}
