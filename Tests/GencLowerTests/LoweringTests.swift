import Genc
import GencIR
import GencLower
import GencSpec
import GencSupport
import GencTestSupport
import XCTest

/// Lowering the reference models: parameter counts, programs, semantics.
final class LoweringTests: XCTestCase {
    func lower(_ relative: String, dims: [(String, Int)] = []) throws -> (ModelSpec, LoweredModel) {
        let r = FrontEnd.load(path: Repository.path(relative), options: SpecOptions(dimOverrides: dims))
        XCTAssertFalse(r.hasErrors, DiagnosticRenderer().render(r.diagnostics))
        return (try XCTUnwrap(r.spec), try XCTUnwrap(r.forward))
    }

    func lower(text: String) -> FrontEnd.Result {
        FrontEnd.load(file: SourceFile(path: "t.yaml", text: text))
    }

    /// A network that calls another reports only its own parameters; the
    /// callee is listed in `calls` and counted in its own summary.
    func testCalledNetworksParametersAreTheirOwn() throws {
        let (_, m) = try lower("models/examples/infogan-shapes.yaml")
        let features = try XCTUnwrap(m.network("features")).parameters
        XCTAssertEqual(m.network("discriminator")?.parameters, 65)
        XCTAssertEqual(m.network("discriminator")?.calls, ["features"])
        XCTAssertEqual(m.network("qhead")?.parameters, 260)
        XCTAssertEqual(m.network("features")?.calls, [])
        // The objective updating both counts each once.
        XCTAssertEqual(m.parameterCount(updating: ["features", "discriminator"]), features + 65)
        // Rows of a caller never include the callee's layers.
        XCTAssertFalse(m.network("discriminator")?.layers.contains { $0.name.hasPrefix("conv") } ?? true)
    }

    func testTrainableParameterCountsMatchTheAnchors() throws {
        let expected: [String: [String: Int]] = [
            "models/vae.yaml": ["encoder": 330_040, "decoder": 322_784],
            "models/mlp-gan.yaml": ["generator": 1_486_352, "discriminator": 533_505],
            "models/dcgan.yaml": ["generator": 771_969, "discriminator": 138_689],
            "models/char-lstm.yaml": ["charlm": 885_474],
        ]
        for (file, nets) in expected {
            let (_, m) = try lower(file)
            for (net, count) in nets { XCTAssertEqual(m.network(net)?.parameters, count, "\(file) \(net)") }
        }
        let (_, dc) = try lower("models/dcgan.yaml")
        XCTAssertEqual(dc.network("generator")?.state, 2 * (6272 + 64))
        XCTAssertEqual(dc.network("discriminator")?.state, 2 * 128)
        // No bias on the layers that feed a batchnorm.
        XCTAssertNil(dc.parameters.first { $0.name == "generator.dense0.bias" })
        XCTAssertNotNil(dc.parameters.first { $0.name == "generator.conv_transpose1.bias" })
        XCTAssertEqual(dc.parameters.first { $0.name == "generator.conv_transpose0.weight" }?.type, .f32([128, 64, 4, 4]))
        let (_, lm) = try lower("models/char-lstm.yaml")
        XCTAssertEqual(Set(lm.parameters.map(\.name)), [
            "charlm.embedding0.weight", "charlm.lstm0.l0.weight_ih", "charlm.lstm0.l0.weight_hh", "charlm.lstm0.l0.bias",
            "charlm.lstm0.l1.weight_ih", "charlm.lstm0.l1.weight_hh", "charlm.lstm0.l1.bias", "charlm.dense0.weight", "charlm.dense0.bias",
        ])
    }

    func testEveryProgramOfEveryModelVerifiesAndRoundTrips() throws {
        for f in Repository.files(in: "models", extension: "yaml") {
            let r = FrontEnd.load(path: f)
            let m = try XCTUnwrap(r.forward, "\(f): " + DiagnosticRenderer().render(r.diagnostics))
            XCTAssertFalse(m.programs.isEmpty, f)
            for p in m.programs {
                XCTAssertEqual(Verifier.verify(p.graph), [], "\(f) \(p.name)")
                let back = try IRParser.parse(IRText.print(p.graph))
                XCTAssertEqual(back, p.graph, "\(f) \(p.name): parse(print(g)) != g")
                XCTAssertEqual(Verifier.verify(back), [], "\(f) \(p.name)")
            }
        }
    }

