import Foundation
import GencIR
import GencRuntime
import GencTestSupport
import XCTest

/// `genc dump --stage grad` and `genc eval --grads` as users run them.
final class GradCommandTests: XCTestCase {
    let dcgan = Repository.path("models/dcgan.yaml")

    func testDumpGradPrintsTheWholeStepInEveryFormat() throws {
        let text = try GencBinary.run(["dump", "--stage", "grad", "--objective", "g_loss", dcgan])
        XCTAssertEqual(text.status, 0, text.stderr)
        let g = try IRParser.parse(text.stdout)
        XCTAssertEqual(g.name, "dcgan.train.g_loss")
        XCTAssertEqual(Verifier.verify(g), [])
        // The step updates the generator's weights, Adam's slots and step, and its batchnorm statistics.
        let updated = Set(g.updates.map(\.name))
        XCTAssertTrue(updated.contains("generator.dense0.weight"))
        XCTAssertTrue(updated.contains("optimizer.g_loss.generator.dense0.weight.exp_avg"))
        XCTAssertTrue(updated.contains("optimizer.g_loss.step"))
        XCTAssertTrue(updated.contains("generator.batchnorm0.running_mean"))
        XCTAssertFalse(updated.contains { $0.hasPrefix("discriminator.") })
        let grad = try GencBinary.run(["dump", "--stage", "grad", "--program", "grad", dcgan])
        XCTAssertEqual(grad.status, 0, grad.stderr)
        let gg = try IRParser.parse(grad.stdout)
        XCTAssertEqual(gg.name, "dcgan.grad.d_loss")
        XCTAssertTrue(gg.updates.isEmpty)
        XCTAssertTrue(gg.outputs.dropFirst().allSatisfy { $0.name.hasPrefix("grad.discriminator.") }, "\(gg.outputs.map(\.name))")
        for format in ["json", "dot"] {
            let r = try GencBinary.run(["dump", "--stage", "grad", "--format", format, dcgan])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let eval = try GencBinary.run(["dump", "--stage", "grad", "--program", "eval", dcgan])
        XCTAssertEqual(eval.status, 64, eval.stderr)
    }

    func testEvalGradsWritesTheUpdateParametersGradients() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("genc-grads-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("g.safetensors").path
        // g_loss reads only the noise z, which eval samples.
        let args = ["eval", "--dim", "batch=4", "--objective", "g_loss", "--seed", "3", dcgan]
        let plain = try GencBinary.run(args)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let r = try GencBinary.run(args + ["--grads", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        // The same forward pass: the loss printed is the eval loss.
        XCTAssertEqual(r.stdout, plain.stdout)
        let file = try SafeTensors.read(path: out)
        let names = Set(file.tensors.map(\.name))
        XCTAssertTrue(names.contains("generator.dense0.weight"))
        XCTAssertTrue(names.contains("generator.conv_transpose1.weight"))
        XCTAssertFalse(names.contains { !$0.hasPrefix("generator.") || $0.contains("running_") }, "\(names.sorted())")
        XCTAssertEqual(file["generator.dense0.weight"]?.shape, [100, 6272])
        let all = file.tensors.flatMap { $0.tensor.floats ?? [] }
        XCTAssertTrue(all.allSatisfy(\.isFinite))
        XCTAssertGreaterThan(all.map(abs).max() ?? 0, 0)
        // Two objectives and none named: a usage error.
        let ambiguous = try GencBinary.run(["eval", "--dim", "batch=4", "--grads", out, dcgan])
        XCTAssertEqual(ambiguous.status, 64, ambiguous.stderr)
    }
}
