import Foundation
import GencTestSupport
import XCTest

/// Usage errors, whether ArgumentParser or a verb finds them, read the same
/// as every other genc error, and under `--json` they are JSON too.
final class CLIUsageJSONTests: XCTestCase {
    let model = Repository.path("models/mlp-gan.yaml")

    /// Exit 64, `genc: error:` first and nowhere ArgumentParser's `Error:`,
    /// `text` in the message, and with `--json` the same object `check --json`
    /// prints for a failure, its diagnostic's id `usage`.
    func usage(_ args: [String], _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try GencBinary.run(args)
        XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("genc: error: "), "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Error:"), "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(text), "\(args): \(r.stderr)", file: file, line: line)
        guard args.contains("--json") else {
            XCTAssertEqual(r.stdout, "", "\(args)", file: file, line: line)
            return
        }
        let json = try JSONParser.parse(r.stdout)
        XCTAssertEqual(json["valid"], .bool(false), r.stdout, file: file, line: line)
        XCTAssertNotNil(json["file"], r.stdout, file: file, line: line)
        guard case let .array(ds)? = json["diagnostics"], let d = ds.first else { return XCTFail(r.stdout, file: file, line: line) }
        XCTAssertEqual(d["severity"], .string("error"), r.stdout, file: file, line: line)
        XCTAssertEqual(d["id"], .string("usage"), r.stdout, file: file, line: line)
        guard case let .string(message)? = d["message"] else { return XCTFail(r.stdout, file: file, line: line) }
        XCTAssertTrue(message.contains(text), "\(message) lacks \(text)", file: file, line: line)
        XCTAssertFalse(message.contains("Usage:"), message, file: file, line: line)
    }

    func testUsageErrorsUnderJSONAreJSON() throws {
        try usage(["eval", "--json", "--threads", "-1", model], "--threads must be")
        try usage(["bench", "--json", "--steps", "0", model], "--steps must be")
        try usage(["check", "--json", "--dim", "batch=0", model], "--dim expects NAME=VALUE")
        try usage(["check", "--json", model, "--nosuch"], "nosuch")
        try usage(["bench", "--json", model, "--sgemm", "64"], "not both")
        try usage(["eval", "--json", "--objective", "d_los", model], "did you mean 'd_loss'")
        // A verb's own usage error names the model file.
        let r = try GencBinary.run(["eval", "--json", "--objective", "nosuch", model])
        XCTAssertEqual(try JSONParser.parse(r.stdout)["file"], .string(model), r.stdout)
    }

    func testJSONAfterDoubleDashIsAFileNotAFlag() throws {
        let r = try GencBinary.run(["check", "--", "--json"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("--json"), r.stderr)
    }

    func testADimThatLooksLikeAFlagIsABadDim() throws {
        for verb in [["check"], ["dump"], ["eval"], ["bench", "--steps", "1"]] {
            try usage(verb + ["--dim", "-4", model], "--dim expects NAME=VALUE with a positive integer VALUE, got '-4'")
        }
    }

    func testUnknownObjectiveNamesTheObjectives() throws {
        for args in [["dump", "--program", "sample"], ["dump", "--stage", "spec"], ["dump"], ["eval"]] {
            try usage(args + ["--objective", "nosuch", model], "no objective 'nosuch'; the model's objectives: d_loss, g_loss")
        }
    }

    func testRunHasHelpAndRejectsContradictoryOptions() throws {
        let help = try GencBinary.run(["run", "--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.contains("--resume") && help.stdout.contains("--sample-only"), help.stdout)
        try usage(["run", model, "--epochs", "1", "--steps", "3"], "give --epochs or --steps, not both")
        try usage(["run", model, "--sample-only"], "--sample-only needs --weights FILE")
        try usage(["run", model, "--count", "4"], "--count applies to --sample-only")
        try usage(["run", model, "--weights", "w.safetensors"], "--weights is for --sample-only")
        try usage(["run", model, "--checkpoint-every", "0"], "--checkpoint-every must be at least 1")
        try usage(["run", model, "--progress", "fancy"], "--progress must be auto, bar, lines or none")
        try usage(["eval", model, "--split", "validation"], "--split must be train or test")
        try usage(["eval", model, "--batches", "3"], "--batches applies to --split")
    }

    func testHelpAndVersionAreNotErrors() throws {
        for args in [["--version"], ["check", "--help"], ["help", "eval"]] {
            let r = try GencBinary.run(args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr, "", "\(args)")
            XCTAssertFalse(r.stdout.isEmpty, "\(args)")
        }
    }
}
