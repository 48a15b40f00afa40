@testable import GencAutodiff
import GencIR
import GencPlan
import GencRuntime
import GencSpec
import XCTest

/// Adam and SGD as IR against a hand computation of PyTorch's formulas
/// (`torch.optim.Adam`, `torch.optim.SGD`), k steps from given weights and
/// gradients, parameters and slots compared within float32 rounding.
final class OptimizerTests: XCTestCase {
    /// loss = Σ p·c, so the gradient of p is the input c, chosen per step.
    func run(_ optimizer: OptimizerSpec, p0: [Double], grads: [[Double]]) throws -> (p: [Float], slots: [String: [Float]], plan: Plan) {
        var g = Graph(name: "m.train.o")
        let p = try g.add(.parameter("n.w"), type: .f32([p0.count]))
        let c = try g.add(.input("c"), type: .f32([p0.count]))
        let loss = try g.add(.reduce(.sum, axes: [0], keepDims: false), [try g.add(.binary(.multiply), [p, c])])
        let d = try Autodiff.differentiate(g, loss: loss, parameters: ["n.w"])
        var e = Emitter(graph: d.graph, limit: Autodiff.maxNodes)
        let (updates, _) = try OptimizerIR.append(optimizer, objective: "o", gradients: d.gradients, to: &e)
        var step = e.graph
        step.outputs = [NamedValue("loss", loss)]
        step.updates = updates
        step = Pruning.prune(step)
        XCTAssertEqual(Verifier.verify(step), [])
        let plan = try Planner.plan(step) { _, _, _ in .constant(0) }
        XCTAssertEqual(PlanVerifier.verify(plan), [])
        let store = ParameterStore()
        let exe = try Executable(plan: plan, store: store)
        try store.set("n.w", floats: p0.map(Float.init))
        for gk in grads {
            try exe.setInput("c", floats: gk.map(Float.init))
            try exe.run(seed: 0)
        }
        var slots: [String: [Float]] = [:]
        for b in plan.persistent where b.kind == .state { slots[b.name] = store.floats(b.name, kind: .state) }
        return (try XCTUnwrap(store.floats("n.w")), slots, plan)
    }

    func assertClose(_ a: [Float], _ b: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(Double(x), y, accuracy: 4e-6 * max(1, abs(y)), what, file: file, line: line) }
    }

    static let p0: [Double] = [0.5, -1.25, 2, 0.0625]
    static let grads: [[Double]] = [[0.1, -0.2, 0.3, 1], [-0.4, 0.5, 0.05, -1], [0.2, 0.2, -0.7, 0.001], [1.5, -0.01, 0.3, 0.4]]

    func testAdamMatchesPyTorch() throws {
        for (lr, b1, b2, eps) in [(1e-3, 0.9, 0.999, 1e-8), (2e-4, 0.5, 0.999, 1e-8), (0.01, 0.3, 0.99, 1e-3)] {
            let got = try run(.adam(lr: lr, beta1: b1, beta2: b2, eps: eps), p0: Self.p0, grads: Self.grads)
            var p = Self.p0, m = [Double](repeating: 0, count: 4), v = m
            for (t, g) in Self.grads.enumerated() {
                let step = Double(t + 1)
                for i in 0..<4 {
                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                    let bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step)
                    p[i] -= (lr / bc1) * m[i] / (v[i].squareRoot() / bc2.squareRoot() + eps)
                }
            }
            assertClose(got.p, p, "adam p, beta1 \(b1)")
            assertClose(try XCTUnwrap(got.slots["optimizer.o.n.w.exp_avg"]), m, "adam exp_avg")
            assertClose(try XCTUnwrap(got.slots["optimizer.o.n.w.exp_avg_sq"]), v, "adam exp_avg_sq")
            XCTAssertEqual(got.slots["optimizer.o.step"], [4])
            // The parameter and both moments are written in place, not copied at the end.
            XCTAssertTrue(got.plan.updates.allSatisfy(\.inPlace), "\(got.plan.updates)")
        }
    }

    func testSGDWithAndWithoutMomentumMatchesPyTorch() throws {
        for (lr, mu) in [(0.1, 0.9), (0.05, 0.0)] {
            let got = try run(.sgd(lr: lr, momentum: mu), p0: Self.p0, grads: Self.grads)
            var p = Self.p0, buf = [Double](repeating: 0, count: 4)
            for (t, g) in Self.grads.enumerated() {
                for i in 0..<4 {
                    // PyTorch: the first step's buffer is the gradient itself.
                    buf[i] = t == 0 ? g[i] : mu * buf[i] + g[i]
                    p[i] -= lr * (mu == 0 ? g[i] : buf[i])
                }
            }
            assertClose(got.p, p, "sgd p, momentum \(mu)")
            if mu != 0 { assertClose(try XCTUnwrap(got.slots["optimizer.o.n.w.momentum_buffer"]), buf, "momentum_buffer") }
            else { XCTAssertNil(got.slots["optimizer.o.n.w.momentum_buffer"]) }
        }
    }

    /// An update of a leaf the program does not read cannot be planned: an error, never dropped.
    func testAnUnplannableUpdateIsAnError() throws {
        var g = Graph(name: "u")
        let x = try g.add(.input("x"), type: .f32([2]))
        g.outputs = [NamedValue("x", x)]
        g.updates = [NamedValue("n.w", x)]
        XCTAssertThrowsError(try Planner.plan(g) { _, _, _ in .constant(0) })
    }
}
