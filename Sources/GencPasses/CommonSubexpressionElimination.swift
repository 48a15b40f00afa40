import GencIR

/// Common-subexpression elimination: no two pure nodes compute the same
/// op on the same operands (every use of a duplicate reads the first);
/// random draws are never merged, since each is its own draw.
///   before: %4 = broadcast %1 to [64, 1]; %9 = broadcast %1 to [64, 1]; %10 = multiply %8, %9
///   after:  %4 = broadcast %1 to [64, 1];                              %10 = multiply %8, %4
/// The duplicate itself stays until dead-code elimination removes it.
public enum CommonSubexpressionElimination {
    public static let pass = Pass(name: "cse", guarantee: "no two pure nodes compute the same op on the same operands") { g in
        try run(&g)
    }

    struct Key: Hashable {
        var op: Op
        var operands: [Int]
        var type: TensorType
    }

    static func run(_ g: inout Graph) throws -> Bool {
        var first: [Key: Int] = [:]
        var replacement = Array(0..<g.nodes.count)
        var changed = false
        var out = Graph(name: g.name)
        for (i, n) in g.nodes.enumerated() {
            var copy = n
            copy.operands = n.operands.map { Value(replacement[$0.id]) }
            if copy.operands != n.operands { changed = true }
            if n.op.isPure {
                let key = Key(op: n.op, operands: copy.operands.map(\.id), type: n.type)
                if let j = first[key] {
                    // Changed only once a reader is redirected (below, or in outputs and updates).
                    replacement[i] = j
                } else {
                    first[key] = i
                }
            }
            // Node i keeps its index (nothing is removed here), so ids stay valid.
            out.appendUnchecked(copy)
        }
        out.outputs = g.outputs.map { NamedValue($0.name, Value(replacement[$0.value.id])) }
        out.updates = g.updates.map { NamedValue($0.name, Value(replacement[$0.value.id])) }
        if out.outputs != g.outputs || out.updates != g.updates { changed = true }
        g = out
        return changed
    }
}
