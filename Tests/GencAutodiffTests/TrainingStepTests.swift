import Genc
import GencAutodiff
import GencIR
import GencLower
import GencPlan
import GencRuntime
import GencSpec
import GencTestSupport
import XCTest

/// The training-step programs run: repeated steps on one fixed batch lower
/// the loss, and every update of the step is written in place.
final class TrainingStepTests: XCTestCase {
    func steps(_ path: String, dims: [(String, Int)], objective: String, count: Int) throws -> (first: Float, last: Float, plan: Plan) {
        let r = FrontEnd.load(path: Repository.path(path), options: SpecOptions(dimOverrides: dims))
        let model = try XCTUnwrap(r.lowered)
        let plan = try XCTUnwrap(r.plans["train.\(objective)"])
        let evalPlan = try XCTUnwrap(r.plans["eval.\(objective)"])
        let store = ParameterStore()
        let train = try Executable(plan: plan, store: store)
        let eval = try Executable(plan: evalPlan, store: store)
        store.initialize(seed: 1)
        // Initialisers as the model says (running variance 1, slots 0).
        for e in store.entries { if let info = model.parameters.first(where: { $0.name == e.name }), !info.isTrainable {
            try store.set(e.name, kind: e.kind, floats: Array(repeating: info.role == .runningVariance ? 1 : 0, count: e.type.elementCount))
        } }
        for exe in [train, eval] {
            for i in exe.plan.inputs {
                let t = exe.plan.slots[i.slot].type
                var local = SplitMix(UInt64(i.name.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }))
                if t.dtype == .i32 {
                    try exe.setInput(i.name, ints: (0..<t.elementCount).map { _ in Int32(local.next() % 98) })
                } else {
                    try exe.setInput(i.name, floats: (0..<t.elementCount).map { _ in Float(local.uniform()) })
                }
            }
        }
        func loss() throws -> Float {
            try eval.run(seed: 7)
            return try XCTUnwrap(eval.output("loss")).floats[0]
        }
        let first = try loss()
        for _ in 0..<count { try train.run(seed: 7) }
        return (first, try loss(), plan)
    }

    func testVAEStepsLowerTheELBO() throws {
        let (first, last, plan) = try steps("models/vae.yaml", dims: [("batch", 8)], objective: "elbo", count: 30)
        XCTAssertLessThan(last, first * 0.8, "elbo \(first) → \(last)")
        XCTAssertTrue(plan.updates.allSatisfy(\.inPlace), "\(plan.updates.filter { !$0.inPlace })")
        XCTAssertEqual(PlanVerifier.verify(plan), [])
    }

    func testCharLSTMStepsLowerTheLoss() throws {
        let (first, last, _) = try steps("models/char-lstm.yaml", dims: [("batch", 2), ("steps", 8)], objective: "loss", count: 3)
        XCTAssertLessThan(last, first, "loss \(first) → \(last)")
    }
}
