/// Dead-code elimination: keeps exactly the nodes the outputs and updates
/// need (and the leaves updates write), in their order, renumbered.
/// Forward values the backward pass does not read, and anything built but
/// not needed, are gone afterwards.
public enum Pruning {
    public static func prune(_ g: Graph) -> Graph {
        let nodes = g.nodes
        var live = Array(repeating: false, count: nodes.count)
        var leafOf: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            switch n.op {
            case let .parameter(name), let .state(name), let .carried(name): leafOf[name] = i
            default: break
            }
        }
        for o in g.outputs where o.value.id < nodes.count { live[o.value.id] = true }
        for u in g.updates {
            if u.value.id < nodes.count { live[u.value.id] = true }
            if let leaf = leafOf[u.name] { live[leaf] = true }
        }
        for i in stride(from: nodes.count - 1, through: 0, by: -1) where live[i] {
            for o in nodes[i].operands { live[o.id] = true }
        }
        var map = Array(repeating: -1, count: nodes.count)
        var out = Graph(name: g.name)
        for (i, n) in nodes.enumerated() where live[i] {
            var copy = n
            copy.operands = n.operands.map { Value(map[$0.id]) }
            out.appendUnchecked(copy)
            map[i] = out.nodes.count - 1
        }
        out.outputs = g.outputs.map { NamedValue($0.name, Value(map[$0.value.id])) }
        out.updates = g.updates.map { NamedValue($0.name, Value(map[$0.value.id])) }
        return out
    }
}