    func testGANProgramsShareParametersAcrossCalls() throws {
        let (_, m) = try lower("models/dcgan.yaml")
        let d = try XCTUnwrap(m.program("train.d_loss")).graph
        // The discriminator is called twice (real and fake) but has one set of weights.
        XCTAssertEqual(d.parameters.filter { $0.name == "discriminator.conv0.weight" }.count, 1)
        XCTAssertEqual(d.nodes.filter { if case .conv = $0.op { return true } else { return false } }.count, 4)
        XCTAssertEqual(d.inputs.map(\.name).sorted(), ["x", "z"])
        XCTAssertEqual(d.type(try XCTUnwrap(d.outputs.first).value), .f32([]))
    }

    func testBatchnormStatisticsUpdateOnlyForTrainedNetworksInTraining() throws {
        let (_, m) = try lower("models/dcgan.yaml")
        let d = try XCTUnwrap(m.program("train.d_loss")).graph
        XCTAssertEqual(d.updates.map(\.name).sorted(), ["discriminator.batchnorm0.running_mean", "discriminator.batchnorm0.running_var"])
        let g = try XCTUnwrap(m.program("train.g_loss")).graph
        XCTAssertEqual(Set(g.updates.map(\.name)), [
            "generator.batchnorm0.running_mean", "generator.batchnorm0.running_var",
            "generator.batchnorm1.running_mean", "generator.batchnorm1.running_var",
        ])
        XCTAssertEqual(try XCTUnwrap(m.program("eval.d_loss")).graph.updates.count, 0)
        // Sampling normalises with the running statistics and reduces nothing.
        let s = try XCTUnwrap(m.program("sample.images")).graph
        XCTAssertEqual(s.states.count, 4)
        XCTAssertFalse(s.nodes.contains { if case .reduce = $0.op { return true } else { return false } })
        XCTAssertEqual(s.type(try XCTUnwrap(s.outputs.first).value), .f32([64, 1, 28, 28]))
    }

    /// eval.* is train.* without its state updates, pruned: batch statistics
    /// and dropout as in training, nothing written, nothing unneeded left.
    func testEvalProgramsArePrunedTrainingForwardGraphs() throws {
        for model in ["models/dcgan.yaml", "models/char-lstm.yaml", "models/vae.yaml"] {
            let (spec, m) = try lower(model, dims: model.contains("lstm") ? [("steps", 3)] : [])
            for o in spec.objectives {
                let train = try XCTUnwrap(m.program("train.\(o.name)")).graph
                let eval = try XCTUnwrap(m.program("eval.\(o.name)")).graph
                XCTAssertEqual(eval.name, "\(spec.name.value).eval.\(o.name)")
                XCTAssertEqual(eval.updates.count, 0)
                XCTAssertEqual(Verifier.verify(eval), [])
                // Only what its loss needs, and the states training reads (bound, unread).
                let states = eval.nodes.filter { if case .state = $0.op { return true } else { return false } }
                let trainStates = train.nodes.filter { if case .state = $0.op { return true } else { return false } }
                XCTAssertEqual(states.count, trainStates.count)
                XCTAssertEqual(Pruning.prune(eval).nodes.count, eval.nodes.count - states.filter { s in !eval.nodes.contains { $0.operands.contains { eval.nodes[$0.id] == s } } }.count)
                XCTAssertLessThanOrEqual(eval.nodes.count, train.nodes.count)
                XCTAssertEqual(eval.type(try XCTUnwrap(eval.outputs.first).value), .f32([]))
            }
        }
        // Batchnorm in eval normalises with the batch's statistics, as in training.
        let (_, m) = try lower("models/dcgan.yaml")
        let eval = try XCTUnwrap(m.program("eval.d_loss")).graph
        XCTAssertTrue(eval.nodes.contains { if case .reduce(.mean, _, true) = $0.op { return true } else { return false } })
    }

