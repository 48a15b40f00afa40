import Genc
import GencIR
import GencKernels
import GencLower
import GencPasses
import GencPlan
import GencRuntime
import GencSpec
import GencSupport
import GencTestSupport
import XCTest

/// The optimizing planner (fusion, views, in-place, scheduling) against the
/// unoptimized one (every op its own kernel, node order): the same numbers.
final class OptimizedPlanTests: XCTestCase {
    static let models: [(String, [(String, Int)])] = [
        ("mlp-gan", [("batch", 4)]), ("dcgan", [("batch", 2)]), ("vae", [("batch", 4)]),
        ("char-lstm", [("batch", 2), ("steps", 5)]), ("conv-vae", [("batch", 2)]),
        ("examples/byte-lm", [("batch", 2), ("steps", 4), ("width", 8)]), ("examples/cifar-dcgan", [("batch", 2), ("ch", 4)]),
        ("examples/conv1d-denoiser", [("batch", 2)]), ("examples/infogan-shapes", [("batch", 4)]),
    ]

    func load(_ name: String, _ dims: [(String, Int)]) throws -> FrontEnd.Result {
        let r = FrontEnd.load(path: Repository.path("models/\(name).yaml"), options: SpecOptions(dimOverrides: dims))
        _ = try XCTUnwrap(r.optimized, DiagnosticRenderer().render(r.diagnostics))
        return r
    }

    /// One run of `plan` from the same weights and inputs: its outputs and every persistent buffer after it.
    func runOnce(_ plan: Plan, threads: Int) throws -> [String: [Float]] {
        let store = ParameterStore()
        let exe = try Executable(plan: plan, store: store, threads: threads)
        store.initialize(seed: 7)
        for i in plan.inputs {
            let t = plan.slots[i.slot].type
            if t.dtype == .i32 {
                try exe.setInput(i.name, ints: (0..<t.elementCount).map { Int32(($0 * 7 + 3) % 20) })
            } else {
                try exe.setInput(i.name, floats: (0..<t.elementCount).map { Float(($0 * 37 + 11) % 101) / 101 })
            }
        }
        try exe.run(seed: 5)
        var out: [String: [Float]] = [:]
        for o in plan.outputs { out["output " + o.name] = exe.output(o.name)?.floats }
        for p in plan.persistent where p.kind != .constant {
            out["\(p.kind.rawValue) " + p.name] = store.floats(p.name, kind: p.kind)
        }
        return out
    }

