import GencSupport
import GencSyntax

// MARK: - objectives and optimizers

extension SpecValidator {
    static let objectiveKeys = ["graph", "minimize", "update", "optimizer"]

    mutating func validateObjectives(_ node: YAMLNode) -> [ObjectiveSpec] {
        guard let pairs = node.pairs else {
            report(SpecDiagnostics.notMapping("'objectives'", got: node.kindDescription, node.range))
            return []
        }
        var out: [ObjectiveSpec] = []
        for p in pairs {
            guard declaredName(p.key, "objective", as: .objective) else { continue }
            objectiveNames[p.key.value] = p.key.range
            if let o = objective(p) { out.append(o) }
        }
        return out
    }

    /// The scope of top-level expressions: dims and inputs.
    var topLevelScope: ExpressionScope {
        var scope = ExpressionScope(owner: "the model")
        for d in dims.keys { scope.names[d] = .dim }
        for d in dimRanges.keys where scope.names[d] == nil { scope.names[d] = .dim }
        for i in inputs.keys { scope.names[i] = .input }
        return scope
    }

    mutating func objective(_ p: YAMLPair) -> ObjectiveSpec? {
        let name = p.key.value
        let context = "objective '\(name)'"
        guard let f = mapping(p.value, context, owner: p.key.range, allowed: Self.objectiveKeys, required: ["minimize", "update"]) else {
            return nil
        }
        var ok = true
        let errorsBefore = diagnostics.errorCount
        var scope = topLevelScope
        scope.owner = context
        var graph: [ExpressionNodeSpec] = []
        var facts = ExpressionFacts()
        if let g = f["graph"] {
            if let pairs = g.value.pairs {
                var parsed: [(YAMLPair, Expr)] = []
                for q in pairs {
                    guard declaredName(q.key, "node") else { ok = false; continue }
                    if let i = inputs[q.key.value] {
                        report(SpecDiagnostics.shadows("node", q.key.value, other: "the input '\(q.key.value)'", q.key.range, otherRange: i.range))
                        ok = false
                        continue
                    }
                    if let d = dimRanges[q.key.value] {
                        report(SpecDiagnostics.shadows("node", q.key.value, other: "the dim '\(q.key.value)'", q.key.range, otherRange: d))
                        ok = false
                        continue
                    }
                    guard let e = expression(q.value, "node '\(q.key.value)' of \(context)") else {
                        scope.names[q.key.value] = .unresolved
                        ok = false
                        continue
                    }
                    scope.names[q.key.value] = .expressionNode(e)
                    parsed.append((q, e))
                }
                var deps: [String: [String]] = [:]
                for (q, e) in parsed {
                    let fs = check(e, in: scope)
                    facts.calledNetworks.formUnion(fs.calledNetworks)
                    facts.usedNames.formUnion(fs.usedNames)
                    deps[q.key.value] = e.names
                    graph.append(ExpressionNodeSpec(name: q.key.value, range: q.key.range, expression: e))
                }
                if !reportCycle(order: graph.map { ($0.name, $0.range) }, edges: deps, what: "the graph nodes of \(context)") { ok = false }
            } else {
                report(SpecDiagnostics.notMapping("'graph' of \(context)", got: g.value.kindDescription, g.value.range))
                ok = false
            }
        }
        var minimize: Expr?
        if let m = f["minimize"], let e = expression(m.value, "'minimize' of \(context)") {
            let fs = check(e, in: scope)
            facts.calledNetworks.formUnion(fs.calledNetworks)
            facts.usedNames.formUnion(fs.usedNames)
            minimize = e
        }
        let called = closure(of: facts.calledNetworks)
        var update: [Located<String>] = []
        if let u = f["update"], let names = nameList(u.value, "'update' of \(context)") {
            if names.isEmpty { report(SpecDiagnostics.emptySection("'update' of \(context)", u.value.range)) }
            var seen = Set<String>()
            for n in names {
                guard networkNames[n.value] != nil else {
                    if !isRejected(n.value, as: .network) {
                        report(SpecDiagnostics.undefined("network", n.value, suggestion: Suggestions.suffix(for: n.value, among: networkNames.keys), n.range))
                    }
                    ok = false
                    continue
                }
                if !seen.insert(n.value).inserted {
                    report(SpecDiagnostics.misuse("'\(n.value)' is listed twice in 'update'", n.range))
                    ok = false
                    continue
                }
                if let net = networks[n.value], !net.hasParameters {
                    report(SpecDiagnostics.reference("network '\(n.value)' has no parameters to update", n.range)
                        .note("'\(n.value)' is declared here", at: net.range))
                    ok = false
                } else if minimize != nil, diagnostics.errorCount == errorsBefore, !called.contains(n.value) {
                    report(SpecDiagnostics.reference("\(context) updates '\(n.value)' but never calls it, so its gradient would be zero", n.range))
                    ok = false
                }
                update.append(n)
            }
        }
        var optimizer: OptimizerSpec?
        if let o = f["optimizer"] {
            optimizer = optimizerSpec(o.value, key: o.key.range)
            if optimizer == nil { ok = false }
        }
        guard ok, let minimize, !update.isEmpty else { return nil }
        let usedInputs = inputs.keys.filter { facts.usedNames.contains($0) }.sorted()
        return ObjectiveSpec(name: name, range: p.key.range, graph: graph, minimize: minimize, update: update,
                             optimizer: optimizer, calledNetworks: called.sorted(), usedInputs: usedInputs)
    }

