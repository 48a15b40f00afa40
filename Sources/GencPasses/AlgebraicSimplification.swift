import GencIR

/// Algebraic simplification: no rule of `SimplificationRule.table` matches
/// any node (within `maxSweeps` sweeps); every reader of a rewritten node,
/// outputs and updates included, reads its replacement, of the same type.
///   before: %1 = constant {value: 1.0} : f32[]; %2 = multiply %0, %1 : f32[4, 3]; %3 = negate %2 : f32[4, 3]; %4 = negate %3 : f32[4, 3]; %5 = exp %4 : f32[4, 3]
///   after:  %1 = constant {value: 1.0} : f32[];                                   %2 = negate %0 : f32[4, 3];                              %3 = exp %0 : f32[4, 3]
/// One generic driver applies the table: it walks the graph in order,
/// rebuilding it, and replaces a node by the first rule's rewrite that
/// keeps its type (checked here, whatever the rule says), either an
/// existing value or a new pure op on existing values, which is matched
/// again in turn. Rewritten nodes are dropped; what they alone read stays
/// for dead-code elimination. Random draws are leaves, which no rule
/// matches, and no rule drops a non-constant operand, so every draw is
/// kept, once.
public enum AlgebraicSimplification {
    public static let pass = Pass(name: "simplify", guarantee: "no simplification rule matches; readers of a rewritten node read a value of its type") { g in
        try run(&g) > 0
    }

    /// Sweeps until one fires no rule; a chain of rewrites usually needs two.
    public static let maxSweeps = 8
    /// Rewrites of one node in one sweep (a new op is matched again).
    static let maxRewritesPerNode = 8

    /// Applies `rules` until none fires (or `maxSweeps`); returns how many
    /// rewrites were made.
    @discardableResult
    static func run(_ g: inout Graph, rules: [SimplificationRule] = SimplificationRule.table) throws -> Int {
        var total = 0
        for _ in 0..<maxSweeps {
            let fired = try sweep(&g, rules)
            total += fired
            if fired == 0 { break }
        }
        return total
    }

    /// One walk in node order; returns the number of rewrites.
    static func sweep(_ g: inout Graph, _ rules: [SimplificationRule]) throws -> Int {
        var out = Graph(name: g.name)
        var map: [Value] = []
        map.reserveCapacity(g.nodes.count)
        var fired = 0
        for n in g.nodes {
            var node = n
            node.operands = n.operands.map { map[$0.id] }
            var replacement: Value?
            var rewrites = 0
            if !node.op.isLeaf {
                while replacement == nil, rewrites < maxRewritesPerNode, let r = firstRewrite(node, out, rules) {
                    rewrites += 1
                    switch r {
                    case let .value(v):
                        replacement = v
                    case let .op(op, operands):
                        if op.isLeaf {
                            replacement = try out.add(op, type: n.type, at: n.location)
                        } else {
                            node = Node(op: op, operands: operands, type: n.type, location: n.location)
                        }
                    case let .nested(outer, inner, operands):
                        let t = try inner.resultType(operands.map { out.type($0) })
                        out.appendUnchecked(Node(op: inner, operands: operands, type: t, location: n.location))
                        node = Node(op: outer, operands: [Value(out.nodes.count - 1)], type: n.type, location: n.location)
                    }
                }
            }
            fired += rewrites
            if let replacement {
                map.append(replacement)
            } else {
                out.appendUnchecked(node)
                map.append(Value(out.nodes.count - 1))
            }
        }
        out.outputs = g.outputs.map { NamedValue($0.name, map[$0.value.id]) }
        out.updates = g.updates.map { NamedValue($0.name, map[$0.value.id]) }
        g = out
        return fired
    }

    /// The first rule's rewrite of `n` (whose operands are values of `g`)
    /// that the driver accepts.
    static func firstRewrite(_ n: Node, _ g: Graph, _ rules: [SimplificationRule]) -> Rewrite? {
        for rule in rules {
            if let r = rule.match(n, g), accepts(r, for: n, in: g) { return r }
        }
        return nil
    }

    /// A rewrite keeps the node's type, reads only defined values, and
    /// makes no draw and no leaf but a constant.
    static func accepts(_ r: Rewrite, for n: Node, in g: Graph) -> Bool {
        switch r {
        case let .value(v):
            return v.id >= 0 && v.id < g.nodes.count && g.type(v) == n.type
        case let .op(op, operands):
            guard op.isPure, operands.allSatisfy({ $0.id >= 0 && $0.id < g.nodes.count }) else { return false }
            if op.isLeaf {
                guard case .constant = op, operands.isEmpty, n.type.dtype == .f32 else { return false }
                return true
            }
            guard let t = try? op.resultType(operands.map { g.type($0) }) else { return false }
            return t == n.type
        case let .nested(outer, inner, operands):
            guard outer.isPure, inner.isPure, !outer.isLeaf, !inner.isLeaf,
                  operands.allSatisfy({ $0.id >= 0 && $0.id < g.nodes.count }),
                  let t = try? inner.resultType(operands.map { g.type($0) }),
                  let u = try? outer.resultType([t]) else { return false }
            return u == n.type
        }
    }
}
