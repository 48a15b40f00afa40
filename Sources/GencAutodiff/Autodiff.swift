import GencIR

/// Reverse-mode differentiation as a graph-to-graph transform: the forward
/// graph is kept as it is and the backward pass is appended to it as
/// ordinary IR, so every later pass treats both alike.
///
/// Guarantees: a gradient is built only for values that depend on a
/// parameter being trained *and* reach the loss (the generator objective
/// flows back through the discriminator's activations but builds no
/// discriminator weight gradient); the gradient of a value used several
/// times, or of a parameter used at several call sites, is the sum of its
/// contributions, added in a fixed order; random draws are the forward
/// nodes themselves, never drawn again.
public enum Autodiff {
    /// What differentiating one loss produced.
    public struct Gradients: Sendable {
        /// The forward graph with the backward pass appended (not pruned).
        public var graph: Graph
        /// The gradient of each parameter asked for, by parameter name, in
        /// the order asked.
        public var gradients: [NamedValue]
        /// Nodes the transform appended.
        public var appended: Int
    }

    /// The most nodes a differentiated program may have (the forward
    /// program is bounded at 500,000 by lowering; the backward pass is about
    /// twice the forward).
    public static let maxNodes = 2_000_000

    /// Differentiates scalar `loss` with respect to the parameter leaves
    /// named in `parameters`. A parameter the loss does not depend on gets a
    /// zero gradient.
    public static func differentiate(_ forward: Graph, loss: Value, parameters: [String]) throws -> Gradients {
        let nodes = forward.nodes
        guard loss.id >= 0, loss.id < nodes.count, nodes[loss.id].type == .f32([]) else {
            throw AutodiffError("the loss must be an f32 scalar", at: nil)
        }
        let wanted = Set(parameters)
        // active[i]: node i depends, through differentiable operands, on a parameter being trained.
        var active = Array(repeating: false, count: nodes.count)
        var leafOf: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            if case let .parameter(name) = n.op {
                leafOf[name] = i
                active[i] = wanted.contains(name)
                continue
            }
            guard n.type.dtype == .f32 else { continue }
            active[i] = n.operands.enumerated().contains { k, o in active[o.id] && n.op.isDifferentiable(operand: k) }
        }
        var e = Emitter(graph: forward, limit: maxNodes)
        var adjoints: [Int: [Value]] = [:]
        if active[loss.id] {
            e.location = nodes[loss.id].location
            adjoints[loss.id] = [try e.constant(1)]
        }
        var finals: [Int: Value] = [:]
        for i in stride(from: loss.id, through: 0, by: -1) {
            guard active[i], let parts = adjoints.removeValue(forKey: i) else { continue }
            let n = nodes[i]
            e.location = n.location
            var g = parts[0]
            for p in parts.dropFirst() { g = try e.add(g, p) }
            if n.op.isLeaf {
                finals[i] = g
                continue
            }
            let needs = n.operands.enumerated().map { k, o in active[o.id] && n.op.isDifferentiable(operand: k) }
            let grads = try e.vjp(VJPArguments(node: n, result: Value(i), gradient: g, needs: needs))
            for (k, grad) in grads.enumerated() where needs[k] {
                guard let grad else { continue }
                let o = n.operands[k]
                guard e.type(grad) == nodes[o.id].type else {
                    throw AutodiffError("internal error: the \(n.op.name) rule gives operand \(k) a gradient of type \(e.type(grad)), not \(nodes[o.id].type)", at: n.location)
                }
                adjoints[o.id, default: []].append(grad)
            }
        }
        var out: [NamedValue] = []
        for name in parameters {
            if let leaf = leafOf[name], let g = finals[leaf] {
                out.append(NamedValue(name, g))
            } else if let leaf = leafOf[name] {
                e.location = nodes[leaf].location
                out.append(NamedValue(name, try e.zeros(nodes[leaf].type)))
            } else {
                throw AutodiffError("parameter '\(name)' is not in program '\(forward.name)'", at: nil)
            }
        }
        return Gradients(graph: e.graph, gradients: out, appended: e.appended)
    }
}
