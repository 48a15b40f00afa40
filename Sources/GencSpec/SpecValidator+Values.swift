import GencSupport
import GencSyntax

/// A mapping's entries by key, each with its key's range.
struct Fields {
    var entries: [String: YAMLPair]
    var order: [String]
    /// Whether the mapping had keys outside the allowed ones (reported).
    var hasUnknownKeys = false
    subscript(_ key: String) -> YAMLPair? { entries[key] }
}

// MARK: - Reading values, reporting what is wrong with them

extension SpecValidator {
    /// Checks that `node` is a mapping whose keys are all in `allowed` and that
    /// has every key in `required`. Unknown keys get a "did you mean";
    /// missing keys are reported at `ownerForMissing` (the key that
    /// introduced the mapping), or at the mapping itself.
    mutating func mapping(_ node: YAMLNode, _ context: String, owner: SourceRange, allowed: [String], required: [String] = [],
                          ownerForMissing: SourceRange? = nil) -> Fields? {
        guard let pairs = node.pairs else {
            report(SpecDiagnostics.notMapping(context, got: node.kindDescription, node.range))
            return nil
        }
        var entries: [String: YAMLPair] = [:]
        var order: [String] = []
        var unknown = false
        for p in pairs {
            if !allowed.contains(p.key.value) {
                unknown = true
                var d = SpecDiagnostics.unknownKey(p.key.value, in: context, suggestion: Suggestions.suffix(for: p.key.value, among: allowed),
                                                   allowed: allowed, p.key.range)
                if node.isFlow, p.key.value.contains(where: { "()[]*+".contains($0) }) {
                    d = d.note("inside { }, a comma ends the value: quote an expression that contains commas (\"mean(f(x), axis: 1)\")", at: node.range)
                }
                report(d)
                continue
            }
            entries[p.key.value] = p
            order.append(p.key.value)
        }
        for k in required where entries[k] == nil {
            report(SpecDiagnostics.missingKey(k, in: context, ownerForMissing ?? owner))
        }
        return Fields(entries: entries, order: order, hasUnknownKeys: unknown)
    }

    /// A plain or quoted string (numbers and booleans are refused, so a
    /// typo like `to: 1` is caught).
    mutating func string(_ node: YAMLNode, _ what: String) -> String? {
        guard let s = node.scalar, !(s.style == .plain && (s.isNull || s.bool != nil || s.isNumeric)) else {
            report(SpecDiagnostics.wrongType(what, expected: "a string", got: node.kindDescription, node.range))
            return nil
        }
        return s.value
    }

    mutating func bool(_ node: YAMLNode, _ what: String) -> Bool? {
        guard let b = node.scalar?.bool else {
            report(SpecDiagnostics.wrongType(what, expected: "true or false", got: node.kindDescription, node.range))
            return nil
        }
        return b
    }

    /// A real number; `check` says what is in range, `expected` says it in words.
    mutating func number(_ node: YAMLNode, _ what: String, expected: String = "a number",
                         _ check: (Double) -> Bool = { _ in true }) -> Double? {
        guard let s = node.scalar, s.style == .plain, let n = NumberSyntax.parse(s.value) else {
            report(SpecDiagnostics.wrongType(what, expected: "a number", got: node.kindDescription, node.range))
            return nil
        }
        let v: Double
        switch n {
        case let .integer(i): v = Double(i)
        case .overflow: v = Double(s.value) ?? .infinity
        case let .float(f): v = f
        }
        guard v.isFinite else {
            // 1e309, -1e400, .inf: say so, rather than that it is out of range.
            let lower = s.value.lowercased()
            report(SpecDiagnostics.notFinite(what, s.value, overflows: !lower.contains("inf") && !lower.contains("nan"), node.range))
            return nil
        }
        guard check(v) else {
            // 1e-400 is read as 0: say so, or "0 is not greater than 0" is a riddle.
            let mantissa = s.value.prefix { $0 != "e" && $0 != "E" }
            if v == 0, mantissa.contains(where: { ("1"..."9").contains($0) }) {
                report(SpecDiagnostics.underflow(what, s.value, expected: expected, node.range))
            } else {
                report(SpecDiagnostics.outOfRange(what, s.value, expected: expected, node.range))
            }
            return nil
        }
        return v
    }

