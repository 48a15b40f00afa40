import GencIR
import GencSpec

/// An optimizer's update as IR, appended after the backward pass: PyTorch's
/// `torch.optim.SGD` and `torch.optim.Adam` (no weight decay, no amsgrad,
/// no nesterov), formula for formula. The step count and every slot are
/// persistent state, updated in place by the program.
///
///     SGD, momentum μ:  b ← μ·b + g;  p ← p − lr·b     (b starts at 0, so the
///                       first step is PyTorch's b = g)
///     SGD, μ = 0:       p ← p − lr·g
///     Adam:             t ← t + 1
///                       m ← lerp(m, g, 1 − β1)          (PyTorch's lerp_)
///                       v ← β2·v + (1 − β2)·g²
///                       p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
enum OptimizerIR {
    /// Checkpoint names of the state (LANGUAGE.md §8): per objective, since
    /// each objective is its own optimizer (as each `torch.optim` instance is).
    static func stepName(objective: String) -> String { "optimizer.\(objective).step" }
    static func slotName(objective: String, parameter: String, slot: String) -> String { "optimizer.\(objective).\(parameter).\(slot)" }

    struct SlotInfo {
        var name: String
        var type: TensorType
        var parameter: String?
    }

    /// Appends the update of every parameter; returns the updates (parameter
    /// and slot names → new values) and the state leaves it reads.
    static func append(_ optimizer: OptimizerSpec, objective: String, gradients: [NamedValue], to e: inout Emitter) throws -> (updates: [NamedValue], slots: [SlotInfo]) {
        var updates: [NamedValue] = []
        var slots: [SlotInfo] = []
        let stepName = stepName(objective: objective)
        let step = try e.add(.state(stepName), [], type: .f32([]))
        let t = try e.add(step, try e.constant(1))
        updates.append(NamedValue(stepName, t))
        slots.append(SlotInfo(name: stepName, type: .f32([]), parameter: nil))
        var parameterLeaf: [String: Int] = [:]
        for (i, n) in e.graph.nodes.enumerated() { if case let .parameter(name) = n.op { parameterLeaf[name] = i } }
        func leaf(_ name: String) throws -> Value {
            guard let i = parameterLeaf[name] else {
                throw AutodiffError("internal error: parameter '\(name)' is not in the program", at: nil)
            }
            return Value(i)
        }
        func slot(_ parameter: String, _ kind: String, _ type: TensorType) throws -> Value {
            let name = slotName(objective: objective, parameter: parameter, slot: kind)
            slots.append(SlotInfo(name: name, type: type, parameter: parameter))
            return try e.add(.state(name), [], type: type)
        }
        switch optimizer {
        case let .sgd(lr, momentum):
            for g in gradients {
                let p = try leaf(g.name)
                e.location = e.graph.node(p).location
                var direction = g.value
                if momentum != 0 {
                    let b = try slot(g.name, "momentum_buffer", e.type(p))
                    direction = try e.add(try e.multiply(b, by: momentum), g.value)
                    updates.append(NamedValue(slotName(objective: objective, parameter: g.name, slot: "momentum_buffer"), direction))
                }
                updates.append(NamedValue(g.name, try e.subtract(p, try e.multiply(direction, by: lr))))
            }
        case let .adam(lr, beta1, beta2, eps):
            // Per step, once: the bias corrections (scalars).
            let bc1 = try e.subtract(try e.constant(1), try e.binary(.power, try e.constant(beta1), t))
            let stepSize = try e.divide(try e.constant(lr), bc1)
            let bc2Sqrt = try e.unary(.sqrt, try e.subtract(try e.constant(1), try e.binary(.power, try e.constant(beta2), t)))
            let weight = 1 - beta1
            for g in gradients {
                let p = try leaf(g.name)
                e.location = e.graph.node(p).location
                let type = e.type(p)
                let m = try slot(g.name, "exp_avg", type)
                let v = try slot(g.name, "exp_avg_sq", type)
                // torch.lerp: start + w·(end − start) for w < 0.5, else end − (end − start)·(1 − w)
                let diff = try e.subtract(g.value, m)
                let m1 = weight < 0.5 ? try e.add(m, try e.multiply(diff, by: weight))
                    : try e.subtract(g.value, try e.multiply(diff, by: 1 - weight))
                let v1 = try e.add(try e.multiply(v, by: beta2), try e.multiply(try e.multiply(g.value, g.value), by: 1 - beta2))
                let denom = try e.add(try e.divide(try e.unary(.sqrt, v1), bc2Sqrt), try e.constant(eps))
                let p1 = try e.subtract(p, try e.multiply(stepSize, try e.divide(m1, denom)))
                updates.append(NamedValue(slotName(objective: objective, parameter: g.name, slot: "exp_avg"), m1))
                updates.append(NamedValue(slotName(objective: objective, parameter: g.name, slot: "exp_avg_sq"), v1))
                updates.append(NamedValue(g.name, p1))
            }
        }
        return (updates, slots)
    }
}
