import GencIR

/// Turns a program's graph into a Plan: one step per computing node, one
/// slot per value, leaves bound to persistent buffers or inputs.
///
/// Arena offsets come from `ArenaAssignment`: values that are never live at
/// the same time share bytes; the program's inputs, its outputs and the
/// values of copied updates stay live for the whole run (inputs may be set
/// once and run many times). It guarantees the Plan is valid for
/// `PlanVerifier`. Reshape is a copy here; a later planner may alias it. An update of a persistent
/// leaf is written in place by the step that computes the new value when
/// every read of the old value comes before that step (or is that step,
/// reading element for element); otherwise it is copied at the end.
public enum Planner {
    public static let alignment = 64

    public static func aligned(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// The product, saturating at `Int.max`: FLOP counts of hostile models
    /// (2^40-element tensors times 2^40-element filters) pass 64 bits, and
    /// a report must not trap.
    static func saturating(_ xs: [Int]) -> Int {
        var p = 1
        for x in xs {
            let (r, o) = p.multipliedReportingOverflow(by: x)
            if o { return Int.max }
            p = r
        }
        return p
    }

    /// Multiply-adds × 2 of a GEMM or convolution step (0 for other ops), saturating.
    public static func flops(_ s: Step, _ slots: [Slot]) -> Int {
        let out = slots[s.output].type
        func shape(_ i: Int) -> [Int] { slots[s.inputs[i]].type.shape }
        switch s.op {
        case let .matmul(ta, _):
            return saturating([2, out.elementCount, ta ? shape(0)[0] : shape(0)[1]])
        case .conv:
            // Each output element: C·K multiply-adds.
            let w = shape(1)
            return saturating([2, out.elementCount] + w.dropFirst())
        case .convInputGrad:
            // The same work as the forward conv it reverses: dy elements × C·K.
            let w = shape(1)
            return saturating([2, slots[s.inputs[0]].type.elementCount] + w.dropFirst())
        case .convFilterGrad:
            // dy elements × C·K.
            return saturating([2, slots[s.inputs[1]].type.elementCount] + out.shape.dropFirst())
        default:
            return 0
        }
    }

    /// `initializer(name, kind)` gives each parameter's and state's first value.
    public static func plan(_ g: Graph, initializer: (String, PersistentBuffer.Kind, TensorType) -> Initializer) throws -> Plan {
        let inPlace = try inPlaceTargets(g)
        var slots: [Slot] = []
        var steps: [Step] = []
        var persistent: [PersistentBuffer] = []
        var persistentIndex: [String: Int] = [:]
        var inputs: [Plan.NamedSlot] = []
        // Every value its own buffer: the naive size, and a valid layout until offsets are assigned.
        var offset = 0
        func arenaSlot(_ t: TensorType) -> Slot {
            defer { offset += aligned(t.byteCount) }
            return Slot(storage: .arena(offset: offset), type: t)
        }
        func persistentSlot(_ name: String, _ kind: PersistentBuffer.Kind, _ t: TensorType, _ i: Initializer) -> Slot {
            let key = "\(kind.rawValue):\(name)"
            if let k = persistentIndex[key] { return Slot(storage: .persistent(k), type: t) }
            persistent.append(PersistentBuffer(name: name, kind: kind, type: t, initializer: i))
            persistentIndex[key] = persistent.count - 1
            return Slot(storage: .persistent(persistent.count - 1), type: t)
        }
        for (i, n) in g.nodes.enumerated() {
            switch n.op {
            case let .parameter(name):
                slots.append(persistentSlot(name, .parameter, n.type, initializer(name, .parameter, n.type)))
            case let .state(name):
                slots.append(persistentSlot(name, .state, n.type, initializer(name, .state, n.type)))
            case let .constant(v):
                slots.append(persistentSlot("constant.\(i)", .constant, n.type, .constant(v)))
            case let .input(name):
                slots.append(arenaSlot(n.type))
                inputs.append(Plan.NamedSlot(name: name, slot: i))
            default:
                if let leaf = inPlace[i], case let .persistent(k) = slots[leaf].storage {
                    slots.append(Slot(storage: .persistent(k), type: n.type))
                } else {
                    slots.append(arenaSlot(n.type))
                }
                steps.append(Step(op: n.op, inputs: n.operands.map(\.id), output: i, location: n.location))
            }
        }
        let outputs = g.outputs.map { Plan.NamedSlot(name: $0.name, slot: $0.value.id) }
        let updates = try g.updates.map { u -> Plan.PersistentUpdate in
            guard let k = persistentIndex["parameter:\(u.name)"] ?? persistentIndex["state:\(u.name)"] else {
                throw PlanError("program '\(g.name)' updates '\(u.name)', which is not a parameter or state it reads")
            }
            guard u.value.id >= 0, u.value.id < slots.count, slots[u.value.id].type == persistent[k].type else {
                throw PlanError("program '\(g.name)' updates '\(u.name)' (\(persistent[k].type)) with a value of another type")
            }
            return Plan.PersistentUpdate(buffer: k, slot: u.value.id, inPlace: inPlace[u.value.id] != nil)
        }
        let liveness = Liveness(steps: steps, slots: slots, inputs: inputs.map(\.slot),
                                pinned: inputs.map(\.slot) + outputs.map(\.slot) + updates.filter { !$0.inPlace }.map(\.slot))
        var requests: [ArenaAssignment.Request] = []
        for (k, iv) in liveness.intervals.enumerated() {
            guard let iv, case .arena = slots[k].storage else { continue }
            requests.append(ArenaAssignment.Request(slot: k, first: iv.first, last: iv.last, bytes: aligned(slots[k].type.byteCount)))
        }
        let naive = offset
        let layout = ArenaAssignment.assign(requests)
        for (k, o) in layout.offsets { slots[k].storage = .arena(offset: o) }
        offset = layout.bytes
        let report = PlanReport(arenaBytes: offset, naiveBytes: naive,
                                lowerBoundBytes: liveness.peakBytes(slots, steps: steps.count),
                                persistentBytes: persistent.reduce(0) { $0 + $1.type.byteCount },
                                flops: steps.reduce(0) { let (t, o) = $0.addingReportingOverflow(flops($1, slots)); return o ? Int.max : t })
        return Plan(name: g.name, steps: steps, slots: slots, arenaBytes: offset, persistent: persistent, inputs: inputs,
                    outputs: outputs, updates: updates, report: report)
    }

    /// For each value that can be written straight into the persistent leaf
    /// it updates: value node → leaf node. The conditions: the value is
    /// computed by a step (not a leaf), updates one leaf only, and every
    /// reader of the leaf's old value runs before that step, or is that
    /// step and reads it element for element (elementwise, same shape).
    static func inPlaceTargets(_ g: Graph) throws -> [Int: Int] {
        var leafOf: [String: Int] = [:]
        for (i, n) in g.nodes.enumerated() {
            switch n.op {
            case let .parameter(name), let .state(name): leafOf[name] = i
            default: break
            }
        }
        var lastReader: [Int: Int] = [:]
        for (i, n) in g.nodes.enumerated() {
            for o in n.operands where o.id >= 0 && o.id < g.nodes.count { lastReader[o.id] = max(lastReader[o.id] ?? -1, i) }
        }
        var updatedBy: [Int: Int] = [:]
        var seen = Set<String>()
        for u in g.updates {
            guard seen.insert(u.name).inserted else { throw PlanError("program '\(g.name)' updates '\(u.name)' twice") }
            updatedBy[u.value.id, default: 0] += 1
        }
        var result: [Int: Int] = [:]
        for u in g.updates {
            let v = u.value.id
            guard let leaf = leafOf[u.name], v >= 0, v < g.nodes.count, updatedBy[v] == 1 else { continue }
            let node = g.nodes[v]
            guard !node.op.isLeaf, node.type == g.nodes[leaf].type else { continue }
            // Readers of the old value after the writing step?
            if let last = lastReader[leaf], last > v { continue }
            if node.operands.contains(where: { $0.id == leaf }) && !(node.op.readsElementwise && g.nodes[leaf].type.shape == node.type.shape) { continue }
            result[v] = leaf
        }
        return result
    }
}