    /// An integer: a literal, or (where `dimsAllowed`) an integer expression
    /// over dims such as `4 * units`. Checked against `minimum`.
    mutating func integer(_ node: YAMLNode, _ what: String, minimum: Int? = 1, dimsAllowed: Bool = true) -> Int? {
        guard let s = node.scalar, !(s.style == .plain && (s.isNull || s.bool != nil)) else {
            report(SpecDiagnostics.wrongType(what, expected: "an integer", got: node.kindDescription, node.range))
            return nil
        }
        var value: Int?
        if s.style == .plain, let n = NumberSyntax.parse(s.value) {
            switch n {
            case let .integer(i): value = i
            case .overflow:
                report(SpecDiagnostics.dimArithmetic("\(what) \(s.value) does not fit in 64 bits", node.range))
                return nil
            case .float:
                report(SpecDiagnostics.wrongType(what, expected: "an integer", got: node.kindDescription, node.range))
                return nil
            }
        } else if dimsAllowed {
            guard let e = parse(s) else { return nil }
            value = evaluateInteger(e, what)
        } else {
            report(SpecDiagnostics.wrongType(what, expected: "an integer", got: node.kindDescription, node.range))
            return nil
        }
        guard let v = value else { return nil }
        if let minimum, v < minimum {
            report(SpecDiagnostics.outOfRange(what, String(v), expected: minimum == 1 ? "at least 1" : "at least \(minimum)", node.range))
            return nil
        }
        return v
    }

    /// An integer or a pair `[h, w]` of them (kernels, strides, padding).
    mutating func integerPair(_ node: YAMLNode, _ what: String, minimum: Int) -> (Int, Int)? {
        if let items = node.items {
            guard items.count == 2 else {
                report(SpecDiagnostics.wrongType(what, expected: "an integer or a list of 2 integers [height, width]",
                                                 got: "a list of \(items.count)", node.range))
                return nil
            }
            guard let a = integer(items[0], what, minimum: minimum), let b = integer(items[1], what, minimum: minimum) else { return nil }
            return (a, b)
        }
        guard let v = integer(node, what, minimum: minimum) else { return nil }
        return (v, v)
    }

    /// A name that must be an identifier.
    mutating func identifier(_ node: YAMLNode, _ what: String) -> String? {
        guard let s = string(node, what) else { return nil }
        guard Self.isIdentifier(s) else {
            report(SpecDiagnostics.badName(what, s, pattern: "letters, digits and '_', not starting with a digit", node.range))
            return nil
        }
        return s
    }

    /// Checks a key used as a declared name; a bad one is reported, and
    /// registered as rejected when `kind` says what it declares.
    mutating func declaredName(_ key: YAMLScalarNode, _ what: String, as kind: DeclarationKind? = nil) -> Bool {
        guard Self.isIdentifier(key.value) else {
            report(SpecDiagnostics.badName(what, key.value, pattern: "letters, digits and '_', not starting with a digit", key.range))
            if let kind { reject(key.value, as: kind) }
            return false
        }
        return true
    }

    /// Parses a scalar as an expression, reporting syntax errors.
    mutating func parse(_ s: YAMLScalar) -> Expr? {
        switch ExprParser.parse(s, in: file) {
        case let .success(e): return e
        case let .failure(d):
            report(d)
            return nil
        }
    }

    /// Parses a node as an expression (strings and plain numbers).
    mutating func expression(_ node: YAMLNode, _ what: String) -> Expr? {
        guard let s = node.scalar, !(s.style == .plain && (s.isNull || s.bool != nil)) else {
            report(SpecDiagnostics.wrongType(what, expected: "an expression (a string)", got: node.kindDescription, node.range))
            return nil
        }
        return parse(s)
    }

    /// A node as a list (a single item is not promoted).
    mutating func list(_ node: YAMLNode, _ what: String) -> [YAMLNode]? {
        guard let items = node.items else {
            report(SpecDiagnostics.notList(what, got: node.kindDescription, node.range))
            return nil
        }
        return items
    }

    /// A name or a list of names (`update: g` or `update: [g, d]`).
    mutating func nameList(_ node: YAMLNode, _ what: String) -> [Located<String>]? {
        let items = node.items ?? [node]
        var out: [Located<String>] = []
        for i in items {
            guard let s = string(i, what) else { return nil }
            out.append(Located(s, i.range))
        }
        return out
    }
}
