import GencIR

/// What a simplification rule replaces a node with.
public enum Rewrite: Hashable, Sendable {
    /// An existing value (of the node's type): every reader reads it instead.
    case value(Value)
    /// A new node: this op on these existing values. A leaf (only a
    /// constant is accepted) takes the replaced node's type.
    case op(Op, [Value])
    /// Two new nodes: `inner` on these existing values, and `outer` on the
    /// result of `inner` (of the replaced node's type).
    case nested(outer: Op, inner: Op, [Value])
}

/// One algebraic identity as a value: its name, the identity, and a match
/// that, given a node (its operands already rewritten) and the graph being
/// built, says what to replace it with, or nil where the rule does not
/// apply. The driver (`AlgebraicSimplification`) refuses a rewrite that
/// changes the node's type, so `x * 1` where the 1 broadcasts x to a larger
/// shape stays.
public struct SimplificationRule: Sendable {
    public var name: String
    public var identity: String
    public var match: @Sendable (Node, Graph) -> Rewrite?

    public init(_ name: String, _ identity: String, _ match: @escaping @Sendable (Node, Graph) -> Rewrite?) {
        self.name = name
        self.identity = identity
        self.match = match
    }
}

extension SimplificationRule {
    /// Every rule, tried in this order on each node. "c" is a constant leaf
    /// (any shape, every element c); no rule drops an operand that is not a
    /// constant. Not a rule: x * 0 → 0, since NaN · 0 and ±∞ · 0 are NaN (a
    /// diverged value would be hidden, and x's producer, a draw maybe, dropped).
    /// Nor x - x → 0 or x / x → 1, for the same reason.
    public static let table: [SimplificationRule] = [
        SimplificationRule("multiply-one", "x * 1 → x") { n, g in M.same(M.left(n, .multiply, 1, g), n, g) },  // exact, NaN included
        SimplificationRule("one-multiply", "1 * x → x") { n, g in M.same(M.right(n, .multiply, 1, g), n, g) },  // exact
        SimplificationRule("multiply-minus-one", "x * -1 → negate(x)") { n, g in M.negate(M.left(n, .multiply, -1, g)) },  // exact
        SimplificationRule("minus-one-multiply", "-1 * x → negate(x)") { n, g in M.negate(M.right(n, .multiply, -1, g)) },  // exact
        SimplificationRule("add-zero", "x + 0 → x") { n, g in M.same(M.left(n, .add, 0, g), n, g) },  // only -0 + 0 = +0 differs: the sign of a zero
        SimplificationRule("zero-add", "0 + x → x") { n, g in M.same(M.right(n, .add, 0, g), n, g) },  // as x + 0
        SimplificationRule("subtract-zero", "x - 0 → x") { n, g in M.same(M.left(n, .subtract, 0, g), n, g) },  // exact (-0 - 0 = -0)
        SimplificationRule("zero-subtract", "0 - x → negate(x)") { n, g in M.negate(M.right(n, .subtract, 0, g)) },  // only 0 - 0 = +0 differs
        SimplificationRule("divide-one", "x / 1 → x") { n, g in M.same(M.left(n, .divide, 1, g), n, g) },  // exact
        SimplificationRule("power-one", "x ^ 1 → x") { n, g in M.same(M.left(n, .power, 1, g), n, g) },  // powf(x, 1) = x, NaN included
        SimplificationRule("power-two", "x ^ 2 → square(x)") { n, g in M.left(n, .power, 2, g).map { .op(.unary(.square), [$0]) } },  // x·x rounds once
        SimplificationRule("negate-negate", "negate(negate(x)) → x") { n, g in M.same(M.inner(n, .unary(.negate), .unary(.negate), g), n, g) },
        SimplificationRule("reshape-reshape", "reshape(reshape(x, s), t) → reshape(x, t)") { n, g in M.reshapeReshape(n, g) },
        SimplificationRule("reshape-identity", "reshape(x, shape(x)) → x") { n, g in M.isReshape(n) ? M.same(n.operands.first, n, g) : nil },
        SimplificationRule("transpose-transpose", "transpose(transpose(x, p), q) → transpose(x, p∘q), or x when p∘q is the identity") { n, g in M.transposeTranspose(n, g) },
        SimplificationRule("transpose-identity", "transpose(x, [0, 1, …]) → x") { n, g in M.isIdentityTranspose(n) ? M.same(n.operands.first, n, g) : nil },
        SimplificationRule("broadcast-identity", "broadcast(x, shape(x)) → x") { n, g in M.isBroadcast(n) ? M.same(n.operands.first, n, g) : nil },
        SimplificationRule("broadcast-constant", "broadcast(c, s) → c : f32[s]") { n, g in M.isBroadcast(n) ? M.constant(n.operands.first, g).map { .op(.constant($0), []) } : nil },
        SimplificationRule("reduce-no-axes", "reduce(x, axes: []) → x") { n, g in M.reducesNothing(n) ? M.same(n.operands.first, n, g) : nil },  // sum, mean, max of one element
        SimplificationRule("slice-whole", "slice(x, 0:n:1 on every axis) → x") { n, g in M.isWholeSlice(n) ? M.same(n.operands.first, n, g) : nil },
        SimplificationRule("unslice-whole", "unslice(x, 0:n:1 on every axis) → x") { n, g in M.isWholeUnslice(n) ? M.same(n.operands.first, n, g) : nil },
        // The gradient of many slices of one value (an LSTM's gates, its time
        // steps) is a sum of zero-padded pieces: one concat instead of a
        // zero-filled buffer and an add per piece. Exact: each element is
        // one piece's value plus zeros.
        SimplificationRule("unslice-add", "unslice(a, i:j) + unslice(b, j:k) → unslice(concat(a, b), i:k), along one axis") { n, g in M.unsliceAdd(n, g) },
    ]

