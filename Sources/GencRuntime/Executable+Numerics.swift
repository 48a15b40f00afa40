import GencIR
import GencKernels
import GencPlan

/// The first value a run made that is NaN or ±∞: which step of which
/// program, the IR op (inside a fused group too) and its YAML location.
public struct NumericFault: Error, CustomStringConvertible, Sendable {
    /// The program's name (`vae.train.elbo`).
    public var program: String
    /// The step (kernel) index in the plan, and its kernel's short name.
    public var step: Int
    public var kernel: String
    /// The op that made the value ("exp", "matmul"), or nil when it was
    /// already in an input or a persistent buffer before the first kernel.
    public var op: String?
    public var location: IRLocation?
    /// What held it: "its f32[64,784] result", "input 'x'", "parameter 'g.dense0.w'".
    public var holder: String
    /// The element's flat index (nil inside a fused loop: it was never stored).
    public var element: Int?
    public var value: Float

    public var what: String { value.isNaN ? "NaN" : value > 0 ? "+inf" : "-inf" }

    public var description: String {
        let at = location.map { "\($0.path):\($0.line):\($0.column): " } ?? ""
        if let op {
            return "\(at)'\(op)' produced \(what) (\(element.map { "element \($0) of " } ?? "")\(holder)) in kernel \(step) (\(kernel)) of program '\(program)'"
        }
        return "\(holder) holds \(what) at element \(element ?? 0) before program '\(program)' runs"
    }
}

/// What `--check-numerics` needs of a fused step: its loop, bound, and the
/// seeds of its random streams (set as the kernel sets them).
struct FusedCheck {
    var program: FusedProgram
    var seeds: UnsafeMutablePointer<UInt64>
    var streams: [Int]
    var hasHead: Bool
}

extension Executable {
    /// Runs every kernel like `run`, but checks each one's f32 results for
    /// NaN and ±∞ as soon as it has run, and the inputs and persistent
    /// buffers before the first; throws a `NumericFault` for the first.
    /// A fused group's body is checked instruction by instruction (before
    /// the loop runs, without storing, or after a contraction head), so the
    /// fault names the op inside the group, not only the group.
    func runCheckingNumerics() throws {
        for i in plan.inputs { try checkBeforeRun(slot: i.slot, holder: "input '\(i.name)'") }
        for (k, p) in plan.persistent.enumerated() {
            guard let slot = plan.slots.firstIndex(where: { $0.storage == .persistent(k) }) else { continue }
            try checkBeforeRun(slot: slot, holder: "\(p.kind.rawValue) '\(p.name)'")
        }
        for (s, step) in plan.steps.enumerated() {
            if let check = fusedChecks[s], !check.hasHead { try checkFusedBody(check, step: s) }
            kernels[s]()
            for (k, slot) in step.outputs.enumerated() {
                guard let (element, value) = nonFinite(slot) else { continue }
                if let check = fusedChecks[s], check.hasHead, k > 0 { try checkFusedBody(check, step: s) }
                let node = producer(of: k, in: step)
                throw fault(step: s, node: node, holder: "its \(plan.slots[slot].type) result", element: element, value: value)
            }
        }
    }

    /// The first non-finite element of an f32 slot that lives in memory.
    private func nonFinite(_ slot: Int) -> (Int, Float)? {
        let s = plan.slots[slot]
        guard s.type.dtype == .f32 else { return nil }
        switch s.storage {
        case .arena, .persistent: break
        case .view, .fused: return nil
        }
        let p = UnsafePointer(f32(slot))
        return firstNonFinite(p, s.type.elementCount).map { ($0, p[$0]) }
    }

    private func checkBeforeRun(slot: Int, holder: String) throws {
        guard let (element, value) = nonFinite(slot) else { return }
        throw NumericFault(program: plan.name, step: 0, kernel: plan.steps.first?.name ?? "", op: nil, location: nil,
                           holder: holder, element: element, value: value)
    }

    /// Throws for the first body instruction of a fused step that makes a non-finite value.
    private func checkFusedBody(_ check: FusedCheck, step s: Int) throws {
        for (k, stream) in check.streams.enumerated() { check.seeds[k] = Seeds.derive(state.seed, stream) }
        guard let j = firstNonFiniteInstruction(check.program, seeds: check.seeds, scratch: fusedScratch) else { return }
        guard case let .fused(f) = plan.steps[s].kernel else { return }
        throw fault(step: s, node: f.body[j].node, holder: "in a value of its fused loop over \(f.shape.map(String.init).joined(separator: "x")) elements, never stored",
                    element: nil, value: .nan)
    }

    /// The IR node whose value output `k` of `step` is.
    private func producer(of k: Int, in step: Step) -> Int? {
        switch step.kernel {
        case .op: return step.sources.first?.node
        case let .fused(f):
            if f.head != nil, k == 0 { return step.sources.first?.node }
            if k >= f.firstReductionOutput { return f.reductions[k - f.firstReductionOutput].node }
            return f.body[f.results[k - f.firstResultOutput]].node
        }
    }

    private func fault(step s: Int, node: Int?, holder: String, element: Int?, value: Float) -> NumericFault {
        let step = plan.steps[s]
        let source = step.sources.first { $0.node == node } ?? step.sources.first
        return NumericFault(program: plan.name, step: s, kernel: step.name, op: source?.op ?? step.name,
                            location: source?.location ?? step.location, holder: holder, element: element, value: value)
    }
}
