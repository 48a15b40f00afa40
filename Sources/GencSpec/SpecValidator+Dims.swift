import GencSupport
import GencSyntax

// MARK: - dims and integer arithmetic over them

extension SpecValidator {
    /// Validates `dims:`, applies `--dim` overrides, and evaluates every dim
    /// in dependency order (a dim may be defined from others: `half: zdim / 2`).
    mutating func validateDims(_ node: YAMLNode) -> [DimSpec] {
        guard let pairs = node.pairs else {
            report(SpecDiagnostics.notMapping("'dims'", got: node.kindDescription, node.range))
            return applyOverrides([])
        }
        struct Pending { var key: YAMLScalarNode; var literal: Int?; var expr: Expr?; var deps: [String] }
        var pending: [String: Pending] = [:]
        var order: [String] = []
        for p in pairs {
            guard declaredName(p.key, "dim", as: .dim) else { continue }
            order.append(p.key.value)
            dimRanges[p.key.value] = p.key.range
            if let o = options.dimOverrides.last(where: { $0.name == p.key.value }) {
                pending[p.key.value] = Pending(key: p.key, literal: o.value, expr: nil, deps: [])
                continue
            }
            guard let s = p.value.scalar, !(s.style == .plain && (s.isNull || s.bool != nil)) else {
                report(SpecDiagnostics.wrongType("dim '\(p.key.value)'", expected: "a positive integer or an integer expression over other dims",
                                                 got: p.value.kindDescription, p.value.range))
                continue
            }
            if s.style == .plain, let n = NumberSyntax.parse(s.value) {
                switch n {
                case let .integer(i):
                    if i < 1 {
                        report(SpecDiagnostics.outOfRange("dim '\(p.key.value)'", String(i), expected: "at least 1", p.value.range))
                        continue
                    }
                    pending[p.key.value] = Pending(key: p.key, literal: i, expr: nil, deps: [])
                case .overflow:
                    report(SpecDiagnostics.dimArithmetic("dim '\(p.key.value)' = \(s.value) does not fit in 64 bits", p.value.range))
                case .float:
                    report(SpecDiagnostics.wrongType("dim '\(p.key.value)'", expected: "an integer", got: p.value.kindDescription, p.value.range))
                }
                continue
            }
            guard let e = parse(s) else { continue }
            pending[p.key.value] = Pending(key: p.key, literal: nil, expr: e, deps: e.names)
        }
        // Kahn's algorithm over dim dependencies (no recursion, any length).
        var remaining = pending.filter { $0.value.literal == nil }
        for (n, p) in pending { if let v = p.literal { dims[n] = v } }
        var progress = true
        var ready = remaining.filter { $0.value.deps.allSatisfy { dims[$0] != nil || pending[$0] == nil } }.map(\.key)
        var dependents: [String: [String]] = [:]
        for (n, p) in remaining { for d in p.deps { dependents[d, default: []].append(n) } }
        while progress {
            progress = false
            while let n = ready.popLast() {
                guard let p = remaining.removeValue(forKey: n), let e = p.expr else { continue }
                progress = true
                if let v = evaluateInteger(e, "dim '\(n)'") {
                    if v < 1 {
                        report(SpecDiagnostics.outOfRange("dim '\(n)'", String(v), expected: "at least 1", e.range))
                    } else {
                        dims[n] = v
                    }
                }
                for d in dependents[n] ?? [] where remaining[d] != nil {
                    if remaining[d]?.deps.allSatisfy({ remaining[$0] == nil }) == true { ready.append(d) }
                }
            }
        }
        // What is left depends on itself.
        let cyclic = order.filter { remaining[$0] != nil }
        if let first = cyclic.first, let p = remaining[first] {
            report(SpecDiagnostics.cycle("dims", path: cyclic + [first], p.key.range,
                                         notes: cyclic.dropFirst().compactMap { n in remaining[n].map { (n, $0.key.range) } }))
        }
        var out: [DimSpec] = []
        for n in order {
            guard let v = dims[n], let r = dimRanges[n] else { continue }
            out.append(DimSpec(name: n, value: v, range: r, isOverridden: options.dimOverrides.contains { $0.name == n }))
        }
        return applyOverrides(out)
    }