    public static func named(_ name: String) -> SimplificationRule? { table.first { $0.name == name } }
}

/// The matchers the table's rules are written with.
private enum M {
    /// The value of a constant leaf.
    static func constant(_ v: Value?, _ g: Graph) -> Double? {
        guard let v, case let .constant(c) = g.node(v).op else { return nil }
        return c
    }

    /// x, when `n` is `x f c`.
    static func left(_ n: Node, _ f: BinaryFunction, _ c: Double, _ g: Graph) -> Value? {
        guard n.op == .binary(f), n.operands.count == 2, constant(n.operands[1], g) == c else { return nil }
        return n.operands[0]
    }

    /// x, when `n` is `c f x`.
    static func right(_ n: Node, _ f: BinaryFunction, _ c: Double, _ g: Graph) -> Value? {
        guard n.op == .binary(f), n.operands.count == 2, constant(n.operands[0], g) == c else { return nil }
        return n.operands[1]
    }

    /// x, when `n` is `outer(inner(x))`.
    static func inner(_ n: Node, _ outer: Op, _ inner: Op, _ g: Graph) -> Value? {
        guard n.op == outer, let y = n.operands.first, g.node(y).op == inner else { return nil }
        return g.node(y).operands.first
    }

    /// Replace by x, when x has the node's type (the driver checks it too).
    static func same(_ x: Value?, _ n: Node, _ g: Graph) -> Rewrite? {
        guard let x, g.type(x) == n.type else { return nil }
        return .value(x)
    }

    static func negate(_ x: Value?) -> Rewrite? { x.map { .op(.unary(.negate), [$0]) } }

    static func isReshape(_ n: Node) -> Bool {
        if case .reshape = n.op { return true }
        return false
    }

    static func isBroadcast(_ n: Node) -> Bool {
        if case .broadcast = n.op { return true }
        return false
    }

    static func isIdentityTranspose(_ n: Node) -> Bool {
        guard case let .transpose(p) = n.op else { return false }
        return p == Array(p.indices)
    }

    static func reducesNothing(_ n: Node) -> Bool {
        guard case let .reduce(_, axes, _) = n.op else { return false }
        return axes.isEmpty
    }

    static func isWholeSlice(_ n: Node) -> Bool {
        guard case let .slice(s) = n.op else { return false }
        return s.start.allSatisfy { $0 == 0 } && s.step.allSatisfy { $0 == 1 }
    }

    static func isWholeUnslice(_ n: Node) -> Bool {
        guard case let .unslice(s, shape) = n.op else { return false }
        return s.start.allSatisfy { $0 == 0 } && s.step.allSatisfy { $0 == 1 } && s.end == shape
    }

    /// add(unslice(a, r), unslice(b, q)) into one shape, both with step 1,
    /// equal ranges on every axis but one where they are adjacent: the two
    /// pieces concatenated (a concat operand flattened into the new one)
    /// and unsliced once over the joined range.
    static func unsliceAdd(_ n: Node, _ g: Graph) -> Rewrite? {
        guard n.op == .binary(.add), n.operands.count == 2 else { return nil }
        let (x, y) = (n.operands[0], n.operands[1])
        guard case let .unslice(r, shape) = g.node(x).op, case let .unslice(q, qShape) = g.node(y).op, shape == qShape,
              r.start.count == shape.count, q.start.count == shape.count, r.end.count == shape.count, q.end.count == shape.count,
              (r.step + q.step).allSatisfy({ $0 == 1 }), g.type(x) == n.type else { return nil }
        let differing = shape.indices.filter { r.start[$0] != q.start[$0] || r.end[$0] != q.end[$0] }
        guard differing.count == 1, let axis = differing.first else { return nil }
        // The piece that comes first along the axis.
        let (first, second, lo, hi): (Value, Value, SliceAttributes, SliceAttributes)
        if r.end[axis] == q.start[axis] {
            (first, second, lo, hi) = (g.node(x).operands[0], g.node(y).operands[0], r, q)
        } else if q.end[axis] == r.start[axis] {
            (first, second, lo, hi) = (g.node(y).operands[0], g.node(x).operands[0], q, r)
        } else {
            return nil
        }
        func pieces(_ v: Value) -> [Value] {
            if case .concat(axis) = g.node(v).op { return g.node(v).operands }
            return [v]
        }
        var joined = lo
        joined.end[axis] = hi.end[axis]
        return .nested(outer: .unslice(joined, shape: shape), inner: .concat(axis: axis), pieces(first) + pieces(second))
    }

    static func reshapeReshape(_ n: Node, _ g: Graph) -> Rewrite? {
        guard case let .reshape(t) = n.op, let y = n.operands.first, case .reshape = g.node(y).op, let x = g.node(y).operands.first else { return nil }
        return .op(.reshape(t), [x])
    }

    /// transpose(transpose(x, p), q) reads x at the permutation r[i] = p[q[i]].
    static func transposeTranspose(_ n: Node, _ g: Graph) -> Rewrite? {
        guard case let .transpose(q) = n.op, let y = n.operands.first, case let .transpose(p) = g.node(y).op,
              let x = g.node(y).operands.first, p.count == q.count, q.allSatisfy({ $0 >= 0 && $0 < p.count }) else { return nil }
        let r = q.map { p[$0] }
        return r == Array(r.indices) ? same(x, n, g) : .op(.transpose(r), [x])
    }
}
