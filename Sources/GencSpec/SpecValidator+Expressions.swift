import GencSupport
import GencSyntax

/// What a name in an expression refers to.
enum NameBinding {
    case dim
    case input
    case argument
    /// A layer node of a network graph.
    case layerNode
    /// An expression node; its expression tells whether it is a record.
    case expressionNode(Expr)
    /// A node whose definition had errors (already reported): known, but
    /// nothing more is checked about its uses.
    case unresolved
}

/// The names visible to an expression, and what it may do.
struct ExpressionScope {
    var names: [String: NameBinding] = [:]
    /// Used in messages: "network 'encoder'", "objective 'elbo'".
    var owner: String
}

/// What checking an expression found out.
struct ExpressionFacts {
    var calledNetworks: Set<String> = []
    /// The first call of each network, for cycle reports.
    var callSites: [String: SourceRange] = [:]
    var usedNames: Set<String> = []
}

// MARK: - Expressions: names, functions, arity, fields

extension SpecValidator {
    /// Checks every name and call of `e` against `scope`, built-ins and
    /// networks; returns what it uses.
    mutating func check(_ e: Expr, in scope: ExpressionScope) -> ExpressionFacts {
        var facts = ExpressionFacts()
        check(e, scope, &facts, position: .value)
        return facts
    }

    enum Position { case value, keyword }

    private mutating func check(_ e: Expr, _ scope: ExpressionScope, _ facts: inout ExpressionFacts, position: Position) {
        switch e.kind {
        case .integer, .real:
            return
        case .bool:
            if position != .keyword {
                report(SpecDiagnostics.misuse("'\(e)' is a boolean; booleans only appear as keyword arguments (keepdims: true)", e.range))
            }
        case .list:
            report(SpecDiagnostics.misuse("a list is only allowed as the 'axis:' of a reduction", e.range))
        case let .name(n):
            facts.usedNames.insert(n)
            // Declared but rejected: already reported at the declaration.
            guard scope.names[n] == nil, !isRejected(n, as: .input), !isRejected(n, as: .dim) else { return }
            if networkNames[n] != nil {
                report(SpecDiagnostics.misuse("'\(n)' is a network; call it: \(n)(...)", e.range))
            } else if Builtin(rawValue: n) != nil {
                report(SpecDiagnostics.misuse("'\(n)' is a function; call it: \(n)(...)", e.range))
            } else {
                report(SpecDiagnostics.undefined("name", n, suggestion: Suggestions.suffix(for: n, among: scope.names.keys), e.range))
            }
        case let .unary(_, x):
            check(x, scope, &facts, position: .value)
        case let .binary(_, a, b):
            check(a, scope, &facts, position: .value)
            check(b, scope, &facts, position: .value)
        case let .call(callee, args, keywords):
            for a in args { check(a, scope, &facts, position: .value) }
            if let b = Builtin(rawValue: callee.name) {
                checkBuiltin(b, callee, args, keywords, scope, &facts)
            } else if networkNames[callee.name] != nil {
                facts.calledNetworks.insert(callee.name)
                if facts.callSites[callee.name] == nil { facts.callSites[callee.name] = callee.range }
                checkNetworkCall(callee, args, keywords, scope, &facts)
            } else {
                for k in keywords { check(k.value, scope, &facts, position: .value) }
                let candidates = Builtin.allCases.map(\.rawValue) + Array(networkNames.keys)
                var d = SpecDiagnostics.undefined("function or network", callee.name,
                                                  suggestion: Suggestions.suffix(for: callee.name, among: candidates), callee.range)
                if scope.names[callee.name] != nil {
                    d = SpecDiagnostics.misuse("'\(callee.name)' is a value, not a function or network", callee.range)
                }
                report(d)
            }
        case let .field(base, field):
            check(base, scope, &facts, position: .value)
            guard let (network, fields, outRange) = record(base, scope) else {
                if isCheckable(base, scope) {
                    report(SpecDiagnostics.notRecord("'\(base)'", field.range))
                }
                return
            }
            if !fields.contains(field.name) {
                report(SpecDiagnostics.unknownField(field.name, network: network, fields: fields, field.range, outRange: outRange))
            }
        case let .subscripted(base, subs):
            check(base, scope, &facts, position: .value)
            for s in subs {
                switch s {
                case let .index(i): _ = indexValue(i, scope)
                case let .slice(a, b, c):
                    for x in [a, b, c].compactMap({ $0 }) { _ = indexValue(x, scope) }
                    if let c, let step = c.integerLiteral, step <= 0 {
                        report(SpecDiagnostics.misuse("a slice step must be positive, got \(step)", c.range))
                    }
                }
            }
        }
    }