    func testOptimizedPlansComputeWhatUnoptimizedOnesDo() throws {
        for (name, dims) in Self.models {
            let r = try load(name, dims)
            let model = try XCTUnwrap(r.optimized)
            for program in model.programs where program.name.hasPrefix("train.") || program.name.hasPrefix("sample.") {
                let infos = Dictionary(model.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                let fast = try Planner.plan(program.graph, options: .optimized) { n, _, _ in Compiler.initializer(infos[n]) }
                let slow = try Planner.plan(program.graph, options: .unoptimized) { n, _, _ in Compiler.initializer(infos[n]) }
                XCTAssertEqual(PlanVerifier.verify(fast), [], "\(name) \(program.name)")
                XCTAssertLessThan(fast.steps.count, slow.steps.count, "\(name) \(program.name)")
                // The same thread count for both: how a second worker splits a GEMM or a
                // reduction changes rounding (TrainerTests bounds that), not what is computed.
                for threads in [1, 2] {
                    let a = try runOnce(fast, threads: threads), b = try runOnce(slow, threads: threads)
                    XCTAssertEqual(Set(a.keys), Set(b.keys), "\(name) \(program.name)")
                    for (k, x) in b {
                        let y = try XCTUnwrap(a[k], "\(name) \(program.name) \(k)")
                        XCTAssertEqual(x.count, y.count)
                        var worst = 0.0, at = 0
                        for (i, (u, v)) in zip(x, y).enumerated() {
                            let err = abs(Double(u) - Double(v)) / max(1e-3, abs(Double(u)))
                            if err > worst { (worst, at) = (err, i) }
                        }
                        XCTAssertLessThanOrEqual(worst, 1e-5, "\(name) \(program.name) \(k), \(threads) threads: relative difference \(worst) at element \(at): \(x.isEmpty ? 0 : x[at]) unoptimized, \(y.isEmpty ? 0 : y[at]) optimized")
                    }
                }
            }
        }
    }

    /// The passes that change how a product is computed, each against the
    /// same pipeline without it: `merge-matmul-sums` (one GEMM over operands
    /// concatenated along K for a sum of GEMMs) and `transpose-shared-b`
    /// (an untransposed read of one transposed copy). The summation order
    /// may differ, so each gradient is bounded against its largest element
    /// (a reordered sum's rounding), in the `grad.*` programs: after an Adam
    /// step a gradient element near zero can move its weight by a whole
    /// learning rate. The models are those where each pass fires: char-lstm
    /// (its W_hh gradient, summed over steps, and W_hh read transposed at
    /// every step of the backward) and mlp-gan (the discriminator's weights,
    /// read for real and fake batches).
    func testProductRewritesComputeWhatTheGraphDid() throws {
        let cases: [(String, [(String, [(String, Int)])])] = [
            (MatmulSumMerging.pass.name, [("char-lstm", [("batch", 2), ("steps", 5)]), ("mlp-gan", [("batch", 4)])]),
            // Batch 80: at most 64 rows, the runtime packs W_hh instead (SharedTransposeB.packedRows).
            (SharedTransposeB.pass.name, [("char-lstm", [("batch", 80), ("steps", 5)])]),
        ]
        for (pass, models) in cases {
            let without = try Pipeline(Pipeline.standard.passes.filter { $0.name != pass })
            for (name, dims) in models {
                let r = try load(name, dims)
                let lowered = try XCTUnwrap(r.lowered)
                let with = try ModelOptimizer.optimize(lowered, verify: true).model
                let separate = try ModelOptimizer.optimize(lowered, pipeline: without, verify: true).model
                let infos = Dictionary(lowered.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                var fired = false
                for (p, q) in zip(with.programs, separate.programs) where p.name.hasPrefix("grad.") {
                    if p.graph.nodes != q.graph.nodes { fired = true }
                    let a = try runOnce(try Planner.plan(p.graph, options: .optimized) { n, _, _ in Compiler.initializer(infos[n]) }, threads: 1)
                    let b = try runOnce(try Planner.plan(q.graph, options: .optimized) { n, _, _ in Compiler.initializer(infos[n]) }, threads: 1)
                    XCTAssertEqual(Set(a.keys), Set(b.keys), "\(pass) \(name) \(p.name)")
                    for (k, x) in b {
                        let y = try XCTUnwrap(a[k], "\(pass) \(name) \(p.name) \(k)")
                        XCTAssertEqual(x.count, y.count)
                        let scale = x.map { abs(Double($0)) }.max() ?? 0
                        let worst = zip(x, y).map { abs(Double($0) - Double($1)) }.max() ?? 0
                        XCTAssertLessThanOrEqual(worst, 1e-5 * max(scale, 1e-6), "\(pass) \(name) \(p.name) \(k): difference \(worst), largest element \(scale)")
                    }
                }
                XCTAssertTrue(fired, "\(pass) changed nothing in \(name)")
            }
        }
    }

    /// The pass leaves to the runtime exactly the readers the runtime packs.
    func testTheRuntimePacksWhatTransposeSharedBLeaves() {
        XCTAssertEqual(SharedTransposeB.packedRows, PackedOperand.maxRows)
    }

    /// Issue 10's bars on the reference training steps, at their real dims.
    func testReferenceTrainingStepsMeetTheMemoryAndKernelBars() throws {
        for name in ["mlp-gan", "dcgan", "vae", "char-lstm"] {
            let r = try load(name, [])
            for (pname, plan) in r.plans.sorted(by: { $0.key < $1.key }) where pname.hasPrefix("train.") {
                let rep = plan.report
                XCTAssertEqual(PlanVerifier.verify(plan), [], "\(name) \(pname)")
                XCTAssertLessThanOrEqual(Double(rep.arenaBytes), 1.10 * Double(rep.lowerBoundBytes),
                                         "\(name) \(pname): arena \(rep.arenaBytes) vs lower bound \(rep.lowerBoundBytes)")
                XCTAssertLessThanOrEqual(Double(rep.kernels), 0.60 * Double(rep.ops),
                                         "\(name) \(pname): \(rep.kernels) kernels for \(rep.ops) ops")
                print("\(name) \(pname): ops \(rep.ops) kernels \(rep.kernels) fused \(rep.fusedGroups) arena \(rep.arenaBytes) lower \(rep.lowerBoundBytes) naive \(rep.naiveBytes)")
            }
        }
    }
}
