import Genc
import GencAutodiff
import GencIR
import GencLower
import GencSpec
import GencSupport
import GencTestSupport
import XCTest

/// Whole-model gradients against an independent computation: the rules'
/// gradient of each reference model (small dims) and each golden model,
/// evaluated in float64, against central differences of the float64 loss
/// along a random direction over every trained parameter at once.
final class ModelGradientTests: XCTestCase {
    /// Values for every leaf and random draw of a forward program.
    static func values(_ g: Graph, seed: UInt64) -> ([String: ReferenceTensor], [Int: ReferenceTensor]) {
        var rng = SplitMix(seed)
        var leaves: [String: ReferenceTensor] = [:]
        var random: [Int: ReferenceTensor] = [:]
        for (i, n) in g.nodes.enumerated() {
            let count = n.type.elementCount
            switch n.op {
            case let .parameter(name): leaves[name] = ReferenceTensor(shape: n.type.shape, values: rng.values(count, -0.3, 0.3))
            case let .state(name): leaves[name] = ReferenceTensor(shape: n.type.shape, values: rng.values(count, 0.5, 1))
            case let .input(name):
                if n.type.dtype == .i32 {
                    leaves[name] = ReferenceTensor(shape: n.type.shape, values: (0..<count).map { _ in Double(rng.next() % 4) })
                } else {
                    leaves[name] = ReferenceTensor(shape: n.type.shape, values: rng.values(count, 0, 1))
                }
            case let .random(dist, _):
                switch dist {
                case .normal: random[i] = ReferenceTensor(shape: n.type.shape, values: rng.values(count, -1.5, 1.5))
                case let .uniform(lo, hi): random[i] = ReferenceTensor(shape: n.type.shape, values: rng.values(count, lo, hi))
                }
            default: break
            }
        }
        return (leaves, random)
    }

    func check(_ path: String, dims: [(String, Int)] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = FrontEnd.load(path: Repository.path(path), options: SpecOptions(dimOverrides: dims))
        let spec = try XCTUnwrap(r.spec, "\(path)", file: file, line: line)
        let forward = try XCTUnwrap(r.forward, DiagnosticRenderer().render(r.diagnostics), file: file, line: line)
        XCTAssertFalse(r.hasErrors, DiagnosticRenderer().render(r.diagnostics), file: file, line: line)
        for o in spec.objectives {
            let program = try XCTUnwrap(forward.program(Lowering.programName(.train, o.name)))
            let g = program.graph
            let loss = try XCTUnwrap(g.outputs.first { $0.name == "loss" }).value
            let networks = Set(o.update.map(\.value))
            let trained = forward.parameters.filter { networks.contains($0.network) && $0.isTrainable }.map(\.name)
            XCTAssertFalse(trained.isEmpty)
            let d = try Autodiff.differentiate(g, loss: loss, parameters: trained)
            let (leaves, random) = Self.values(g, seed: 3)
            let (analytic, numeric) = try GradientCheck.directional(forward: g, loss: loss, differentiated: d.graph, gradients: d.gradients,
                                                                    leaves: leaves, random: random)
            XCTAssertEqual(analytic, numeric, accuracy: 1e-6 * max(abs(numeric), 1e-3), "\(path) \(o.name)", file: file, line: line)
            XCTAssertNotEqual(analytic, 0, "\(path) \(o.name): a zero gradient checks nothing", file: file, line: line)
        }
    }

    func testMLPGANBothObjectives() throws { try check("models/mlp-gan.yaml", dims: [("batch", 2), ("zdim", 4)]) }
    /// Batchnorm in training mode and transposed convolutions.
    func testDCGAN() throws { try check("models/dcgan.yaml", dims: [("batch", 2), ("zdim", 4)]) }
    /// The reparameterisation with a fixed draw.
    func testVAE() throws { try check("models/vae.yaml", dims: [("batch", 2), ("latent", 3)]) }
    /// Through every time step of the unrolled LSTM.
    func testCharLSTM() throws { try check("models/char-lstm.yaml", dims: [("batch", 2), ("steps", 5)]) }
    func testGoldenModels() throws {
        for m in ["tiny-mlp", "tiny-bn-conv", "tiny-lstm", "tiny-vae"] { try check("Tests/GencLowerTests/Golden/\(m).yaml") }
    }

