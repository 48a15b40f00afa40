import GencIR

/// Proves what the runtime relies on, for plans from the planner and from
/// plan files alike: every slot fits its storage; every view has the bytes
/// of a stored slot; every step's types obey its op's shape rule and every
/// fused read stays inside its input; every step reads slots written
/// earlier (or inputs and persistent buffers) and nothing a fused loop kept
/// to itself; no two arena buffers alive at the same time share a byte,
/// except an output that takes the bytes of an input dying at its step where
/// the kernel allows it (`Planner.allowsInPlace`); and every write to a
/// persistent buffer is a declared in-place update after every read of the
/// old value.
public enum PlanVerifier {
    public static func verify(_ p: Plan) -> [String] {
        var problems: [String] = []
        let n = p.slots.count
        func valid(_ s: Int) -> Bool { s >= 0 && s < n }
        for (i, s) in p.slots.enumerated() {
            switch s.storage {
            case let .arena(offset):
                if offset < 0 || offset > p.arenaBytes - s.type.byteCount { problems.append("slot \(i) [\(offset), +\(s.type.byteCount)) is outside the arena of \(p.arenaBytes) bytes") }
                if offset % Planner.alignment != 0 { problems.append("slot \(i) at \(offset) is not \(Planner.alignment)-byte aligned") }
            case let .persistent(k):
                if k < 0 || k >= p.persistent.count { problems.append("slot \(i) names persistent buffer \(k), which does not exist") }
                else if p.persistent[k].type != s.type { problems.append("slot \(i) is \(s.type) but persistent '\(p.persistent[k].name)' is \(p.persistent[k].type)") }
            case let .view(of):
                if !valid(of) { problems.append("slot \(i) is a view of slot \(of), which does not exist"); continue }
                switch p.slots[of].storage {
                case .view, .fused: problems.append("slot \(i) is a view of slot \(of), which is not a stored buffer")
                case .arena, .persistent: break
                }
                if p.slots[of].type.byteCount != s.type.byteCount || p.slots[of].type.dtype != s.type.dtype {
                    problems.append("slot \(i) (\(s.type)) is a view of slot \(of) (\(p.slots[of].type)), which has other bytes")
                }
            case .fused: break
            }
        }
        guard problems.isEmpty else { return problems }
        func root(_ s: Int) -> Int { Liveness.root(s, p.slots) }
        func isFused(_ s: Int) -> Bool { if case .fused = p.slots[s].storage { return true } else { return false } }
        for io in p.inputs + p.outputs where !valid(io.slot) || isFused(io.slot) { problems.append("'\(io.name)' names slot \(io.slot), which is not a stored buffer") }
        for (k, step) in p.steps.enumerated() { problems += shapeProblems(k, step, p) }
        guard problems.isEmpty else { return problems }

        var written = Set(p.inputs.map { root($0.slot) })
        for (i, s) in p.slots.enumerated() { if case .persistent = s.storage { written.insert(i) } }
        // Updates: each buffer at most once, never a constant; in place only into its own slot.
        var inPlaceBuffer: [Int: Int] = [:]  // slot → buffer
        var updatedBuffers = Set<Int>()
        for u in p.updates {
            guard u.buffer >= 0, u.buffer < p.persistent.count, valid(u.slot), !isFused(u.slot) else {
                problems.append("update of buffer \(u.buffer) from slot \(u.slot) is out of range")
                continue
            }
            if !updatedBuffers.insert(u.buffer).inserted { problems.append("persistent '\(p.persistent[u.buffer].name)' is updated twice") }
            if p.persistent[u.buffer].kind == .constant { problems.append("update writes constant '\(p.persistent[u.buffer].name)'") }
            if p.slots[u.slot].type != p.persistent[u.buffer].type { problems.append("update of '\(p.persistent[u.buffer].name)' has type \(p.slots[u.slot].type)") }
            if u.inPlace {
                if p.slots[u.slot].storage != .persistent(u.buffer) { problems.append("in-place update of '\(p.persistent[u.buffer].name)' is not stored in it") }
                inPlaceBuffer[u.slot] = u.buffer
            }
        }
        let inputSlots = Set(p.inputs.map { root($0.slot) })
        var writtenAt: [Int: Int] = [:]  // in-place buffer → the step that writes it
        var writtenSlots = Set<Int>()
        for (k, step) in p.steps.enumerated() {
            for r in step.inputs {
                if isFused(r) { problems.append("step \(k) (\(step.name)) reads slot \(r), which a fused loop never stores") }
                else if !written.contains(root(r)) { problems.append("step \(k) (\(step.name)) reads slot \(r) before it is written") }
            }
            for (o, y) in step.outputs.enumerated() {
                switch p.slots[y].storage {
                case .view, .fused: problems.append("step \(k) (\(step.name)) writes slot \(y), which is not a stored buffer")
                case .arena:
                    if inputSlots.contains(y) { problems.append("step \(k) (\(step.name)) overwrites the program input in slot \(y)") }
                case let .persistent(b):
                    if inPlaceBuffer[y] != b {
                        problems.append("step \(k) writes persistent slot \(y), which is not an in-place update")
                    } else if writtenAt[b] != nil {
                        problems.append("step \(k) writes '\(p.persistent[b].name)' a second time")
                    } else {
                        writtenAt[b] = k
                        // Reads of the buffer's old value by the writing step itself: element for element only.
                        for (i, r) in step.inputs.enumerated() where root(r) == y && !Planner.allowsInPlace(step, input: i, output: o, p.slots) {
                            problems.append("step \(k) (\(step.name)) overwrites '\(p.persistent[b].name)' while reading it other than element for element")
                        }
                    }
                }
                if !writtenSlots.insert(y).inserted { problems.append("slot \(y) is written twice (again at step \(k))") }
            }
            // Reads of a buffer's old value after its in-place write.
            for r in step.inputs {
                guard case let .persistent(b) = p.slots[root(r)].storage, let w = writtenAt[b], w < k else { continue }
                if inPlaceBuffer[root(r)] == b { continue }
                problems.append("step \(k) (\(step.name)) reads the old value of '\(p.persistent[b].name)' after step \(w) overwrote it")
            }
            for y in step.outputs { written.insert(y) }
        }
        for u in p.updates where valid(u.slot) && u.buffer >= 0 && u.buffer < p.persistent.count && !written.contains(root(u.slot)) { problems.append("update of '\(p.persistent[u.buffer].name)' reads slot \(u.slot), which is never written") }
        problems += overlaps(p)
        return problems
    }

