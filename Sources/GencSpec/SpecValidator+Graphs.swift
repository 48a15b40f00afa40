import GencSupport
import GencSyntax

// MARK: - graph: nodes, references, cycles

extension SpecValidator {
    /// The nodes of a network's `graph:`, checked: names, layers, `from:`
    /// references, expressions, and the absence of cycles. Also returns the
    /// networks its expressions call.
    mutating func graphNodes(_ node: YAMLNode, network: String, arguments: [ArgumentSpec], declared: [String] = []) -> ([GraphNodeSpec], [String])? {
        let context = "'graph' of network '\(network)'"
        guard let pairs = node.pairs else {
            report(SpecDiagnostics.notMapping(context, got: node.kindDescription, node.range))
            return nil
        }
        if pairs.isEmpty { report(SpecDiagnostics.emptySection(context, node.range)) }
        var scope = ExpressionScope(owner: "network '\(network)'")
        // Every declared dim, also one whose definition failed (already reported).
        for d in dimRanges.keys { scope.names[d] = .dim }
        for a in arguments { scope.names[a.name] = .argument }
        for n in declared where scope.names[n] == nil { scope.names[n] = .unresolved }
        // Declare every node first: nodes may appear in any order.
        var ok = true
        var valid: [YAMLPair] = []
        for p in pairs {
            guard declaredName(p.key, "node") else { ok = false; continue }
            if let a = arguments.first(where: { $0.name == p.key.value }) {
                report(SpecDiagnostics.shadows("node", p.key.value, other: "the argument '\(a.name)'", p.key.range, otherRange: a.range))
                scope.names[p.key.value] = .unresolved
                ok = false
                continue
            }
            if let d = dimRanges[p.key.value] {
                report(SpecDiagnostics.shadows("node", p.key.value, other: "the dim '\(p.key.value)'", p.key.range, otherRange: d))
                scope.names[p.key.value] = .unresolved
                ok = false
                continue
            }
            valid.append(p)
            if let s = p.value.scalar {
                scope.names[p.key.value] = ExprParser.parse(s, in: file).success.map { .expressionNode($0) } ?? .unresolved
            } else {
                scope.names[p.key.value] = .layerNode
            }
        }
        var nodes: [GraphNodeSpec] = []
        var callees = Set<String>()
        var deps: [String: [Located<String>]] = [:]
        for p in valid {
            let name = p.key.value
            if p.value.scalar != nil {
                guard let e = expression(p.value, "node '\(name)'") else { ok = false; continue }
                let facts = check(e, in: scope)
                callees.formUnion(facts.calledNetworks)
                networkCallSites[network, default: [:]].merge(facts.callSites) { a, _ in a }
                deps[name] = e.nameReferences.filter { scope.names[$0.name] != nil }.map { Located($0.name, $0.range) }
                nodes.append(GraphNodeSpec(name: name, range: p.key.range, kind: .expression(e)))
                continue
            }
            guard let (l, from) = layerNode(p, network: network, scope: scope) else { ok = false; continue }
            deps[name] = from
            nodes.append(GraphNodeSpec(name: name, range: p.key.range, kind: .layer(l, from: from)))
        }
        let names = Set(nodes.map(\.name))
        if !reportCycle(order: nodes.map { ($0.name, $0.range) }, edges: deps.mapValues { $0.map(\.value).filter(names.contains) },
                        what: "the nodes of network '\(network)'") {
            ok = false
        }
        return ok ? (nodes, callees.sorted()) : nil
    }

    /// A layer node: `{KIND: ARGS, from: NAME | [NAMES]}`.
    mutating func layerNode(_ p: YAMLPair, network: String, scope: ExpressionScope) -> (LayerSpec, [Located<String>])? {
        let name = p.key.value
        guard let pairs = p.value.pairs else {
            report(SpecDiagnostics.wrongType("node '\(name)'", expected: "an expression string or a layer mapping {KIND: ..., from: ...}",
                                             got: p.value.kindDescription, p.value.range))
            return nil
        }
        var kindPair: YAMLPair?
        var fromPair: YAMLPair?
        for q in pairs {
            if q.key.value == "from" { fromPair = q; continue }
            if let k = kindPair {
                let msg = LayerKind(rawValue: q.key.value) != nil
                    ? SpecDiagnostics.layerSemantics("node '\(name)' already is a '\(k.key.value)' layer; one node holds one layer", q.key.range)
                    : SpecDiagnostics.unknownKey(q.key.value, in: "node '\(name)'", suggestion: Suggestions.suffix(for: q.key.value, among: ["from"]),
                                                 allowed: ["from", "a layer kind"], q.key.range)
                report(msg)
                return nil
            }
            kindPair = q
        }
        guard let kindPair else {
            report(SpecDiagnostics.missingKey("a layer kind (such as dense)", in: "node '\(name)'", p.key.range))
            return nil
        }
        guard let l = layer(kindKey: kindPair.key, value: kindPair.value, entry: p.value.range, network: network, defaultName: { _ in name }) else {
            return nil
        }
        guard let fromPair else {
            report(SpecDiagnostics.missingKey("from", in: "layer node '\(name)'", p.key.range))
            return nil
        }
        guard let from = nameList(fromPair.value, "'from' of node '\(name)'") else { return nil }
        var ok = true
        for f in from {
            guard let b = scope.names[f.value] else {
                report(SpecDiagnostics.undefined("node or argument", f.value, suggestion: Suggestions.suffix(for: f.value, among: scope.names.keys.filter { dims[$0] == nil }), f.range))
                ok = false
                continue
            }
            if case .dim = b, dims[f.value] != nil {
                report(SpecDiagnostics.misuse("'\(f.value)' is a dim, not a tensor; 'from:' names nodes or arguments", f.range))
                ok = false
            }
        }
        if l.kind.takesSeveralInputs {
            if from.count < 2 {
                report(SpecDiagnostics.layerSemantics("'\(l.kind.rawValue)' combines several inputs; give 'from:' a list of at least 2 names", fromPair.value.range))
                ok = false
            }
        } else if from.count != 1 {
            report(SpecDiagnostics.layerSemantics("layer '\(l.kind.rawValue)' takes one input; 'from:' names \(from.count)", fromPair.value.range))
            ok = false
        }
        return ok ? (l, from) : nil
    }

