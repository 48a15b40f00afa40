import GencSupport
import GencSyntax

// MARK: - networks

extension SpecValidator {
    static let networkKeys = ["in", "layers", "graph", "out"]

    mutating func validateNetworks(_ node: YAMLNode) -> [NetworkSpec] {
        guard let pairs = node.pairs else {
            report(SpecDiagnostics.notMapping("'networks'", got: node.kindDescription, node.range))
            return []
        }
        if pairs.isEmpty { report(SpecDiagnostics.emptySection("'networks'", node.range)) }
        // First pass: names, signatures and outputs, so bodies can call any network.
        var declared: [YAMLPair] = []
        for p in pairs {
            guard declaredName(p.key, "network", as: .network) else { continue }
            if Builtin(rawValue: p.key.value) != nil {
                report(SpecDiagnostics.shadows("network", p.key.value, other: "the built-in function '\(p.key.value)'", p.key.range, otherRange: nil))
                reject(p.key.value, as: .network)
                continue
            }
            networkNames[p.key.value] = p.key.range
            declared.append(p)
            guard let f = p.value.pairs else { continue }
            if let i = f.first(where: { $0.key.value == "in" }) {
                networkInRanges[p.key.value] = i.key.range
                if let args = networkArguments(i.value, network: p.key.value, key: i.key.range) {
                    networkArguments[p.key.value] = args
                }
            }
            if let o = f.first(where: { $0.key.value == "out" }) {
                let names = (o.value.items ?? [o.value]).compactMap { $0.scalar?.value }
                networkOutputs[p.key.value] = (names, o.value.items != nil, o.value.range)
            } else if f.contains(where: { $0.key.value == "layers" }) {
                networkOutputs[p.key.value] = ([], false, nil)
            }
        }
        var out: [NetworkSpec] = []
        for p in declared {
            if let n = network(p) {
                networks[n.name] = n
                out.append(n)
            }
        }
        checkRecursion(out)
        return out
    }

    /// `in:` — a mapping of argument names to shapes or `{shape, dtype}`.
    mutating func networkArguments(_ node: YAMLNode, network: String, key: SourceRange) -> [ArgumentSpec]? {
        guard let pairs = node.pairs else {
            report(SpecDiagnostics.notMapping("'in' of network '\(network)'", got: node.kindDescription, node.range))
            return nil
        }
        if pairs.isEmpty {
            report(SpecDiagnostics.emptySection("'in' of network '\(network)'", node.range))
            return nil
        }
        var args: [ArgumentSpec] = []
        var ok = true
        for a in pairs {
            guard declaredName(a.key, "argument") else { ok = false; continue }
            if let d = dimRanges[a.key.value] {
                report(SpecDiagnostics.shadows("argument", a.key.value, other: "the dim '\(a.key.value)'", a.key.range, otherRange: d))
                ok = false
                continue
            }
            guard let (t, _) = tensorType(a.value, "argument '\(a.key.value)' of network '\(network)'", key: a.key.range, allowNoise: false) else {
                ok = false
                continue
            }
            args.append(ArgumentSpec(name: a.key.value, range: a.key.range, type: t))
        }
        return ok ? args : nil
    }

