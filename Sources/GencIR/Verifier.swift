/// Checks the invariants every graph must hold, whoever built it:
/// operands defined before use, types equal to what each op's shape rule
/// gives, leaves unique, outputs and updates of persistent leaves well-formed.
public enum Verifier {
    /// Every violation found (empty when the graph is valid).
    public static func verify(_ g: Graph) -> [String] {
        var problems: [String] = []
        var leafTypes: [String: (Value, TensorType)] = [:]
        // Types first: the shape rules below may count elements of any operand.
        for (i, n) in g.nodes.enumerated() {
            if n.type.shape.contains(where: { $0 < 0 }) { problems.append("\(Value(i)): negative extent in \(n.type)") }
            do { _ = try Size.elements(n.type.shape) } catch let e as ShapeError { problems.append("\(Value(i)): \(e.message)") } catch {}
        }
        if !problems.isEmpty { return problems }
        for (i, n) in g.nodes.enumerated() {
            let v = Value(i)
            if n.op.arity >= 0, n.operands.count != n.op.arity {
                problems.append("\(v): \(n.op.name) has \(n.operands.count) operands, expected \(n.op.arity)")
                continue
            }
            if let bad = n.operands.first(where: { $0.id < 0 || $0.id >= i }) {
                problems.append("\(v): operand \(bad) is not defined before use")
                continue
            }
            do {
                let t = try n.op.resultType(n.operands.map { g.nodes[$0.id].type }, given: n.op.isLeaf ? n.type : nil)
                if t != n.type { problems.append("\(v): \(n.op.name) has type \(n.type), but its operands give \(t)") }
            } catch let e as ShapeError {
                problems.append("\(v): \(n.op.name): \(e.message)")
            } catch {
                problems.append("\(v): \(error)")
            }
            if let name = Graph.leafName(n.op) {
                let key = "\(n.op.name) \(name)"
                if let (first, _) = leafTypes[key] {
                    problems.append("\(v): \(key) is already defined as \(first)")
                } else {
                    leafTypes[key] = (v, n.type)
                }
            }
            if case let .constant(c) = n.op, !c.isFinite { problems.append("\(v): constant \(c) is not finite") }
        }
        var names = Set<String>()
        for o in g.outputs {
            if o.value.id < 0 || o.value.id >= g.nodes.count { problems.append("output '\(o.name)' refers to undefined \(o.value)") }
            if !names.insert(o.name).inserted { problems.append("output '\(o.name)' is defined twice") }
        }
        var updated = Set<String>()
        for u in g.updates {
            guard u.value.id >= 0, u.value.id < g.nodes.count else {
                problems.append("update of '\(u.name)' refers to undefined \(u.value)")
                continue
            }
            // A persistent leaf: state (running statistics, optimizer slots), a parameter (an optimizer step)
            // or a carried value (written for a later program of the step).
            guard let (_, t) = leafTypes["state \(u.name)"] ?? leafTypes["parameter \(u.name)"] ?? leafTypes["carried \(u.name)"] else {
                problems.append("update of '\(u.name)': no state, parameter or carried value of that name is in the graph")
                continue
            }
            if t != g.nodes[u.value.id].type { problems.append("update of '\(u.name)' has type \(g.nodes[u.value.id].type), the leaf is \(t)") }
            if !updated.insert(u.name).inserted { problems.append("'\(u.name)' is updated twice") }
        }
        return problems
    }
}
