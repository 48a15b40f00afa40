import GencIR
import GencKernels
import GencPlan

/// The matmuls of a plan that read one B, packed once per run: every step
/// computing A·op(B) with A untransposed and at most
/// `PackedOperand.maxRows` rows, grouped by B's slot and transpose, where
/// a group has at least two steps (one reader gains nothing: OpenBLAS packs
/// its operands too). The first step of a group in plan order packs B;
/// the others read the packed copy.
///
/// Why this is sound: an arena slot holds one value from the step that
/// writes it to its last reader (the planner's liveness), so B's bytes are
/// the same at every step of its group. A persistent slot (a parameter) is
/// overwritten only by an in-place update, which the planner and
/// `PlanVerifier` allow only after every read of the old value, by a step
/// that reads it element by element (never as a matmul's B); the new value
/// is another slot, and another group.
struct PackedOperandGroup: Equatable {
    var slot: Int
    var transB: Bool
    var k: Int, n: Int
    /// Plan step indices, in order.
    var steps: [Int]

    var floats: Int { PackedOperand.floats(k: k, n: n) }

    static func groups(_ plan: Plan) -> [PackedOperandGroup] {
        var groups: [PackedOperandGroup] = []
        var index: [Int: Int] = [:]
        for (i, step) in plan.steps.enumerated() {
            guard let call = OpCall(step), case let .matmul(false, tb) = call.op, call.inputs.count == 2 else { continue }
            let out = plan.slots[call.output].type.shape, b = plan.slots[call.inputs[1]].type.shape
            guard out.count == 2, b.count == 2, out[0] >= 1, out[0] <= PackedOperand.maxRows else { continue }
            let (k, n) = tb ? (b[1], b[0]) : (b[0], b[1])
            let key = call.inputs[1] * 2 + (tb ? 1 : 0)
            if let g = index[key] {
                groups[g].steps.append(i)
            } else {
                index[key] = groups.count
                groups.append(PackedOperandGroup(slot: call.inputs[1], transB: tb, k: k, n: n, steps: [i]))
            }
        }
        return groups.filter { $0.steps.count >= 2 }
    }
}

extension Executable {
    /// The bytes the packed copies of `plan`'s shared B operands take.
    static func packedBytes(_ plan: Plan) -> Int {
        PackedOperandGroup.groups(plan).reduce(0) { $0 + $1.floats * 4 }
    }

    /// The kernel of matmul step `index` of a packed group: it packs B
    /// first when it is the group's first step.
    func packedMatmul(_ packed: PackedOperand, packs: Bool, _ ins: [Int], _ out: Int) -> () -> Void {
        let (sa, sb) = (shape(ins[0]), shape(ins[1]))
        let m = plan.slots[out].type.shape[0]
        let (a, b, c, threads) = (f32(ins[0]), f32(ins[1]), f32(out), self.threads)
        let (lda, ldb, ldc) = (sa[1], sb[1], packed.n)
        if packs {
            return {
                packB(packed, from: b, ldb: ldb, threads: threads)
                sgemmPacked(m: m, a: a, lda: lda, packed: packed, c: c, ldc: ldc, threads: threads)
            }
        }
        return { sgemmPacked(m: m, a: a, lda: lda, packed: packed, c: c, ldc: ldc, threads: threads) }
    }
}