    /// Indices and slice bounds are integer arithmetic over literals and dims.
    private mutating func indexValue(_ e: Expr, _ scope: ExpressionScope) -> Int? {
        for n in e.names where dims[n] == nil {
            // A dim whose definition failed: already reported.
            if dimRanges[n] != nil { return nil }
            if let b = scope.names[n] {
                if case .unresolved = b { return nil }
                report(SpecDiagnostics.misuse("indices and slice bounds are integers or dims; '\(n)' is a tensor", e.range))
                return nil
            }
            // An input or dim whose declaration was rejected: already reported.
            if isRejected(n, as: .input) || isRejected(n, as: .dim) { return nil }
        }
        return evaluateInteger(e, "an index")
    }

    private mutating func checkBuiltin(_ b: Builtin, _ callee: Identifier, _ args: [Expr], _ keywords: [KeywordArgument],
                                       _ scope: ExpressionScope, _ facts: inout ExpressionFacts) {
        if args.count != b.arity {
            report(SpecDiagnostics.arity(b.rawValue, expected: b.arity == 1 ? "1 argument" : "\(b.arity) arguments", got: args.count, callee.range))
        }
        for k in keywords {
            guard b.keywords.contains(k.name.name) else {
                report(SpecDiagnostics.unknownKeyword(k.name.name, function: b.rawValue, allowed: b.keywords, k.name.range))
                continue
            }
            switch k.name.name {
            case "keepdims":
                if case .bool = k.value.kind {} else {
                    report(SpecDiagnostics.misuse("'keepdims' must be true or false, got '\(k.value)'", k.value.range))
                }
            case "axis":
                let axes: [Expr]
                if case let .list(xs) = k.value.kind { axes = xs } else { axes = [k.value] }
                if axes.isEmpty { report(SpecDiagnostics.misuse("'axis' lists no axes", k.value.range)) }
                var seen: Set<Int> = []
                for a in axes {
                    guard let v = a.integerLiteral else {
                        report(SpecDiagnostics.misuse("an axis must be an integer literal, got '\(a)'", a.range))
                        continue
                    }
                    if !seen.insert(v).inserted { report(SpecDiagnostics.misuse("axis \(v) is listed twice", a.range)) }
                }
            default:
                break
            }
        }
    }

    private mutating func checkNetworkCall(_ callee: Identifier, _ args: [Expr], _ keywords: [KeywordArgument],
                                           _ scope: ExpressionScope, _ facts: inout ExpressionFacts) {
        for k in keywords { check(k.value, scope, &facts, position: .value) }
        guard let params = networkArguments[callee.name] else { return }
        let names = params.map(\.name)
        var bound = Set<String>()
        for (i, _) in args.enumerated() where i < names.count { bound.insert(names[i]) }
        if args.count > names.count {
            report(SpecDiagnostics.arity(callee.name, expected: names.count == 1 ? "1 argument (\(names[0]))" : "\(names.count) arguments (\(names.joined(separator: ", ")))",
                                         got: args.count + keywords.count, callee.range)
                .note("'\(callee.name)' declares its arguments here", at: networkInRanges[callee.name]))
            return
        }
        for k in keywords {
            guard names.contains(k.name.name) else {
                report(SpecDiagnostics.unknownKeyword(k.name.name, function: callee.name, allowed: names, k.name.range))
                return
            }
            if !bound.insert(k.name.name).inserted {
                report(SpecDiagnostics.misuse("argument '\(k.name.name)' of '\(callee.name)' is given twice", k.name.range))
                return
            }
        }
        let missing = names.filter { !bound.contains($0) }
        if !missing.isEmpty {
            report(SpecDiagnostics.arity(callee.name, expected: names.count == 1 ? "1 argument (\(names[0]))" : "\(names.count) arguments (\(names.joined(separator: ", ")))",
                                         got: args.count + keywords.count, callee.range)
                .note("'\(callee.name)' declares its arguments here", at: networkInRanges[callee.name]))
        }
    }

    /// If `e` evaluates to a network's record, the network, its fields and
    /// where its `out:` is.
    func record(_ e: Expr, _ scope: ExpressionScope, depth: Int = 0) -> (String, [String], SourceRange?)? {
        guard depth < 256 else { return nil }
        switch e.kind {
        case let .call(callee, _, _):
            guard let o = networkOutputs[callee.name], o.isRecord else { return nil }
            return (callee.name, o.names, o.range)
        case let .name(n):
            if case let .expressionNode(x)? = scope.names[n] { return record(x, scope, depth: depth + 1) }
            return nil
        default:
            return nil
        }
    }

    /// Whether a "not a record" error about `e` would be accurate (and not a
    /// consequence of an error already reported).
    func isCheckable(_ e: Expr, _ scope: ExpressionScope, depth: Int = 0) -> Bool {
        guard depth < 256 else { return false }
        switch e.kind {
        case let .call(callee, _, _):
            return Builtin(rawValue: callee.name) != nil || networkOutputs[callee.name] != nil
        case let .name(n):
            guard let b = scope.names[n] else { return false }
            if case .unresolved = b { return false }
            if case let .expressionNode(x) = b { return isCheckable(x, scope, depth: depth + 1) }
            return true
        default:
            return true
        }
    }
}