    /// Reports overrides of dims the model does not have.
    mutating func applyOverrides(_ declared: [DimSpec]) -> [DimSpec] {
        for o in options.dimOverrides where dimRanges[o.name] == nil {
            report(SpecDiagnostics.unknownDimOverride(o.name, suggestion: Suggestions.suffix(for: o.name, among: dimRanges.keys)))
        }
        return declared
    }

    /// Evaluates integer arithmetic over dims: literals, dim names, `+ - * /`
    /// (exact division only), unary minus, `**` with a small exponent.
    /// Overflow and inexact division are errors at the operator's operands.
    mutating func evaluateInteger(_ e: Expr, _ what: String) -> Int? {
        switch e.kind {
        case let .integer(i):
            return i
        case .real:
            report(SpecDiagnostics.dimArithmetic("\(what): '\(e)' is not an integer", e.range))
            return nil
        case let .name(n):
            if let v = dims[n] { return v }
            if dimRanges[n] != nil { return nil }  // declared, but its own definition failed
            report(SpecDiagnostics.undefined("dim", n, suggestion: Suggestions.suffix(for: n, among: dimRanges.keys), e.range))
            return nil
        case let .unary(op, x):
            guard let v = evaluateInteger(x, what) else { return nil }
            return op == .negate ? -v : v
        case let .binary(op, a, b):
            guard let x = evaluateInteger(a, what), let y = evaluateInteger(b, what) else { return nil }
            var r: (Int, Bool)
            switch op {
            case .add: r = x.addingReportingOverflow(y)
            case .subtract: r = x.subtractingReportingOverflow(y)
            case .multiply: r = x.multipliedReportingOverflow(by: y)
            case .divide:
                guard y != 0 else {
                    report(SpecDiagnostics.dimArithmetic("\(what): division by zero in '\(e)'", e.range))
                    return nil
                }
                guard x % y == 0 else {
                    report(SpecDiagnostics.dimArithmetic("\(what): \(x) / \(y) is not a whole number; sizes divide exactly", e.range))
                    return nil
                }
                r = x.dividedReportingOverflow(by: y)
            case .power:
                guard y >= 0, y <= 64 else {
                    report(SpecDiagnostics.dimArithmetic("\(what): exponent \(y) is out of range 0...64", b.range))
                    return nil
                }
                r = (1, false)
                for _ in 0..<y where !r.1 { r = r.0.multipliedReportingOverflow(by: x) }
            }
            if r.1 {
                report(SpecDiagnostics.dimArithmetic("\(what): '\(e)' overflows 64-bit integers", e.range))
                return nil
            }
            return r.0
        default:
            report(SpecDiagnostics.dimArithmetic("\(what): only integers, dim names and + - * / ** are allowed in sizes, got '\(e)'", e.range))
            return nil
        }
    }

    /// A shape: a list of extents, each an integer or dim expression, each
    /// at least 1 (or -1 once, where `allowInferred`).
    mutating func shape(_ node: YAMLNode, _ what: String, allowInferred: Bool = false) -> [Int]? {
        guard let items = node.items else {
            report(SpecDiagnostics.wrongType(what, expected: "a shape (a list of sizes such as [batch, 784])", got: node.kindDescription, node.range))
            return nil
        }
        var out: [Int] = []
        var ok = true
        var inferred = false
        for i in items {
            guard let v = integer(i, "an extent of \(what)", minimum: allowInferred ? -1 : 1) else { ok = false; continue }
            if v == -1 {
                if inferred {
                    report(SpecDiagnostics.outOfRange("an extent of \(what)", "-1", expected: "-1 at most once", i.range))
                    ok = false
                }
                inferred = true
            } else if v < 1 {
                report(SpecDiagnostics.outOfRange("an extent of \(what)", String(v), expected: allowInferred ? "at least 1 (or -1 once)" : "at least 1", i.range))
                ok = false
            }
            out.append(v)
        }
        if ok {
            var total = 1
            for v in out where v > 0 {
                let (p, o) = total.multipliedReportingOverflow(by: v)
                if o || p > 1 << 40 {
                    report(SpecDiagnostics.dimArithmetic("\(what) has more than 2^40 elements", node.range))
                    return nil
                }
                total = p
            }
        }
        return ok ? out : nil
    }
}