    /// Networks reachable through calls.
    func closure(of roots: Set<String>) -> Set<String> {
        var seen = Set<String>()
        var stack = Array(roots)
        while let n = stack.popLast() {
            guard seen.insert(n).inserted else { continue }
            stack.append(contentsOf: networks[n]?.callees ?? [])
        }
        return seen
    }

    static let optimizerKinds = ["adam", "sgd"]

    /// `adam`, `{adam: {lr, beta1, beta2, eps}}`, `{sgd: {lr, momentum}}`.
    mutating func optimizerSpec(_ node: YAMLNode, key: SourceRange) -> OptimizerSpec? {
        var kindNode: YAMLScalarNode
        var args: YAMLNode?
        if let s = node.scalar, s.style == .plain, !s.isNull {
            kindNode = YAMLScalarNode(scalar: s, range: node.range)
        } else if let pairs = node.pairs, pairs.count == 1 {
            kindNode = pairs[0].key
            args = pairs[0].value
        } else {
            report(SpecDiagnostics.wrongType("'optimizer'", expected: "adam, {adam: {lr: ...}} or {sgd: {lr: ...}}", got: node.kindDescription, node.range))
            return nil
        }
        if args?.scalar?.isNull == true { args = nil }
        switch kindNode.value {
        case "adam":
            var lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8
            if let args {
                guard let f = mapping(args, "adam", owner: kindNode.range, allowed: ["lr", "beta1", "beta2", "eps"]) else { return nil }
                var ok = true
                func read(_ k: String, _ v: inout Double, _ expected: String, _ check: (Double) -> Bool) {
                    guard let n = f[k] else { return }
                    if let x = number(n.value, "adam '\(k)'", expected: expected, check) { v = x } else { ok = false }
                }
                read("lr", &lr, "greater than 0") { $0 > 0 }
                read("beta1", &b1, "in [0, 1)") { $0 >= 0 && $0 < 1 }
                read("beta2", &b2, "in [0, 1)") { $0 >= 0 && $0 < 1 }
                read("eps", &eps, "greater than 0") { $0 > 0 }
                guard ok else { return nil }
            }
            return .adam(lr: lr, beta1: b1, beta2: b2, eps: eps)
        case "sgd":
            guard let args else {
                report(SpecDiagnostics.missingKey("lr", in: "sgd", kindNode.range))
                return nil
            }
            guard let f = mapping(args, "sgd", owner: kindNode.range, allowed: ["lr", "momentum"], required: ["lr"]) else { return nil }
            let lr = f["lr"].flatMap { number($0.value, "sgd 'lr'", expected: "greater than 0") { $0 > 0 } }
            let momentum = f["momentum"].map { number($0.value, "sgd 'momentum'", expected: "in [0, 1)") { $0 >= 0 && $0 < 1 } } ?? 0
            guard let lr, let momentum else { return nil }
            return .sgd(lr: lr, momentum: momentum)
        default:
            report(SpecDiagnostics.undefined("optimizer", kindNode.value, suggestion: Suggestions.suffix(for: kindNode.value, among: Self.optimizerKinds) + "; genc has adam and sgd",
                                             kindNode.range))
            return nil
        }
    }
}
