import GencIR
import GencPasses

/// What the planner may do; the unoptimized plan (every op its own kernel,
/// reshape a copy, no sharing in place, node order) is what tests compare
/// the optimized one against.
public struct PlanOptions: Hashable, Sendable {
    public var fusion: Bool
    public var views: Bool
    public var inPlace: Bool
    public var schedule: Bool
    public init(fusion: Bool = true, views: Bool = true, inPlace: Bool = true, schedule: Bool = true) {
        self.fusion = fusion
        self.views = views
        self.inPlace = inPlace
        self.schedule = schedule
    }
    public static let optimized = PlanOptions()
    public static let unoptimized = PlanOptions(fusion: false, views: false, inPlace: false, schedule: false)
}

/// Turns a program's graph into a Plan: kernels from `Fusion`, ordered by
/// `Scheduling`, one slot per value, leaves bound to persistent buffers or
/// inputs, reshapes as views, offsets in one arena.
///
/// It guarantees the Plan is valid for `PlanVerifier`. Arena offsets come
/// from `ArenaAssignment`: values never live at the same time share bytes;
/// a kernel's output takes the very bytes of an input that dies at it where
/// the kernel reads that input element for element (`allowsInPlace`); the
/// program's inputs, its outputs and the values of copied updates stay live
/// for the whole run. An update of a persistent leaf is written in place by
/// the step that computes the new value when every read of the old value
/// comes before that step (or is that step, element for element); otherwise
/// it is copied at the end.
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

    /// Multiply-adds × 2 of a contraction `op` (0 for other ops), saturating.
    public static func flops(_ op: Op, inputs: [TensorType], output: TensorType) -> Int {
        func shape(_ i: Int) -> [Int] { inputs[i].shape }
        switch op {
        case let .matmul(ta, _):
            return saturating([2, output.elementCount, ta ? shape(0)[0] : shape(0)[1]])
        case .conv:
            // Each output element: C·K multiply-adds.
            return saturating([2, output.elementCount] + shape(1).dropFirst())
        case .convInputGrad:
            // The same work as the forward conv it reverses: dy elements × C·K.
            return saturating([2, inputs[0].elementCount] + shape(1).dropFirst())
        case .convFilterGrad:
            // dy elements × C·K.
            return saturating([2, inputs[1].elementCount] + output.shape.dropFirst())
        case .input, .parameter, .state, .carried, .constant, .random, .unary, .binary, .pool, .poolGrad, .reduce, .softmax, .logSoftmax,
             .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd, .oneHot:
            return 0
        }
    }

    /// FLOPs of a step's contraction.
    public static func flops(_ s: Step, _ slots: [Slot]) -> Int {
        guard let op = s.op, !s.outputs.isEmpty else { return 0 }
        let arity: Int
        switch s.kernel {
        case .op: arity = s.inputs.count
        case let .fused(f): arity = f.headInputs
        }
        return flops(op, inputs: s.inputs.prefix(arity).map { slots[$0].type }, output: slots[s.outputs[0]].type)
    }

    /// Whether step `s` may write output `o` (a position in `s.outputs`)
    /// into the bytes of input `i` (a position in `s.inputs`): the kernel
    /// reads that input at exactly the index it writes, and has read it
    /// before it writes. Unary and binary ops of equal shapes allow it; a
    /// fused loop allows it for a body input read at the loop's own index
    /// and a body output (not a reduction's); contractions never do.
    public static func allowsInPlace(_ s: Step, input i: Int, output o: Int, _ slots: [Slot]) -> Bool {
        guard i >= 0, i < s.inputs.count, o >= 0, o < s.outputs.count else { return false }
        let (x, y) = (slots[s.inputs[i]].type, slots[s.outputs[o]].type)
        guard x.byteCount == y.byteCount, x.dtype == y.dtype else { return false }
        switch s.kernel {
        case let .op(op): return op.readsElementwise && x.shape == y.shape
        case let .fused(f):
            // A reduction's output is accumulated over the whole loop: never over an input.
            guard i >= f.headInputs, o >= f.firstResultOutput, o < f.firstReductionOutput, i - f.headInputs < f.reads.count else { return false }
            return x.elementCount == f.shape.reduce(1, *) && f.reads[i - f.headInputs].isIdentity(over: f.shape)
        }
    }

    /// `initializer(name, kind)` gives each parameter's and state's first value.
    public static func plan(_ g: Graph, options: PlanOptions = .optimized,
                            initializer: (String, PersistentBuffer.Kind, TensorType) -> Initializer) throws -> Plan {
        var groups = Fusion.partition(g, enabled: options.fusion)
        if !options.views {
            groups = groups.map { $0.kind == .view ? KernelGroup(kind: .single, nodes: $0.nodes, shape: $0.shape) : $0 }
        }
        var best: Plan?
        for strategy in options.schedule ? Scheduling.Strategy.allCases : [.nodeOrder] {
            let ordered = Scheduling.order(g, groups, strategy: strategy)
            guard ordered.count == groups.count else {
                throw PlanError("the kernels of program '\(g.name)' depend on each other in a cycle (a fusion bug)")
            }
            let p = try build(g, ordered, options: options, initializer: initializer)
            if let b = best, b.arenaBytes <= p.arenaBytes { continue }
            best = p
        }
        guard let plan = best else { throw PlanError("no schedule for program '\(g.name)'") }
        return plan
    }

    static func build(_ g: Graph, _ groups: [KernelGroup], options: PlanOptions,
                      initializer: (String, PersistentBuffer.Kind, TensorType) -> Initializer) throws -> Plan {
        var slots: [Slot] = []
        var persistent: [PersistentBuffer] = []
        var persistentIndex: [String: Int] = [:]
        var inputs: [Plan.NamedSlot] = []
        var isView = [Bool](repeating: false, count: g.nodes.count)
        for gr in groups where gr.kind == .view { for n in gr.nodes { isView[n] = true } }
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
            case let .carried(name):
                // Written by the program that carries it before any reader runs.
                slots.append(persistentSlot(name, .carried, n.type, .constant(0)))
            case let .constant(v):
                slots.append(persistentSlot("constant.\(i)", .constant, n.type, .constant(v)))
            case let .input(name):
                slots.append(arenaSlot(n.type))
                inputs.append(Plan.NamedSlot(name: name, slot: i))
            default:
                if isView[i], let o = n.operands.first, o.id < i {
                    slots.append(Slot(storage: .view(of: Liveness.root(o.id, slots)), type: n.type))
                } else {
                    slots.append(arenaSlot(n.type))
                }
            }
        }
        // Values read outside the group that computes them, or results of the program.
        var groupOf = [Int](repeating: -1, count: g.nodes.count)
        for (k, gr) in groups.enumerated() { for n in gr.nodes { groupOf[n] = k } }
        var escapes = [Bool](repeating: false, count: g.nodes.count)
        for (i, n) in g.nodes.enumerated() {
            for o in n.operands where groupOf[o.id] != groupOf[i] { escapes[o.id] = true }
        }
        for o in g.outputs { escapes[o.value.id] = true }
        for u in g.updates { escapes[u.value.id] = true }

        let views = stridedViews(g, groups, enabled: options.views && options.fusion)
        var steps: [Step] = []
        for gr in groups {
            if gr.nodes.allSatisfy({ views.virtual[$0] }) { continue }
            switch gr.kind {
            case .view: continue
            case .single:
                for n in gr.nodes {
                    let node = g.nodes[n]
                    steps.append(Step(op: node.op, inputs: node.operands.map(\.id), output: n, location: node.location))
                }
            case .fused, .epilogue:
                if gr.nodes.count == 1, let n = gr.nodes.first, !g.nodes[n].operands.contains(where: { views.virtual[$0.id] }) {
                    // Nothing joined the contraction, or a loop of one op: the op's own kernel.
                    steps.append(Step(op: g.nodes[n].op, inputs: g.nodes[n].operands.map(\.id), output: n, location: g.nodes[n].location))
                } else {
                    steps.append(try fusedStep(g, gr, escapes: escapes, layouts: views.layouts))
                }
            }
        }
        // Members of a fused loop that nothing outside it reads are never stored.
        var stored = Set<Int>()
        for s in steps { stored.formUnion(s.outputs) }
        for gr in groups where gr.kind == .fused || gr.kind == .epilogue {
            for n in gr.nodes where !stored.contains(n) { slots[n].storage = .fused }
        }
        // Strided views: their readers read the bytes they view.
        for n in g.nodes.indices where views.virtual[n] { slots[n].storage = .fused }

        // In-place updates of persistent leaves.
        let outputs = g.outputs.map { Plan.NamedSlot(name: $0.name, slot: $0.value.id) }
        let inPlace = try inPlaceUpdates(g, steps, slots)
        for (v, leaf) in inPlace {
            if case let .persistent(k) = slots[leaf].storage { slots[v].storage = .persistent(k) }
        }
        let updates = try g.updates.map { u -> Plan.PersistentUpdate in
            guard let k = persistentIndex["parameter:\(u.name)"] ?? persistentIndex["state:\(u.name)"] ?? persistentIndex["carried:\(u.name)"] else {
                throw PlanError("program '\(g.name)' updates '\(u.name)', which is not a parameter, state or carried value of the program")
            }
            guard u.value.id >= 0, u.value.id < slots.count, slots[u.value.id].type == persistent[k].type else {
                throw PlanError("program '\(g.name)' updates '\(u.name)' (\(persistent[k].type)) with a value of another type")
            }
            return Plan.PersistentUpdate(buffer: k, slot: u.value.id, inPlace: inPlace[u.value.id] != nil)
        }
        // Naive: every value a step stores, and every input, its own buffer.
        let naive = slots.reduce(0) { if case .arena = $1.storage { return $0 + aligned($1.type.byteCount) } else { return $0 } }
        let pinned = inputs.map(\.slot) + outputs.map(\.slot) + updates.filter { !$0.inPlace }.map(\.slot)
        let liveness = Liveness(steps: steps, slots: slots, inputs: inputs.map(\.slot), pinned: pinned)

        // Outputs that take the bytes of an input dying at their step.
        var sharing: [Int: Int] = [:]
        if options.inPlace {
            let pinnedRoots = Set(pinned.map { Liveness.root($0, slots) })
            var claimed = Set<Int>()
            for (k, s) in steps.enumerated() {
                for (o, y) in s.outputs.enumerated() {
                    guard case .arena = slots[y].storage else { continue }
                    for x in s.inputs {
                        let r = Liveness.root(x, slots)
                        guard r != y, !claimed.contains(r), !pinnedRoots.contains(r), case .arena = slots[r].storage,
                              let iv = liveness.intervals[r], iv.last == k,
                              aligned(slots[r].type.byteCount) == aligned(slots[y].type.byteCount) else { continue }
                        // Every read of r by this step must allow it.
                        let reads = s.inputs.indices.filter { Liveness.root(s.inputs[$0], slots) == r }
                        guard reads.allSatisfy({ allowsInPlace(s, input: $0, output: o, slots) }) else { continue }
                        claimed.insert(r)
                        sharing[y] = sharing[r] ?? r
                        break
                    }
                }
            }
        }
        // One request per shared buffer.
        var merged: [Int: ArenaAssignment.Request] = [:]
        for (k, iv) in liveness.intervals.enumerated() {
            guard let iv, case .arena = slots[k].storage else { continue }
            let key = sharing[k] ?? k
            let b = aligned(slots[k].type.byteCount)
            if var m = merged[key] {
                m.first = min(m.first, iv.first)
                m.last = max(m.last, iv.last)
                m.bytes = max(m.bytes, b)
                merged[key] = m
            } else {
                merged[key] = ArenaAssignment.Request(slot: key, first: iv.first, last: iv.last, bytes: b)
            }
        }
        let layout = ArenaAssignment.best(merged.values.sorted { $0.slot < $1.slot })
        for (k, iv) in liveness.intervals.enumerated() {
            guard iv != nil, case .arena = slots[k].storage, let o = layout.offsets[sharing[k] ?? k] else { continue }
            slots[k].storage = .arena(offset: o)
        }
        // Arena values no step writes or reads (none in a planned graph) still need a valid offset.
        var arenaBytes = layout.bytes
        for k in slots.indices where liveness.intervals[k] == nil {
            if case .arena = slots[k].storage {
                slots[k].storage = .arena(offset: 0)
                arenaBytes = max(arenaBytes, aligned(slots[k].type.byteCount))
            }
        }
        let peak = liveness.peak(slots, steps: steps.count, sharing: sharing)
        var atPeak: [PlanReport.PeakValue] = []
        for (k, iv) in liveness.intervals.enumerated() {
            guard let iv, iv.first <= peak.step, peak.step <= iv.last, sharing[k] == nil else { continue }
            atPeak.append(PlanReport.PeakValue(slot: k, bytes: slots[k].type.byteCount, op: g.nodes[k].op.name, location: g.nodes[k].location))
        }
        atPeak.sort { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.slot < $1.slot }
        var report = PlanReport(arenaBytes: arenaBytes, naiveBytes: naive, lowerBoundBytes: peak.bytes,
                                persistentBytes: persistent.reduce(0) { $0 + $1.type.byteCount },
                                flops: steps.reduce(0) { let (t, o) = $0.addingReportingOverflow(flops($1, slots)); return o ? Int.max : t })
        report.ops = g.nodes.filter { !$0.op.isLeaf }.count
        report.kernels = steps.count
        report.fusedGroups = steps.filter { if case .fused = $0.kernel { return $0.sources.count > 1 } else { return false } }.count
        report.peak = Array(atPeak.prefix(8))
        report.peakStep = peak.step
        return Plan(name: g.name, steps: steps, slots: slots, arenaBytes: arenaBytes, persistent: persistent, inputs: inputs,
                    outputs: outputs, updates: updates, report: report)
    }

    /// The step of a fused or epilogue group.
    /// `layouts[v]` is where value v's elements are (itself, unless it is a
    /// strided view of another buffer).
    static func fusedStep(_ g: Graph, _ gr: KernelGroup, escapes: [Bool], layouts: [Layout]) throws -> Step {
        let loop = gr.shape
        let head = gr.kind == .epilogue ? gr.nodes.first : nil
        var inputs: [Int] = head.map { g.nodes[$0].operands.map(\.id) } ?? []
        let headInputs = inputs.count
        var reads: [AffineRead] = []
        var readIndex: [Int: [(AffineRead, Int)]] = [:]
        var register: [Int: Int] = [:]
        // A copy (a read through strides) that nothing outside reads is no
        // instruction: its readers read the input directly.
        var alias: [Int: FusedInstruction.Operand] = [:]
        var body: [FusedInstruction] = []
        func input(_ v: Int, _ read: AffineRead) -> FusedInstruction.Operand {
            if let k = readIndex[v]?.first(where: { $0.0 == read })?.1 { return .input(k) }
            reads.append(read)
            inputs.append(v)
            readIndex[v, default: []].append((read, reads.count - 1))
            return .input(reads.count - 1)
        }
        func operand(_ v: Value) -> FusedInstruction.Operand {
            if v.id == head { return .head }
            if let r = register[v.id] { return .register(r) }
            if let a = alias[v.id] { return a }
            if case let .constant(c) = g.nodes[v.id].op { return .scalar(c) }
            let l = layouts[v.id]
            var read = broadcastRead(g.nodes[v.id].type.shape, to: loop, strides: l.strides)
            read.offset = l.offset
            return input(l.root, read)
        }
        var reductions: [FusedReduction] = []
        for n in gr.nodes where n != head {
            let node = g.nodes[n]
            let function: FusedInstruction.Function
            let operands: [FusedInstruction.Operand]
            switch node.op {
            case let .unary(f): (function, operands) = (.unary(f), [operand(node.operands[0])])
            case let .binary(f): (function, operands) = (.binary(f), [operand(node.operands[0]), operand(node.operands[1])])
            case let .random(d, stream): (function, operands) = (.random(d, stream: stream), [])
            case .broadcast: (function, operands) = (.copy, [operand(node.operands[0])])
            case .slice, .transpose:
                guard let l = compose(g, n, over: layouts[node.operands[0].id]) else {
                    throw PlanError("\(node.op.name) (node %\(n)) has no strided read of its operand (a planner bug)")
                }
                (function, operands) = (.copy, [input(l.root, AffineRead(offset: l.offset, strides: l.strides))])
            case let .oneHot(depth):
                // The ids at the loop's leading indices, the same id across the class axis.
                let ids = node.operands[0].id
                let l = layouts[ids]
                guard g.nodes[ids].type.dtype == .i32, l.strides.count + 1 == loop.count, loop.last == depth else {
                    throw PlanError("one_hot (node %\(n)) does not read i32 ids of its loop's leading shape (a fusion bug)")
                }
                (function, operands) = (.oneHot(depth: depth), [input(l.root, AffineRead(offset: l.offset, strides: l.strides + [0]))])
            case let .reduce(f, axes, _):
                let x = node.operands[0]
                guard g.nodes[x.id].type.shape == loop, node.type.dtype == .f32 else {
                    throw PlanError("reduce (node %\(n)) does not reduce its fused loop's shape \(loop) (a fusion bug)")
                }
                let reduced = Set(axes.map { $0 < 0 ? $0 + loop.count : $0 })
                let kept = AffineRead.contiguousStrides(loop.indices.map { reduced.contains($0) ? 1 : loop[$0] })
                let strides = loop.indices.map { reduced.contains($0) ? 0 : kept[$0] }
                reductions.append(FusedReduction(function: f, operand: operand(x), strides: strides, node: n))
                continue
            case .input, .parameter, .state, .carried, .constant, .matmul, .conv, .convInputGrad, .convFilterGrad, .pool, .poolGrad,
                 .softmax, .logSoftmax, .reshape, .unslice, .concat, .gather, .scatterAdd:
                throw PlanError("\(node.op.name) (node %\(n)) cannot be part of a fused loop (a fusion bug)")
            }
            guard node.type.shape == loop, node.type.dtype == .f32 else {
                throw PlanError("node %\(n) (\(node.type)) is not of its fused loop's shape \(loop) (a fusion bug)")
            }
            if function == .copy, !escapes[n], let a = operands.first {
                alias[n] = a
                continue
            }
            register[n] = body.count
            body.append(FusedInstruction(function: function, operands: operands, node: n))
        }
        var outputs: [Int] = head.map { [$0] } ?? []
        var results: [Int] = []
        let sinks = Set(reductions.map(\.node))
        for n in gr.nodes where n != head && escapes[n] && !sinks.contains(n) {
            // An aliased copy that escapes is an instruction; everything stored has a register.
            guard let r = register[n] else { throw PlanError("node %\(n) escapes its fused loop without a register (a planner bug)") }
            outputs.append(n)
            results.append(r)
        }
        outputs += reductions.map(\.node)
        let fused = FusedLoop(head: head.map { g.nodes[$0].op }, headInputs: headInputs, shape: loop, reads: reads, body: body,
                              results: results, reductions: reductions)
        let sources = gr.nodes.map { SourceOp(node: $0, op: g.nodes[$0].op.name, location: g.nodes[$0].location) }
        return Step(kernel: .fused(fused), inputs: inputs, outputs: outputs, location: g.nodes[gr.nodes[0]].location, sources: sources)
    }

    /// NumPy broadcasting of `shape` (its elements at `strides`, row-major
    /// by default) to `loop` as strides (0 on broadcast axes).
    static func broadcastRead(_ shape: [Int], to loop: [Int], strides given: [Int]? = nil) -> AffineRead {
        let c = given ?? AffineRead.contiguousStrides(shape)
        let lead = loop.count - shape.count
        let strides = loop.indices.map { a -> Int in
            let k = a - lead
            if k < 0 || (shape[k] == 1 && loop[a] != 1) { return 0 }
            return c[k]
        }
        return AffineRead(offset: 0, strides: strides)
    }

    /// For each value written straight into the persistent leaf it updates:
    /// value slot → leaf slot. The conditions: the value is an output of a
    /// step (not a leaf, not a view), updates one leaf only, and every read
    /// of the leaf's old value (directly or through a view) is at an
    /// earlier step, or is that step and `allowsInPlace`.
    static func inPlaceUpdates(_ g: Graph, _ steps: [Step], _ slots: [Slot]) throws -> [Int: Int] {
        var leafOf: [String: Int] = [:]
        for (i, n) in g.nodes.enumerated() {
            switch n.op {
            case let .parameter(name), let .state(name), let .carried(name): leafOf[name] = i
            default: break
            }
        }
        var writer: [Int: (step: Int, output: Int)] = [:]
        var lastReader: [Int: Int] = [:]
        for (k, s) in steps.enumerated() {
            for (o, y) in s.outputs.enumerated() { writer[y] = (k, o) }
            for x in s.inputs { lastReader[Liveness.root(x, slots)] = k }
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
            guard let leaf = leafOf[u.name], v >= 0, v < g.nodes.count, updatedBy[v] == 1, let w = writer[v],
                  case .arena = slots[v].storage, slots[v].type == slots[leaf].type else { continue }
            if let last = lastReader[leaf], last > w.step { continue }
            let s = steps[w.step]
            let reads = s.inputs.indices.filter { Liveness.root(s.inputs[$0], slots) == leaf }
            guard reads.allSatisfy({ allowsInPlace(s, input: $0, output: w.output, slots) }) else { continue }
            result[v] = leaf
        }
        return result
    }
}
