import Foundation
import GencIR
import GencTestSupport
import XCTest

/// `genc dump` as users run it.
final class DumpCommandTests: XCTestCase {
    let dcgan = Repository.path("models/dcgan.yaml")

    func testIRTextParsesBackAndJSONIsValid() throws {
        let text = try GencBinary.run(["dump", "--stage", "ir", dcgan])
        XCTAssertEqual(text.status, 0, text.stderr)
        let g = try IRParser.parse(text.stdout)
        XCTAssertEqual(g.name, "dcgan.train.d_loss")
        XCTAssertEqual(Verifier.verify(g), [])
        let json = try GencBinary.run(["dump", "--format", "json", "--objective", "g_loss", dcgan])
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertEqual(try JSONParser.parse(json.stdout)["name"], .string("dcgan.train.g_loss"))
        let sample = try GencBinary.run(["dump", "--program", "sample", dcgan])
        XCTAssertTrue(sample.stdout.hasPrefix("graph \"dcgan.sample.images\""), sample.stdout)
        let spec = try GencBinary.run(["dump", "--stage", "spec", dcgan])
        XCTAssertTrue(spec.stdout.contains("generator.conv_transpose0 = conv_transpose(filters: 64, kernel: [4, 4], stride: [2, 2], padding: [1, 1], output_padding: [0, 0], activation: none, bias: false)"), spec.stdout)
    }

    func testDOTRendersWithGraphviz() throws {
        let dot = try GencBinary.run(["dump", "--stage", "ir", "--format", "dot", dcgan])
        XCTAssertEqual(dot.status, 0, dot.stderr)
        guard let graphviz = ["/usr/bin/dot", "/usr/local/bin/dot"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("graphviz is not installed (scripts/setup.sh installs it)")
        }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("dcgan-\(getpid()).dot")
        try dot.stdout.write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: graphviz)
        p.arguments = ["-Tsvg", input.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let svg = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertTrue(String(decoding: svg, as: UTF8.self).contains("<svg"))
    }

    func testUsageErrors() throws {
        XCTAssertEqual(try GencBinary.run(["dump", "--stage", "plan", "--format", "json", dcgan]).status, 64)
        XCTAssertEqual(try GencBinary.run(["dump", "--stage", "spec", "--format", "dot", dcgan]).status, 64)
        let bad = try GencBinary.run(["dump", "--objective", "g_los", dcgan])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("did you mean 'g_loss'"), bad.stderr)
    }

    func testCheckPrintsLayerTablesWithShapesAndParameters() throws {
        let r = try GencBinary.run(["check", dcgan])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("conv_transpose0        conv_transpose  [64, 64, 14, 14]           131,072"), r.stdout)
        XCTAssertTrue(r.stdout.contains("771,969  (+12,672 state)"), r.stdout)
        let json = try JSONParser.parse(try GencBinary.run(["check", "--json", Repository.path("models/mlp-gan.yaml")]).stdout)
        XCTAssertEqual(json["networks"]?["generator"]?["params"], .int(1_486_352))
        XCTAssertEqual(json["networks"]?["discriminator"]?["params"], .int(533_505))
        let lstm = try JSONParser.parse(try GencBinary.run(["check", "--json", Repository.path("models/char-lstm.yaml")]).stdout)
        XCTAssertEqual(lstm["networks"]?["charlm"]?["params"], .int(885_474))
        XCTAssertEqual(lstm["networks"]?["charlm"]?["state"], .int(0))
    }

    func testSamplerChoosesTheSamplingProgram() throws {
        let vae = Repository.path("models/vae.yaml")
        let first = try GencBinary.run(["dump", "--program", "sample", vae])
        XCTAssertTrue(first.stdout.hasPrefix("graph \"vae.sample.images\""), first.stdout)
        let rec = try GencBinary.run(["dump", "--program", "sample", "--sampler", "reconstructions", vae])
        XCTAssertEqual(rec.status, 0, rec.stderr)
        XCTAssertTrue(rec.stdout.hasPrefix("graph \"vae.sample.reconstructions\""), rec.stdout)
        XCTAssertTrue(rec.stdout.contains("input {name: \"x\"}"), rec.stdout)
        let none = try GencBinary.run(["dump", "--program", "sample", "--sampler", "text", vae])
        XCTAssertEqual(none.status, 64)
        XCTAssertTrue(none.stderr.contains("the model has no 'text' sampler; it has images, reconstructions"), none.stderr)
        let wrong = try GencBinary.run(["dump", "--sampler", "images", vae])
        XCTAssertEqual(wrong.status, 64)
        XCTAssertTrue(wrong.stderr.contains("--sampler applies to --program sample"), wrong.stderr)
    }

    func testOptimizedStageAndPrintAfter() throws {
        let vae = Repository.path("models/vae.yaml")
        func count(_ args: [String]) throws -> Int {
            let r = try GencBinary.run(["dump", vae, "--program", "train"] + args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            return r.stdout.split(separator: "\n").filter { $0.contains(" = ") }.count
        }
        let grad = try count(["--stage", "grad"]), optimized = try count(["--stage", "optimized"])
        XCTAssertLessThan(optimized, grad, "CSE and DCE remove duplicates of the step")
        XCTAssertEqual(try count(["--print-after", "dce"]), optimized)
        XCTAssertEqual(try count(["--print-after", "cse"]), try count(["--print-after", "simplify"]), "CSE redirects readers; the duplicates go at DCE")
        XCTAssertLessThanOrEqual(try count(["--print-after", "constant-folding"]), grad)
        // The plan stage: kernels, each with the IR ops it holds and their lines.
        let plan = try GencBinary.run(["dump", vae, "--stage", "plan"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.hasPrefix("plan \"vae.train.elbo\""), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("matmul+fused("), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("# matmul %"), plan.stdout)
        let bad = try GencBinary.run(["dump", vae, "--print-after", "cs"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("did you mean 'cse'?"), bad.stderr)
    }
}