    /// Types and bounds of one step: the op's shape rule, and for a fused
    /// loop its registers, reads and outputs.
    static func shapeProblems(_ k: Int, _ step: Step, _ p: Plan) -> [String] {
        let n = p.slots.count
        guard step.inputs.allSatisfy({ $0 >= 0 && $0 < n }), step.outputs.allSatisfy({ $0 >= 0 && $0 < n }) else {
            return ["step \(k) (\(step.name)) names a slot that does not exist"]
        }
        func type(_ s: Int) -> TensorType { p.slots[s].type }
        var problems: [String] = []
        func check(_ op: Op, _ ins: [Int], _ out: Int) {
            guard !op.isLeaf else { problems.append("step \(k) runs a leaf (\(op.name))"); return }
            do {
                let given: TensorType? = op.isLeaf ? type(out) : nil
                let t = try op.resultType(ins.map(type), given: given)
                if t != type(out) { problems.append("step \(k) (\(op.name)) writes \(type(out)), but its operands give \(t)") }
            } catch {
                problems.append("step \(k) (\(op.name)): \(error)")
            }
        }
        switch step.kernel {
        case let .op(op):
            guard step.outputs.count == 1 else { return ["step \(k) (\(op.name)) has \(step.outputs.count) outputs, not 1"] }
            if case .random = op {
                if !step.inputs.isEmpty { problems.append("step \(k) (random) has operands") }
                if type(step.outputs[0]).dtype != .f32 { problems.append("step \(k) (random) writes \(type(step.outputs[0]))") }
            } else {
                check(op, step.inputs, step.outputs[0])
            }
        case let .fused(f):
            guard f.headInputs >= 0, f.headInputs <= step.inputs.count, f.reads.count == step.inputs.count - f.headInputs,
                  f.results.count + f.reductions.count == step.outputs.count - f.firstResultOutput, f.shape.allSatisfy({ $0 >= 0 }),
                  (try? Size.elements(f.shape)) != nil else {
                return ["step \(k) (\(step.name)) has inputs, reads and outputs that do not match"]
            }
            let elements = f.shape.reduce(1, *)
            if let head = f.head {
                guard !step.outputs.isEmpty else { return ["step \(k) (\(step.name)) has no output for its head"] }
                check(head, Array(step.inputs.prefix(f.headInputs)), step.outputs[0])
                if type(step.outputs[0]).shape != f.shape { problems.append("step \(k): the head writes \(type(step.outputs[0])), not the loop's shape \(f.shape)") }
            } else if f.headInputs != 0 {
                problems.append("step \(k) has head inputs but no head")
            }
            // i32 inputs are class ids, read only by one_hot; everything else reads f32.
            var readByOneHot = Set<Int>(), readOtherwise = Set<Int>()
            for ins in f.body {
                for case let .input(i) in ins.operands {
                    if case .oneHot = ins.function { readByOneHot.insert(i) } else { readOtherwise.insert(i) }
                }
            }
            for r in f.reductions { if case let .input(i) = r.operand { readOtherwise.insert(i) } }
            for (j, r) in f.reads.enumerated() {
                let t = type(step.inputs[f.headInputs + j])
                let dtypeFits = t.dtype == .f32 ? !readByOneHot.contains(j) : t.dtype == .i32 && !readOtherwise.contains(j)
                guard dtypeFits, r.strides.count == f.shape.count else { problems.append("step \(k): read \(j) does not match the loop"); continue }
                // The lowest and highest element the read touches.
                var lo = r.offset, hi = r.offset
                for a in f.shape.indices where f.shape[a] > 0 {
                    let (span, o) = r.strides[a].multipliedReportingOverflow(by: f.shape[a] - 1)
                    if o { lo = Int.min; break }
                    let (next, o2) = span < 0 ? lo.addingReportingOverflow(span) : hi.addingReportingOverflow(span)
                    if o2 { lo = Int.min; break }
                    if span < 0 { lo = next } else { hi = next }
                }
                if elements > 0, lo < 0 || hi >= t.elementCount { problems.append("step \(k): read \(j) reaches outside its input of \(t.elementCount) elements") }
            }
            for (j, ins) in f.body.enumerated() {
                for o in ins.operands {
                    switch o {
                    case let .input(i): if i < 0 || i >= f.reads.count { problems.append("step \(k): instruction \(j) reads input \(i), which does not exist") }
                    case let .register(r): if r < 0 || r >= j { problems.append("step \(k): instruction \(j) reads register \(r) before it is computed") }
                    case .head: if f.head == nil { problems.append("step \(k): instruction \(j) reads a head the loop does not have") }
                    case .scalar: break
                    }
                }
                let arity: Int
                switch ins.function {
                case .unary, .copy: arity = 1
                case .binary: arity = 2
                case .random: arity = 0
                case let .oneHot(depth):
                    arity = 1
                    if f.shape.last != depth { problems.append("step \(k): one_hot instruction \(j) of depth \(depth) does not run over the loop's last axis") }
                    if let o = ins.operands.first, case .input = o {} else { problems.append("step \(k): one_hot instruction \(j) does not read an input") }
                }
                if ins.operands.count != arity { problems.append("step \(k): instruction \(j) has \(ins.operands.count) operands, not \(arity)") }
            }
            for (j, r) in f.reductions.enumerated() {
                switch r.operand {
                case let .input(i): if i < 0 || i >= f.reads.count { problems.append("step \(k): reduction \(j) reads input \(i), which does not exist") }
                case let .register(x): if x < 0 || x >= f.body.count { problems.append("step \(k): reduction \(j) reads register \(x), which does not exist") }
                case .head: if f.head == nil { problems.append("step \(k): reduction \(j) reads a head the loop does not have") }
                case .scalar: problems.append("step \(k): reduction \(j) reduces a scalar")
                }
                let t = type(step.outputs[f.firstReductionOutput + j])
                // The output's row-major strides over the kept axes, 0 over the reduced ones.
                let kept = f.shape.indices.map { r.strides.count == f.shape.count && r.strides[$0] == 0 ? 1 : f.shape[$0] }
                let expected = AffineRead.contiguousStrides(kept)
                let fits = r.strides.count == f.shape.count && f.shape.indices.allSatisfy { r.strides[$0] == 0 || r.strides[$0] == expected[$0] || f.shape[$0] == 1 }
                if !fits || t.dtype != .f32 || t.elementCount != kept.reduce(1, *) {
                    problems.append("step \(k): reduction \(j) writes \(t), which does not match its strides \(r.strides) over the loop \(f.shape)")
                }
            }
            for (j, r) in f.results.enumerated() {
                if r < 0 || r >= f.body.count { problems.append("step \(k): output \(j) stores register \(r), which does not exist") }
                let t = type(step.outputs[f.firstResultOutput + j])
                if t.dtype != .f32 || t.shape != f.shape { problems.append("step \(k): output \(j) is \(t), not the loop's f32\(f.shape)") }
            }
            _ = elements
        }
        return problems
    }