    func testLSTMIsUnrolledOverTheSequenceAndTheTextSamplerCarriesState() throws {
        let (_, m) = try lower("models/char-lstm.yaml")
        let train = try XCTUnwrap(m.program("train.loss")).graph
        let matmuls = train.nodes.filter { if case .matmul = $0.op { return true } else { return false } }.count
        // Per layer: one input projection and 63 recurrent products (step 0 starts from zero state); plus the dense layer.
        XCTAssertEqual(matmuls, 2 * (1 + 63) + 1)
        let text = try XCTUnwrap(m.program("sample.text")).graph
        XCTAssertEqual(text.inputs.map(\.name), ["tokens", "charlm.lstm0.l0.h", "charlm.lstm0.l0.c", "charlm.lstm0.l1.h", "charlm.lstm0.l1.c"])
        XCTAssertEqual(text.outputs.map(\.name), ["logits", "charlm.lstm0.l0.h", "charlm.lstm0.l0.c", "charlm.lstm0.l1.h", "charlm.lstm0.l1.c"])
        XCTAssertEqual(text.type(text.outputs[0].value), .f32([1, 1, 98]))
    }

    func testDropoutIsActiveInTrainingAndOffWhenSampling() throws {
        let r = lower(text: """
        genc: 1
        name: drop
        inputs:
          x: [4, 8]
          z: {shape: [4, 8], sample: normal}
        networks:
          n:
            in: {x: [4, 8]}
            layers: [{dense: 8}, {dropout: 0.5}]
        objectives:
          o: {minimize: mean(n(x)), update: n}
        sample:
          images: {from: "n(z)[:, :4]"}
        """)
        let m = try XCTUnwrap(r.forward, DiagnosticRenderer().render(r.diagnostics))
        func randoms(_ p: String) throws -> Int {
            try XCTUnwrap(m.program(p)).graph.nodes.filter { if case .random = $0.op { return true } else { return false } }.count
        }
        XCTAssertEqual(try randoms("train.o"), 1)
        XCTAssertEqual(try randoms("sample.images"), 0)
    }

    func testShapeErrorsPointAtTheLayerWithANoteAtTheProducer() throws {
        let r = lower(text: """
        genc: 1
        name: bad
        inputs: {x: [64, 1, 28, 28]}
        networks:
          d:
            in: {x: [64, 1, 28, 28]}
            layers:
              - flatten
              - conv: {filters: 128, kernel: 4, stride: 2, padding: 1}
        """)
        XCTAssertEqual(r.diagnostics.count, 1)
        let d = try XCTUnwrap(r.diagnostics.first)
        XCTAssertEqual(d.message, "conv 'd.conv0' expects 4-d input [N, C, H, W], got [64, 784]")
        XCTAssertEqual(d.range?.start, SourceLocation(line: 9, column: 9))
        XCTAssertEqual(d.notes.first?.message, "[64, 784] comes from 'd.flatten0' here")
        XCTAssertEqual(d.notes.first?.range?.start, SourceLocation(line: 8, column: 9))
    }

    func testCallSignatureAndScalarObjective() throws {
        let r = lower(text: """
        genc: 1
        name: bad
        dims: {batch: 8}
        inputs:
          x: [batch, 4]
          y: [batch, 3]
        networks:
          n:
            in: {x: [batch, 4]}
            layers: [{dense: 2}]
        objectives:
          a: {minimize: mean(n(y)), update: n}
          b: {minimize: n(x), update: n}
        """)
        let messages = r.diagnostics.map { "\($0.range?.start.description ?? ""): \($0.message)" }
        XCTAssertEqual(messages, [
            "12:22: network 'n' expects x: f32[8, 4], got f32[8, 3]",
            "13:17: objective 'b' must minimize a scalar, got a tensor of shape [8, 2]; reduce it with mean(...) or sum(...)",
        ])
    }

    func testDimOverridesReshapeEveryProgram() throws {
        let (_, m) = try lower("models/dcgan.yaml", dims: [("batch", 16)])
        let g = try XCTUnwrap(m.program("train.d_loss")).graph
        XCTAssertEqual(g.inputs.first { $0.name == "x" }?.type, .f32([16, 1, 28, 28]))
        XCTAssertEqual(m.network("generator")?.parameters, 771_969)
    }
}
