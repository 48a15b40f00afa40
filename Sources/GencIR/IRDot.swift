/// Graphviz DOT of a graph: one box per op (name, attributes, type), leaves
/// shaded by kind, an edge per operand, outputs and state updates as sinks.
/// `genc dump --stage ir --format dot FILE | dot -Tsvg > graph.svg`.
public enum IRDot {
    public static func print(_ g: Graph) -> String {
        var out = "digraph \(IRText.quote(g.name)) {\n"
        out += "  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=10];\n"
        for (i, n) in g.nodes.enumerated() {
            var label = n.op.name
            let attrs = n.op.attributes.filter { $0.0 != "name" }.map { "\($0.0)=\(IRText.format($0.1))" }
            if case let .string(s)? = n.op.attributes.first(where: { $0.0 == "name" })?.1 { label += " \(s)" }
            if !attrs.isEmpty { label += "\\n" + attrs.joined(separator: " ") }
            label += "\\n\(n.type)"
            out += "  n\(i) [label=\(dotQuote("%\(i) " + label))\(style(n.op))];\n"
        }
        for (i, n) in g.nodes.enumerated() {
            for (k, o) in n.operands.enumerated() {
                out += "  n\(o.id) -> n\(i)\(n.operands.count > 1 ? " [label=\"\(k)\"]" : "");\n"
            }
        }
        for (k, o) in g.outputs.enumerated() {
            out += "  out\(k) [label=\(dotQuote("output " + o.name)), shape=oval, fillcolor=\"#d0e8d0\"];\n  n\(o.value.id) -> out\(k);\n"
        }
        for (k, u) in g.stateUpdates.enumerated() {
            out += "  upd\(k) [label=\(dotQuote("update " + u.name)), shape=oval, fillcolor=\"#f0e0c0\"];\n  n\(u.value.id) -> upd\(k);\n"
        }
        return out + "}\n"
    }

    static func style(_ op: Op) -> String {
        switch op {
        case .input: return ", fillcolor=\"#cfe2ff\""
        case .parameter: return ", fillcolor=\"#ffe8b0\""
        case .state: return ", fillcolor=\"#f0e0c0\""
        case .constant, .random: return ", fillcolor=\"#eeeeee\""
        default: return op.fusionKind == .opaque ? ", fillcolor=\"#ffd6d6\"" : ""
        }
    }

    static func dotQuote(_ s: String) -> String {
        "\"" + s.replacingOccurrences("\"", with: "\\\"") + "\""
    }
}

extension String {
    func replacingOccurrences(_ a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
