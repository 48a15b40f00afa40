import Foundation
import GencRuntime
import GencTestSupport
import XCTest

/// `genc compile`: the summary, its JSON, and the plan file that run, eval
/// and bench execute in place of the YAML, with the same results.
final class CompileCommandTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws { dir = try RunCommandTests.fixtureDirectory("genc-compile") }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testJSONGivesEveryFieldPerProgram() throws {
        let r = try GencBinary.run(["compile", Repository.path("models/mlp-gan.yaml"), "--json"], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONParser.parse(r.stdout)
        guard case let .object(programs)? = json["programs"] else { return XCTFail(r.stdout) }
        XCTAssertEqual(Set(programs.map(\.0)), ["train.d_loss", "train.g_loss", "grad.d_loss", "grad.g_loss", "eval.d_loss", "eval.g_loss", "sample.images"])
        for (name, p) in programs {
            func int(_ k: String) -> Int? { if case let .int(v)? = p[k] { return v } else { return nil } }
            for k in ["ops_before", "ops_after", "kernels", "fused_groups", "arena_bytes", "naive_bytes", "lower_bound_bytes", "persistent_bytes", "flops"] {
                XCTAssertNotNil(int(k), "\(name): \(k)")
            }
            XCTAssertLessThanOrEqual(Double(int("kernels") ?? 0), 0.6 * Double(int("ops_after") ?? 0), name)
            XCTAssertLessThanOrEqual(int("ops_after") ?? 0, int("ops_before") ?? 0, name)
            XCTAssertLessThanOrEqual(int("lower_bound_bytes") ?? 0, int("arena_bytes") ?? 0, name)
            XCTAssertLessThanOrEqual(int("arena_bytes") ?? 0, int("naive_bytes") ?? 0, name)
        }
    }

    func testAPlanFileRunsLikeItsYAML() throws {
        let model = try RunCommandTests.vae(in: dir, epochs: 1)
        let plan = dir + "/vae.gencplan"
        let c = try GencBinary.run(["compile", model, "-o", plan], timeout: 60)
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertTrue(c.stdout.contains("train.elbo"), c.stdout)
        XCTAssertTrue(c.stdout.contains("plan file: \(plan)"), c.stdout)
        // Training from the YAML and from the plan file: the same weights, bit for bit.
        let a = try GencBinary.run(["run", model, "--out", dir + "/a", "--steps", "4", "--threads", "1"], timeout: 120)
        XCTAssertEqual(a.status, 0, a.stderr)
        let b = try GencBinary.run(["run", plan, "--out", dir + "/b", "--steps", "4", "--threads", "1"], timeout: 120)
        XCTAssertEqual(b.status, 0, b.stderr)
        let wa = try SafeTensors.read(path: dir + "/a/checkpoint.safetensors"), wb = try SafeTensors.read(path: dir + "/b/checkpoint.safetensors")
        XCTAssertEqual(wa.tensors.map(\.name), wb.tensors.map(\.name))
        for t in wa.tensors { XCTAssertEqual(t.tensor.floats, wb[t.name]?.floats, t.name) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/a/samples.png")), try Data(contentsOf: URL(fileURLWithPath: dir + "/b/samples.png")))
        // eval and bench take it too.
        let ea = try GencBinary.run(["eval", model, "--split", "test", "--weights", dir + "/a/checkpoint.safetensors", "--json"], timeout: 60)
        let eb = try GencBinary.run(["eval", plan, "--split", "test", "--weights", dir + "/a/checkpoint.safetensors", "--json"], timeout: 60)
        XCTAssertEqual(eb.status, 0, eb.stderr)
        XCTAssertEqual(ea.stdout, eb.stdout)
        let bench = try GencBinary.run(["bench", plan, "--steps", "2", "--warmup", "0", "--json"], timeout: 60)
        XCTAssertEqual(bench.status, 0, bench.stderr)
        XCTAssertTrue(bench.stdout.contains("ms_median"), bench.stdout)
        // --dim belongs to compiling.
        let dim = try GencBinary.run(["run", plan, "--dim", "batch=4", "--out", dir + "/c"], timeout: 60)
        XCTAssertEqual(dim.status, 64, dim.stderr)
        XCTAssertTrue(dim.stderr.contains("recompile"), dim.stderr)
    }

    func testCorruptAndForeignPlanFilesAreClearErrors() throws {
        let model = try RunCommandTests.vae(in: dir, epochs: 1)
        let plan = dir + "/vae.gencplan"
        XCTAssertEqual(try GencBinary.run(["compile", model, "-o", plan], timeout: 60).status, 0)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: plan)))
        // One flipped byte in the body.
        var flipped = bytes
        flipped[flipped.count / 2] ^= 0x20
        try Data(flipped).write(to: URL(fileURLWithPath: dir + "/flipped.gencplan"))
        let f = try GencBinary.run(["run", dir + "/flipped.gencplan", "--out", dir + "/f"], timeout: 60)
        XCTAssertEqual(f.status, 1, f.stderr)
        XCTAssertTrue(f.stderr.contains("flipped.gencplan"), f.stderr)
        XCTAssertTrue(f.stderr.lowercased().contains("corrupt") || f.stderr.contains("checksum"), f.stderr)
        // Another format version.
        bytes.replaceSubrange(0..<10, with: Array("GENCPLAN 9".utf8))
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/future.gencplan"))
        let v = try GencBinary.run(["bench", dir + "/future.gencplan", "--steps", "1"], timeout: 60)
        XCTAssertEqual(v.status, 1, v.stderr)
        XCTAssertTrue(v.stderr.contains("format"), v.stderr)
        // Truncated.
        try Data(bytes.prefix(100)).write(to: URL(fileURLWithPath: dir + "/short.gencplan"))
        let t = try GencBinary.run(["eval", dir + "/short.gencplan"], timeout: 60)
        XCTAssertEqual(t.status, 1, t.stderr)
        // Compiling a plan file is a usage error.
        XCTAssertEqual(try GencBinary.run(["compile", plan], timeout: 60).status, 64)
    }
}
