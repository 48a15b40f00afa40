import Genc
import GencSpec
import GencSupport
import GencSyntax
import GencTestSupport
import XCTest

/// The reference and example models are valid, match the schema, and say
/// what the anchors say.
final class ModelsTests: XCTestCase {
    var modelFiles: [String] { Repository.files(in: "models", extension: "yaml") }

    func spec(_ relative: String) throws -> ModelSpec {
        let r = FrontEnd.load(path: Repository.path(relative))
        XCTAssertTrue(r.diagnostics.isEmpty, DiagnosticRenderer().render(r.diagnostics))
        return try XCTUnwrap(r.spec)
    }

    func testEveryModelChecks() throws {
        XCTAssertGreaterThanOrEqual(modelFiles.count, 5)
        for f in modelFiles {
            let r = FrontEnd.load(path: f)
            XCTAssertFalse(r.hasErrors, "\(f):\n" + DiagnosticRenderer().render(r.diagnostics))
        }
        for name in ["mlp-gan", "dcgan", "vae", "conv-vae", "char-lstm"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: Repository.path("models/\(name).yaml")), name)
        }
    }

    func testEveryModelMatchesTheSchema() throws {
        let schemaText = try String(contentsOfFile: Repository.path("grammar/genc.schema.json"), encoding: .utf8)
        let validator = SchemaValidator(schema: try JSONParser.parse(schemaText))
        for f in modelFiles {
            let file = try XCTUnwrap(try? SourceLoader.load(path: f).get())
            let root = try XCTUnwrap(YAMLReader().read(file).0)
            let errors = validator.errors(YAMLJSON.value(root))
            XCTAssertTrue(errors.isEmpty, "\(f): \(errors.prefix(10))")
        }
    }

    func testTheSchemaRejectsWhatTheLanguageRejects() throws {
        let schemaText = try String(contentsOfFile: Repository.path("grammar/genc.schema.json"), encoding: .utf8)
        let validator = SchemaValidator(schema: try JSONParser.parse(schemaText))
        let base = try String(contentsOfFile: Repository.path("models/mlp-gan.yaml"), encoding: .utf8)
        let broken = [
            base.replacingOccurrences(of: "networks:", with: "netwrks:"),
            base.replacingOccurrences(of: "dataset: fashion-mnist", with: "dataset: imagenet"),
            base.replacingOccurrences(of: "genc: 1", with: "genc: 2"),
            base + "\nextra: true\n",
        ]
        for (i, text) in broken.enumerated() {
            let file = SourceFile(path: "b\(i).yaml", text: text)
            let root = try XCTUnwrap(YAMLReader().read(file).0)
            XCTAssertFalse(validator.errors(YAMLJSON.value(root)).isEmpty, "schema accepted broken variant \(i)")
        }
    }

    func testReferenceModelsMirrorTheAnchors() throws {
        let dcgan = try spec("models/dcgan.yaml")
        XCTAssertEqual(dcgan.dim(named: "batch")?.value, 64)
        let g = try XCTUnwrap(dcgan.network(named: "generator"))
        XCTAssertEqual(g.layers.map(\.qualifiedName), [
            "generator.dense0", "generator.batchnorm0", "generator.relu0", "generator.reshape0",
            "generator.conv_transpose0", "generator.batchnorm1", "generator.relu1", "generator.conv_transpose1", "generator.tanh0",
        ])
        XCTAssertEqual(g.layers[0].config, .dense(units: 6272, activation: nil, bias: false))
        XCTAssertEqual(g.layers[3].config, .reshape([128, 7, 7]))
        XCTAssertEqual(g.layers[4].config, .convTranspose(ConvConfig(filters: 64, kernel: (4, 4), stride: (2, 2), padding: .explicit(1, 1),
                                                                     outputPadding: (0, 0), activation: nil, bias: false)))
        XCTAssertEqual(dcgan.train?.optimizer, .adam(lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8))
        XCTAssertEqual(dcgan.train?.schedule.map(\.value), ["d_loss", "g_loss"])
        XCTAssertEqual(dcgan.objective(named: "d_loss")?.calledNetworks, ["discriminator", "generator"])

        let vae = try spec("models/vae.yaml")
        XCTAssertEqual(vae.dim(named: "batch")?.value, 128)
        XCTAssertEqual(vae.network(named: "encoder")?.outputs.map(\.value), ["mu", "logvar"])
        XCTAssertEqual(vae.network(named: "encoder")?.returnsRecord, true)
        XCTAssertEqual(vae.objective(named: "elbo")?.update.map(\.value), ["encoder", "decoder"])
        XCTAssertEqual(vae.train?.optimizer, .adam(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8))

        let lstm = try spec("models/char-lstm.yaml")
        XCTAssertEqual(lstm.input(named: "text")?.type.shape, [32, 65])
        XCTAssertEqual(lstm.input(named: "text")?.type.dtype, .i32)
        XCTAssertEqual(lstm.network(named: "charlm")?.layers.map(\.config), [
            .embedding(vocab: 98, dim: 64), .lstm(units: 256, layers: 2, returnSequences: true), .dense(units: 98, activation: nil, bias: true),
        ])
        XCTAssertEqual(lstm.train?.data.first?.dataset.kind, .text)
        XCTAssertEqual(lstm.sample?.text?.prime, "The ")

        let mlp = try spec("models/mlp-gan.yaml")
        XCTAssertEqual(mlp.network(named: "generator")?.layers.compactMap {
            if case let .dense(u, _, _) = $0.config { return u } else { return nil }
        }, [256, 512, 1024, 784])
    }

    func testDimOverridesPropagateThroughDimExpressions() throws {
        let text = """
        genc: 1
        name: t
        dims: {batch: 64, half: batch / 2, zdim: 4 * 25}
        inputs:
          z: {shape: [half, zdim], sample: normal}
        networks:
          g:
            in: {z: [half, zdim]}
            layers: [{dense: zdim + 1}]
        """
        let r = FrontEnd.load(file: SourceFile(path: "t.yaml", text: text), options: SpecOptions(dimOverrides: [("batch", 16)]))
        let spec = try XCTUnwrap(r.spec, DiagnosticRenderer().render(r.diagnostics))
        XCTAssertEqual(spec.dims.map(\.value), [16, 8, 100])
        XCTAssertEqual(spec.input(named: "z")?.type.shape, [8, 100])
        XCTAssertEqual(spec.network(named: "g")?.layers.first?.config, .dense(units: 101, activation: nil, bias: true))
        let bad = FrontEnd.load(file: SourceFile(path: "t.yaml", text: text), options: SpecOptions(dimOverrides: [("bach", 16)]))
        XCTAssertTrue(bad.isUsageError)
        XCTAssertTrue(bad.diagnostics[0].message.contains("did you mean 'batch'"), bad.diagnostics[0].message)
    }
}

/// A YAML tree as JSON, with YAML 1.2 core-schema scalars.
enum YAMLJSON {
    static func value(_ n: YAMLNode) -> JSONValue {
        switch n.kind {
        case let .mapping(pairs): return .object(pairs.map { ($0.key.value, value($0.value)) })
        case let .sequence(items): return .array(items.map(value))
        case let .scalar(s):
            if s.style != .plain { return .string(s.value) }
            if s.isNull { return .null }
            if let b = s.bool { return .bool(b) }
            switch NumberSyntax.parse(s.value) {
            case let .integer(i)?: return .int(i)
            case let .float(d)?: return .double(d)
            default: return .string(s.value)
            }
        }
    }
}
