import GencIR

/// Proves what the runtime relies on: every slot fits its storage, every
/// step reads slots written earlier (or inputs and persistent buffers), and
/// no two arena values alive at the same time share a byte.
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
        for (k, step) in p.steps.enumerated() {
            for r in step.inputs where !written.contains(r) { problems.append("step \(k) (\(step.op.name)) reads slot \(r) before it is written") }
            if case .persistent = p.slots[step.output].storage { problems.append("step \(k) writes persistent slot \(step.output)") }
            written.insert(step.output)
        }
        // No overlap among simultaneously live arena values.
        let liveness = Liveness(steps: p.steps, slots: p.slots, inputs: p.inputs.map(\.slot),
                                pinned: p.outputs.map(\.slot) + p.stateUpdates.map(\.slot))
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
