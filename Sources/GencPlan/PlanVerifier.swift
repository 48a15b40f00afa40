import GencIR

/// Proves what the runtime relies on: every slot fits its storage, every
/// step reads slots written earlier (or inputs and persistent buffers), no
/// two arena values alive at the same time share a byte, and every write to
/// a persistent buffer is a declared in-place update that comes after every
/// read of the old value.
public enum PlanVerifier {
    public static func verify(_ p: Plan) -> [String] {
        var problems: [String] = []
        for (i, s) in p.slots.enumerated() {
            switch s.storage {
            case let .arena(offset):
                if offset < 0 || offset + s.type.byteCount > p.arenaBytes { problems.append("slot \(i) [\(offset), +\(s.type.byteCount)) is outside the arena of \(p.arenaBytes) bytes") }
                if offset % Planner.alignment != 0 { problems.append("slot \(i) at \(offset) is not \(Planner.alignment)-byte aligned") }
            case let .persistent(k):
                if k < 0 || k >= p.persistent.count { problems.append("slot \(i) names persistent buffer \(k), which does not exist") }
                else if p.persistent[k].type != s.type { problems.append("slot \(i) is \(s.type) but persistent '\(p.persistent[k].name)' is \(p.persistent[k].type)") }
            }
        }
        var written = Set(p.inputs.map(\.slot))
        for (i, s) in p.slots.enumerated() { if case .persistent = s.storage { written.insert(i) } }
        // Updates: each buffer at most once, never a constant; in place only into its own slot.
        var inPlaceBuffer: [Int: Int] = [:]  // slot → buffer
        var updatedBuffers = Set<Int>()
        for u in p.updates {
            guard u.buffer >= 0, u.buffer < p.persistent.count, u.slot >= 0, u.slot < p.slots.count else {
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
        var writtenAt: [Int: Int] = [:]  // in-place buffer → the step that writes it
        for (k, step) in p.steps.enumerated() {
            for r in step.inputs where !written.contains(r) { problems.append("step \(k) (\(step.op.name)) reads slot \(r) before it is written") }
            if case let .persistent(b) = p.slots[step.output].storage {
                if inPlaceBuffer[step.output] != b {
                    problems.append("step \(k) writes persistent slot \(step.output), which is not an in-place update")
                } else if writtenAt[b] != nil {
                    problems.append("step \(k) writes '\(p.persistent[b].name)' a second time")
                } else {
                    writtenAt[b] = k
                }
            }
            // Reads of a buffer's old value: before its in-place write, or by the writing step itself element for element.
            for r in step.inputs where r != step.output {
                guard case let .persistent(b) = p.slots[r].storage, let w = writtenAt[b], inPlaceBuffer[r] != b else { continue }
                if w < k { problems.append("step \(k) (\(step.op.name)) reads the old value of '\(p.persistent[b].name)' after step \(w) overwrote it") }
                if w == k, !(step.op.readsElementwise && p.slots[r].type.shape == p.slots[step.output].type.shape) {
                    problems.append("step \(k) (\(step.op.name)) overwrites '\(p.persistent[b].name)' while reading it other than element for element")
                }
            }
            written.insert(step.output)
        }
        // No overlap among simultaneously live arena values.
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
                if x.first <= y.last, y.first <= x.last, x.hi > x.lo, y.hi > y.lo {
                    problems.append("slots \(x.slot) and \(y.slot) overlap in the arena while both are live (steps \(max(x.first, y.first))...\(min(x.last, y.last)))")
                }
                b += 1
            }
        }
        return problems
    }
}