    /// `out:` — a node or argument name, or a list of them (a record).
    mutating func outputs(_ node: YAMLNode, network: String, nodes: [GraphNodeSpec], arguments: [ArgumentSpec]) -> [Located<String>]? {
        guard let names = nameList(node, "'out' of network '\(network)'") else { return nil }
        if names.isEmpty {
            report(SpecDiagnostics.emptySection("'out' of network '\(network)'", node.range))
            return nil
        }
        let known = nodes.map(\.name) + arguments.map(\.name)
        var seen = Set<String>()
        var ok = true
        for n in names {
            if !known.contains(n.value) {
                report(SpecDiagnostics.undefined("node", n.value, suggestion: Suggestions.suffix(for: n.value, among: known), n.range))
                ok = false
            } else if !seen.insert(n.value).inserted {
                report(SpecDiagnostics.misuse("'\(n.value)' is listed twice in 'out'", n.range))
                ok = false
            }
        }
        return ok ? names : nil
    }

    /// Finds a cycle among `edges` (node → the nodes it reads) with Kahn's
    /// algorithm (no recursion, any size) and reports it at the first node in
    /// file order that is on it. Returns false when there is a cycle.
    mutating func reportCycle(order: [(String, SourceRange)], edges: [String: [String]], what: String,
                              edgeRange: (String, String) -> SourceRange? = { _, _ in nil }) -> Bool {
        let known = Set(order.map(\.0))
        let edges = edges.mapValues { $0.filter(known.contains) }
        var indegree: [String: Int] = [:]
        var readers: [String: [String]] = [:]
        for (n, _) in order {
            indegree[n] = edges[n]?.count ?? 0
            for d in edges[n] ?? [] { readers[d, default: []].append(n) }
        }
        var ready = order.map(\.0).filter { indegree[$0] == 0 }
        while let n = ready.popLast() {
            for r in readers[n] ?? [] {
                indegree[r, default: 0] -= 1
                if indegree[r] == 0 { ready.append(r) }
            }
        }
        let stuck = order.filter { indegree[$0.0, default: 0] > 0 }
        guard !stuck.isEmpty else { return true }
        let ranges = Dictionary(order.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        // Every cycle once: walk from each stuck node along stuck edges until
        // a node repeats; a walk that runs into a reported cycle found nothing new.
        var onReportedCycle = Set<String>()
        for (start, _) in stuck where !onReportedCycle.contains(start) {
            var path: [String] = [start]
            var position: [String: Int] = [start: 0]
            var current = start
            while let next = edges[current]?.first(where: { indegree[$0, default: 0] > 0 }), !onReportedCycle.contains(next) {
                if let i = position[next] {
                    let cycle = Array(path[i...])
                    let first = order.first { cycle.contains($0.0) }?.0 ?? start
                    let k = cycle.firstIndex(of: first) ?? 0
                    let rotated = Array(cycle[k...] + cycle[..<k])
                    let at = edgeRange(first, rotated.count > 1 ? rotated[1] : first) ?? ranges[first] ?? stuck[0].1
                    report(SpecDiagnostics.cycle(what, path: rotated + [first], at,
                                                 notes: rotated.dropFirst().compactMap { n in ranges[n].map { (n, $0) } }))
                    onReportedCycle.formUnion(cycle)
                    break
                }
                position[next] = path.count
                path.append(next)
                current = next
            }
        }
        return false
    }

    /// Networks that call themselves, directly or through others.
    mutating func checkRecursion(_ nets: [NetworkSpec]) {
        let sites = networkCallSites
        _ = reportCycle(order: nets.map { ($0.name, $0.range) }, edges: Dictionary(uniqueKeysWithValues: nets.map { ($0.name, $0.callees) }),
                        what: "network calls", edgeRange: { sites[$0]?[$1] })
    }
}

extension Result {
    var success: Success? {
        if case let .success(s) = self { return s }
        return nil
    }
}