    mutating func network(_ p: YAMLPair) -> NetworkSpec? {
        let name = p.key.value
        let context = "network '\(name)'"
        guard let f = mapping(p.value, context, owner: p.key.range, allowed: Self.networkKeys, required: ["in"]) else { return nil }
        let args = networkArguments[name]
        switch (f["layers"], f["graph"]) {
        case (nil, nil):
            report(SpecDiagnostics.missingKey("layers' or 'graph", in: context, p.key.range))
            return nil
        case let (l?, g?):
            let (first, second) = l.key.range.start < g.key.range.start ? (l, g) : (g, l)
            report(SpecDiagnostics.conflictingKeys(first.key.value, second.key.value, in: context, second.key.range, other: first.key.range))
            return nil
        case let (l?, nil):
            if let o = f["out"] {
                report(SpecDiagnostics.misuse("'out' is for graph networks; a layers: stack returns its last layer", o.key.range))
            }
            guard let items = list(l.value, "'layers' of \(context)") else { return nil }
            if items.isEmpty { report(SpecDiagnostics.emptySection("'layers' of \(context)", l.value.range)) }
            if let args, args.count != 1 {
                report(SpecDiagnostics.misuse("a layers: stack takes exactly one input, but \(context) declares \(args.count) (\(args.map(\.name).joined(separator: ", "))); use graph: for several",
                                              l.key.range).note("'in' is here", at: networkInRanges[name]))
                return nil
            }
            guard let layers = layerStack(items, network: name), let args else { return nil }
            return NetworkSpec(name: name, range: p.key.range, arguments: args, body: .layers(layers), outputs: [],
                               returnsRecord: false, callees: [])
        case let (nil, g?):
            // Arguments whose declaration was rejected still name something:
            // their uses are not reported again.
            let declared = f["in"]?.value.pairs?.map(\.key.value) ?? []
            let graph = graphNodes(g.value, network: name, arguments: args ?? [], declared: declared)
            guard let o = f["out"] else {
                report(SpecDiagnostics.missingKey("out", in: context, p.key.range))
                return nil
            }
            guard let args, let (nodes, callees) = graph else { return nil }
            guard let outputs = outputs(o.value, network: name, nodes: nodes, arguments: args) else { return nil }
            return NetworkSpec(name: name, range: p.key.range, arguments: args, body: .graph(nodes), outputs: outputs,
                               returnsRecord: o.value.items != nil, callees: callees)
        }
    }

    /// The entries of `layers:`, named `kind` + index among that kind.
    mutating func layerStack(_ items: [YAMLNode], network: String) -> [LayerSpec]? {
        var counts: [LayerKind: Int] = [:]
        var names: [String: SourceRange] = [:]
        var layers: [LayerSpec] = []
        var ok = true
        for item in items {
            var kindKey: YAMLScalarNode
            var value: YAMLNode?
            if let s = item.scalar, !s.isNull {
                kindKey = YAMLScalarNode(scalar: s, range: item.range)
            } else if let pairs = item.pairs, let first = pairs.first {
                kindKey = first.key
                value = first.value
                if pairs.count > 1 {
                    let extra = pairs[1]
                    let msg = LayerKind(rawValue: extra.key.value) != nil
                        ? "one list entry holds one layer; start '\(extra.key.value)' on its own '- ' line"
                        : "'\(extra.key.value)' is not a layer; a layer's arguments go inside it: '- \(first.key.value): {\(extra.key.value): ...}' (or indent them under '\(first.key.value):')"
                    report(SpecDiagnostics.layerSemantics(msg, extra.key.range))
                    ok = false
                    continue
                }
            } else if item.pairs?.isEmpty == true {
                report(SpecDiagnostics.layerSemantics("an empty mapping is not a layer; name the layer kind (- dense: 400)", item.range))
                ok = false
                continue
            } else {
                report(SpecDiagnostics.wrongType("a layer", expected: "a layer name (- relu) or a mapping (- dense: 400)", got: item.kindDescription, item.range))
                ok = false
                continue
            }
            let kind = LayerKind(rawValue: kindKey.value)
            if let k = kind, k.takesSeveralInputs {
                report(SpecDiagnostics.layerSemantics("'\(k.rawValue)' combines several inputs and is only for graph: nodes with a list 'from:'", kindKey.range))
                ok = false
                continue
            }
            let l = layer(kindKey: kindKey, value: value, entry: item.range, network: network) { k in "\(k.rawValue)\(counts[k, default: 0])" }
            if let k = kind { counts[k, default: 0] += 1 }
            guard let l else { ok = false; continue }
            if let first = names[l.name] {
                report(SpecDiagnostics.shadows("layer", l.name, other: "another layer of '\(network)'", l.kindRange, otherRange: first))
                ok = false
                continue
            }
            names[l.name] = l.kindRange
            layers.append(l)
        }
        return ok ? layers : nil
    }
}