    /// Arena buffers alive at the same time that share bytes, unless in place.
    static func overlaps(_ p: Plan) -> [String] {
        var problems: [String] = []
        // Inputs stay live for the whole run: a caller may set them once and run many times.
        let liveness = Liveness(steps: p.steps, slots: p.slots, inputs: p.inputs.map(\.slot),
                                pinned: p.inputs.map(\.slot) + p.outputs.map(\.slot) + p.copiedUpdates.map(\.slot))
        var live: [(slot: Int, lo: Int, hi: Int, first: Int, last: Int)] = []
        for (s, iv) in liveness.intervals.enumerated() {
            guard let iv, case let .arena(offset) = p.slots[s].storage else { continue }
            live.append((s, offset, offset + p.slots[s].type.byteCount, iv.first, iv.last))
        }
        live.sort { $0.lo < $1.lo }
        for a in 0..<live.count {
            var b = a + 1
            while b < live.count, live[b].lo < live[a].hi {
                let x = live[a], y = live[b]
                if x.first <= y.last, y.first <= x.last, x.hi > x.lo, y.hi > y.lo, !inPlace(x, y, p) {
                    problems.append("slots \(x.slot) and \(y.slot) overlap in the arena while both are live (steps \(max(x.first, y.first))...\(min(x.last, y.last)))")
                }
                b += 1
            }
        }
        return problems
    }

    /// Whether two overlapping buffers are one step's input and the output
    /// written over it in place, as its kernel allows.
    static func inPlace(_ x: (slot: Int, lo: Int, hi: Int, first: Int, last: Int), _ y: (slot: Int, lo: Int, hi: Int, first: Int, last: Int), _ p: Plan) -> Bool {
        let (early, late) = x.first <= y.first ? (x, y) : (y, x)
        guard early.lo == late.lo, early.hi == late.hi, early.last == late.first, late.first < p.steps.count else { return false }
        let step = p.steps[late.first]
        guard let o = step.outputs.firstIndex(of: late.slot) else { return false }
        let reads = step.inputs.indices.filter { Liveness.root(step.inputs[$0], p.slots) == early.slot }
        return !reads.isEmpty && reads.allSatisfy { Planner.allowsInPlace(step, input: $0, output: o, p.slots) }
    }
}
