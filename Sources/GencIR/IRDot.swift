/// Graphviz DOT of a graph, in two views:
///
/// - `print`: one box per op (name, attributes, type), leaves shaded by kind,
///   an edge per operand, outputs and state updates as sinks.
/// - `printCollapsed`: one box per layer, for graphs too big for that
///   (Graphviz takes more than 15 minutes on the 2,000-op unrolled LSTM of
///   `models/char-lstm.yaml`, and the picture is unreadable anyway).
///
/// `genc dump --stage ir --format dot FILE | dot -Tsvg > graph.svg`.
public enum IRDot {
    /// Above this many ops `genc dump --format dot` collapses by default.
    public static let collapseThreshold = 500

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
        out += sinks(g) { "n\($0.id)" }
        return out + "}\n"
    }

    // MARK: - Collapsed view

    /// One box per group of ops that came from the same place in the model
    /// file, so every op a YAML layer produced (all unrolled time steps of an
    /// LSTM included) is one box. Within one place, ops are told apart by the
    /// parameters they use: `lstm: {layers: 2}` is two boxes, `charlm.lstm0.l0`
    /// and `charlm.lstm0.l1`. Each box says how many ops of each kind it
    /// holds; an edge between boxes is labelled with the types of the values
    /// that cross it (`f32[32, 256] ×64` for 64 time steps).
    ///
    /// `source` gives the text written at a location (the YAML layer, input
    /// or expression), shown in the box; nil leaves it out.
    ///
    /// - Complexity: O(nodes + operands); the output has one line per box and
    ///   per pair of connected boxes, however many ops there are.
    public static func printCollapsed(_ g: Graph, source: (IRLocation) -> String? = { _ in nil }) -> String {
        let grouping = Grouping(g)
        var out = "digraph \(IRText.quote(g.name)) {\n"
        out += "  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=10];\n"
        out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"
        let title = "\(g.name): \(count(g.nodes.count)) ops in \(grouping.groups.count) boxes, one per layer (genc dump --collapse none draws every op)"
        out += "  label=\(quoted([title])); labelloc=t; fontname=\"Helvetica\"; fontsize=12;\n"
        for (k, group) in grouping.groups.enumerated() {
            var lines: [String] = []
            if let scope = group.key.scope { lines.append(scope) }
            if let loc = group.key.location {
                if let text = source(loc), !text.isEmpty { lines.append(text) }
                lines.append("\(loc.path.split(separator: "/").last.map(String.init) ?? loc.path):\(loc.line):\(loc.column)")
            } else {
                lines.append("(no source location)")
            }
            lines.append(group.summary)
            out += "  g\(k) [label=\(quoted(lines))\(group.style)];\n"
        }
        for edge in grouping.edges {
            out += "  g\(edge.from) -> g\(edge.to) [label=\(quoted(edge.label))];\n"
        }
        out += sinks(g) { "g\(grouping.groupOf[$0.id])" }
        return out + "}\n"
    }

    /// The boxes of the collapsed view and the edges between them.
    struct Grouping {
        struct Key: Hashable {
            var location: IRLocation?
            var scope: String?
        }

        struct Group {
            var key: Key
            var opCounts: [String: Int] = [:]
            var size = 0
            var hasInput = false
            var onlyLeaves = true
            var hasParameter = false

            /// `1,157 ops: slice ×320, sigmoid ×192, multiply ×191, reshape ×131, …`
            var summary: String {
                let kinds = opCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                let shown = kinds.prefix(4).map { $0.value == 1 ? $0.key : "\($0.key) ×\(IRDot.count($0.value))" }.joined(separator: ", ")
                let head = size == 1 ? "1 op" : "\(IRDot.count(size)) ops"
                return "\(head): \(shown)\(kinds.count > 4 ? ", …" : "")"
            }

            var style: String {
                if hasInput { return ", fillcolor=\"#cfe2ff\"" }
                if onlyLeaves, hasParameter { return ", fillcolor=\"#ffe8b0\"" }
                return ""
            }
        }

        struct Edge {
            var from: Int
            var to: Int
            /// One line per type crossing, most frequent first.
            var label: [String]
        }

        var groups: [Group] = []
        /// The group of each node.
        var groupOf: [Int] = []
        var edges: [Edge] = []

        init(_ g: Graph) {
            let scopes = Self.scopes(g)
            // A constant is deduplicated across the graph (one `1.0e-5` for
            // every batchnorm), so it has no place of its own: it joins its
            // first user's box and draws no edges.
            var firstUser = [Int?](repeating: nil, count: g.nodes.count)
            for (j, n) in g.nodes.enumerated() {
                for o in n.operands where firstUser[o.id] == nil { firstUser[o.id] = j }
            }
            func key(_ i: Int) -> Key {
                if Self.isConstant(g.nodes[i].op), let j = firstUser[i] { return Key(location: g.nodes[j].location, scope: scopes[j]) }
                return Key(location: g.nodes[i].location, scope: scopes[i])
            }
            var index: [Key: Int] = [:]
            groupOf.reserveCapacity(g.nodes.count)
            for (i, n) in g.nodes.enumerated() {
                let key = key(i)
                let k: Int
                if let found = index[key] {
                    k = found
                } else {
                    k = groups.count
                    index[key] = k
                    groups.append(Group(key: key))
                }
                groupOf.append(k)
                groups[k].opCounts[n.op.name, default: 0] += 1
                groups[k].size += 1
                if case .input = n.op { groups[k].hasInput = true }
                if !n.op.isLeaf { groups[k].onlyLeaves = false }
                if case .parameter = n.op { groups[k].hasParameter = true }
            }
            // Distinct values crossing from one group to another, by type.
            struct Pair: Hashable { var from: Int, to: Int }
            var crossing: [Pair: Set<Int>] = [:]
            for (i, n) in g.nodes.enumerated() {
                for o in n.operands where groupOf[o.id] != groupOf[i] && !Self.isConstant(g.nodes[o.id].op) {
                    crossing[Pair(from: groupOf[o.id], to: groupOf[i]), default: []].insert(o.id)
                }
            }
            edges = crossing.sorted { ($0.key.to, $0.key.from) < ($1.key.to, $1.key.from) }.map { pair, values in
                var byType: [String: Int] = [:]
                for v in values { byType[g.nodes[v].type.description, default: 0] += 1 }
                let sorted = byType.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                var label = sorted.prefix(3).map { $0.value == 1 ? $0.key : "\($0.key) ×\(IRDot.count($0.value))" }
                if sorted.count > 3 { label.append("+\(sorted.count - 3) more types") }
                return Edge(from: pair.from, to: pair.to, label: label)
            }
        }

        /// The parameter scope of each node (`charlm.lstm0.l1` for the ops of
        /// the second layer of an LSTM stack), among ops of the same location:
        /// a parameter or state leaf's name less its last part; an op takes
        /// the latest scope among its same-location operands; an op with none
        /// (the first op of a layer, slicing its input) takes a same-location
        /// user's; what is left takes its location's first scope, so a layer
        /// is split only where its parameters say so.
        static func scopes(_ g: Graph) -> [String?] {
            var scope = [String?](repeating: nil, count: g.nodes.count)
            var order: [String: Int] = [:]
            for (i, n) in g.nodes.enumerated() {
                if let name = leafScopeName(n.op) {
                    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
                    scope[i] = parts.count > 1 ? parts.dropLast().joined(separator: ".") : name
                } else {
                    var best: (scope: String, order: Int)?
                    for o in n.operands where g.nodes[o.id].location == n.location {
                        guard let s = scope[o.id], let k = order[s] else { continue }
                        if best.map({ k > $0.order }) ?? true { best = (s, k) }
                    }
                    scope[i] = best?.scope
                }
                if let s = scope[i], order[s] == nil { order[s] = order.count }
            }
            // Users come after their operands: walking backwards, every user
            // of a node has been settled before the node is reached.
            for (i, n) in g.nodes.enumerated().reversed() {
                guard let s = scope[i] else { continue }
                for o in n.operands where scope[o.id] == nil && g.nodes[o.id].location == n.location { scope[o.id] = s }
            }
            var first: [IRLocation?: String] = [:]
            for (i, n) in g.nodes.enumerated() {
                if let s = scope[i], first[n.location] == nil { first[n.location] = s }
            }
            for (i, n) in g.nodes.enumerated() where scope[i] == nil {
                scope[i] = first[n.location]
            }
            return scope
        }

        static func isConstant(_ op: Op) -> Bool {
            if case .constant = op { return true }
            return false
        }

        /// A parameter's or state's name (inputs are boxes of their own).
        static func leafScopeName(_ op: Op) -> String? {
            if case let .parameter(n) = op { return n }
            if case let .state(n) = op { return n }
            if case let .carried(n) = op { return n }
            return nil
        }
    }

    // MARK: - Shared

    /// Outputs and state updates as sinks, drawn from `source(value)`.
    static func sinks(_ g: Graph, _ source: (Value) -> String) -> String {
        var out = ""
        for (k, o) in g.outputs.enumerated() {
            out += "  out\(k) [label=\(dotQuote("output " + o.name)), shape=oval, fillcolor=\"#d0e8d0\"];\n  \(source(o.value)) -> out\(k);\n"
        }
        for (k, u) in g.updates.enumerated() {
            out += "  upd\(k) [label=\(dotQuote("update " + u.name)), shape=oval, fillcolor=\"#f0e0c0\"];\n  \(source(u.value)) -> upd\(k);\n"
        }
        return out
    }

    /// Leaves shaded by kind, opaque ops (matmul, conv, ...) in red. Written
    /// with `if case` so a new op needs no row here.
    static func style(_ op: Op) -> String {
        if case .input = op { return ", fillcolor=\"#cfe2ff\"" }
        if case .parameter = op { return ", fillcolor=\"#ffe8b0\"" }
        if case .state = op { return ", fillcolor=\"#f0e0c0\"" }
        if case .carried = op { return ", fillcolor=\"#e0d0f0\"" }
        if case .constant = op { return ", fillcolor=\"#eeeeee\"" }
        if case .random = op { return ", fillcolor=\"#eeeeee\"" }
        return op.fusionKind >= .outElementwiseFusable ? ", fillcolor=\"#ffd6d6\"" : ""
    }

    static func dotQuote(_ s: String) -> String {
        "\"" + s.replacingOccurrences("\"", with: "\\\"") + "\""
    }

    /// A quoted label of several lines, each escaped.
    static func quoted(_ lines: [String]) -> String {
        "\"" + lines.map(dotEscape).joined(separator: "\\n") + "\""
    }

    /// Text for inside a quoted label: backslashes and quotes escaped, so
    /// model text cannot end the string or start an escape.
    static func dotEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n", "\r": out += " "
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `2,312`.
    static func count(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}

extension String {
    func replacingOccurrences(_ a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