    // MARK: - Pruning

    /// Lines of the layers that own a network's parameters.
    static func lines(of network: String, _ g: Graph) -> Set<Int> {
        Set(g.nodes.compactMap { n -> Int? in
            if case let .parameter(name) = n.op, name.hasPrefix(network + ".") { return n.location?.line }
            return nil
        })
    }

    /// The discriminator objective builds nothing for the generator; the
    /// generator objective flows back through the discriminator's
    /// activations but builds no discriminator weight gradient.
    func testOnlyWhatAnUpdateNeedsIsDifferentiated() throws {
        let r = FrontEnd.load(path: Repository.path("models/dcgan.yaml"))
        let forward = try XCTUnwrap(r.forward)
        for (objective, trained, other) in [("d_loss", "discriminator", "generator"), ("g_loss", "generator", "discriminator")] {
            let g = try XCTUnwrap(forward.program("train.\(objective)")).graph
            let loss = try XCTUnwrap(g.outputs.first).value
            let names = forward.parameters.filter { $0.network == trained && $0.isTrainable }.map(\.name)
            let d = try Autodiff.differentiate(g, loss: loss, parameters: names)
            let backward = d.graph.nodes[g.nodes.count...]
            let otherLines = Self.lines(of: other, g)
            let weightGradients = backward.filter { n in
                guard let line = n.location?.line, otherLines.contains(line) else { return false }
                switch n.op {
                case .convFilterGrad: return true
                case let .matmul(ta, _): return ta  // xᵀ·G, a dense layer's weight gradient
                case let .reduce(.sum, axes, _): return axes == [0]  // a bias gradient
                default: return false
                }
            }
            XCTAssertEqual(weightGradients.count, 0, "\(objective) builds gradients of \(other)'s weights")
            if objective == "d_loss" {
                XCTAssertEqual(backward.filter { $0.location.map { otherLines.contains($0.line) } ?? false }.count, 0,
                               "d_loss differentiates through the generator")
            } else {
                XCTAssertGreaterThan(backward.filter { $0.location.map { otherLines.contains($0.line) } ?? false }.count, 0,
                                     "g_loss must flow back through the discriminator's activations")
            }
            // Nothing built is dead: every node autodiff appended is needed by a gradient.
            var live = Array(repeating: false, count: d.graph.nodes.count)
            for o in d.gradients { live[o.value.id] = true }
            for i in stride(from: d.graph.nodes.count - 1, through: 0, by: -1) where live[i] {
                for o in d.graph.nodes[i].operands { live[o.id] = true }
            }
            let dead = (g.nodes.count..<d.graph.nodes.count).filter { !live[$0] }
            XCTAssertEqual(dead.map { d.graph.nodes[$0].op.name }, [], "\(objective) builds backward nodes no gradient needs")
            // The grad program's outputs are exactly the trained network's parameters.
            let program = try XCTUnwrap(r.lowered?.program("grad.\(objective)"))
            XCTAssertEqual(Set(program.graph.outputs.compactMap { TrainingSteps.parameter(ofGradientOutput: $0.name) }), Set(names))
            XCTAssertFalse(program.graph.outputs.contains { $0.name.hasPrefix("grad.\(other).") })
        }
    }

    /// `update: [encoder, decoder]` trains both.
    func testUpdateOfTwoNetworksBuildsBoth() throws {
        let r = FrontEnd.load(path: Repository.path("models/vae.yaml"))
        let program = try XCTUnwrap(r.lowered?.program("grad.elbo"))
        let outputs = program.graph.outputs.map(\.name)
        XCTAssertTrue(outputs.contains { $0.hasPrefix("grad.encoder.") })
        XCTAssertTrue(outputs.contains { $0.hasPrefix("grad.decoder.") })
        let train = try XCTUnwrap(r.lowered?.program("train.elbo")).graph
        let updated = Set(train.updates.map(\.name))
        for p in r.lowered?.parameters ?? [] where p.isTrainable { XCTAssertTrue(updated.contains(p.name), "\(p.name) is not updated") }
    }
}
