import Foundation
import GencRuntime
import GencTestSupport
import XCTest

/// Every verb is as strict as every other: the same `--dim` rule, one
/// error prefix, usage errors exit 64, and `--json` prints JSON on failure.
final class CLIStrictnessTests: XCTestCase {
    let model = Repository.path("models/mlp-gan.yaml")
    let fixtures = Repository.path("Tests/GencRuntimeTests/Fixtures")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("genc-strict-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// A usage error: exit 64, `genc: error:` first, never ArgumentParser's `Error:`.
    func usage(_ args: [String], _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try GencBinary.run(args)
        XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("genc: error: "), "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Error: "), "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(text), "\(args): \(r.stderr)", file: file, line: line)
    }

    func testEveryVerbRejectsTheSameBadDims() throws {
        for bad in ["batch=0", "batch=-4", "batch=1e3", "batch", "batch=", "=4"] {
            for verb in [["check"], ["dump"], ["eval"], ["bench", "--steps", "1"]] {
                try usage(verb + ["--dim", bad, model], "--dim expects NAME=VALUE")
            }
        }
    }

    func testBenchTakesAModelOrSgemmNotBoth() throws {
        try usage(["bench", model, "--sgemm", "64"], "not both")
        try usage(["bench"], "give a model FILE or --sgemm N")
        try usage(["bench", "--sgemm", "64", "--dim", "batch=2"], "--dim applies to a model FILE")
    }

    func testNumbersThatLookLikeFlags() throws {
        try usage(["eval", "--threads", "-1", model], "--threads must be a whole number from 1 to 1024, got -1")
        try usage(["bench", "--threads", "0", model], "--threads must be")
        try usage(["bench", "--steps", "-3", model], "--steps must be")
        try usage(["eval", "--threads", "many", model], "'many' is invalid")
    }

    func testUnknownObjectiveIsAnErrorForEveryProgram() throws {
        try usage(["dump", "--program", "sample", "--objective", "nosuch", model], "no objective 'nosuch'")
        try usage(["dump", "--program", "eval", "--objective", "d_los", model], "did you mean 'd_loss'")
        try usage(["dump", "--program", "sample", "--objective", "d_loss", model], "does not apply to --program sample")
        try usage(["eval", "--objective", "g_los", model], "did you mean 'g_loss'")
    }

    func testRunRejectsBadCounts() throws {
        try usage(["run", model, "--steps", "-1"], "--steps must be from 0")
        try usage(["run", model, "--epochs", "0"], "--epochs must be from 1")
        try usage(["run", model, "--threads", "0"], "--threads must be a whole number")
        try usage(["run", "--dim", "batch=0", model], "--dim expects NAME=VALUE")
    }

    func testJSONOnFailureEverywhere() throws {
        let broken = dir.appendingPathComponent("broken.yaml").path
        try "genc: 1\nname: b\nnetworks: {n: {in: {x: [2, 2]}, layers: [dnse]}}\n".write(toFile: broken, atomically: true, encoding: .utf8)
        for verb in [["check"], ["eval"], ["bench", "--steps", "1"]] {
            let r = try GencBinary.run(verb + ["--json", broken])
            XCTAssertEqual(r.status, 1, "\(verb): \(r.stderr)")
            let json = try JSONParser.parse(r.stdout)
            XCTAssertEqual(json["valid"], .bool(false), "\(verb): \(r.stdout)")
            guard case let .array(ds)? = json["diagnostics"], !ds.isEmpty else { return XCTFail("\(verb): \(r.stdout)") }
        }
        // A failure after loading (a data input not given) is JSON too.
        let r = try GencBinary.run(["eval", "--json", model])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("reads input 'x', which is data"), r.stdout)
        XCTAssertNotNil(try? JSONParser.parse(r.stdout), r.stdout)
    }

    /// `--inputs` is as strict as `--weights`.
    func testInputsMustMatchExactly() throws {
        let dense = "\(fixtures)/fx-dense.yaml"
        let good = try SafeTensors.read(path: "\(fixtures)/fx-dense.inputs.safetensors")
        func run(_ tensors: [(String, SafeTensors.Tensor)]) throws -> GencBinary.Outcome {
            let path = dir.appendingPathComponent("in.safetensors").path
            try SafeTensors(tensors: tensors).write(path: path)
            return try GencBinary.run(["eval", dense, "--objective", "o_mse", "--inputs", path])
        }
        let ok = try run(good.tensors.map { ($0.name, $0.tensor) })
        XCTAssertEqual(ok.status, 0, ok.stderr)
        // Same element count, other shape.
        var reshaped = good.tensors.map { ($0.name, $0.tensor) }
        if let i = reshaped.firstIndex(where: { $0.0 == "x" }) { reshaped[i].1.shape = [5, 3] }
        let shape = try run(reshaped)
        XCTAssertEqual(shape.status, 1)
        XCTAssertTrue(shape.stderr.contains("'x' has shape [5, 3], the model needs [3, 5]"), shape.stderr)
        // A misspelled name is not silently ignored.
        let extra = try run(good.tensors.map { ($0.name, $0.tensor) } + [("yy", SafeTensors.Tensor(f32: [0, 0, 0, 0, 0, 0], shape: [3, 2]))])
        XCTAssertEqual(extra.status, 1)
        XCTAssertTrue(extra.stderr.contains("'yy' is not an input"), extra.stderr)
        XCTAssertTrue(extra.stderr.contains("did you mean 'y'"), extra.stderr)
        // The wrong element type.
        var ints = good.tensors.map { ($0.name, $0.tensor) }
        if let i = ints.firstIndex(where: { $0.0 == "x" }) { ints[i].1 = SafeTensors.Tensor(i32: Array(repeating: 0, count: 15), shape: [3, 5]) }
        let dtype = try run(ints)
        XCTAssertEqual(dtype.status, 1)
        XCTAssertTrue(dtype.stderr.contains("'x' must be F32"), dtype.stderr)
    }
}
