import Foundation
import GencRuntime
import GencTestSupport
import XCTest

/// A model whose learning rate explodes: training stops at the first
/// kernel that made a NaN or infinity, named with its op and YAML line —
/// found as it runs under --check-numerics, or without it by running the
/// bad steps again, checked, once the loss went non-finite — and the last
/// good checkpoint is left whole and finite.
final class NumericsCommandTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("genc-numerics-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func explodingModel() throws -> String {
        let path = dir + "/explode.yaml"
        try """
        genc: 1
        name: explode
        dims: {batch: 8}
        inputs:
          x: [batch, 784]
        networks:
          ae:
            in: {x: [batch, 784]}
            layers:
              - dense: {units: 16, activation: relu}
              - dense: 784
        objectives:
          rec:
            minimize: mean(bce_logits(ae(x), x))
            update: ae
        train:
          data:
            x: {dataset: shapes, split: train, scale: [0, 1]}
          optimizer: {sgd: {lr: 1.0e+12}}
          steps: 200
          seed: 1

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testAnExplodingRunStopsKeepsTheLastGoodCheckpointAndSaysHowToFindTheOp() throws {
        let model = try explodingModel()
        let r = try GencBinary.run(["run", model, "--out", dir + "/a", "--checkpoint-every", "1", "--threads", "1", "--progress", "none"], timeout: 120)
        XCTAssertEqual(r.status, 1, r.stderr)
        // Without --check-numerics the bad step is run again from the last good checkpoint with every kernel checked: the op and its line are named all the same.
        XCTAssertNotNil(r.stderr.range(of: #"running steps (\d+)–\1 again with every kernel checked to find the op"#, options: .regularExpression), r.stderr)
        XCTAssertNotNil(r.stderr.range(of: #"\#(model):\d+:\d+: error: '[a-z_]+' produced (NaN|\+inf|-inf) \(.*\) in kernel \d+ \(.*\) of program 'explode\.train\.rec' at step \d+, objective 'rec' \(found by running steps"#,
                                       options: .regularExpression), r.stderr)
        XCTAssertTrue(r.stderr.contains("the last good one, '\(dir)/a/checkpoint.safetensors'"), r.stderr)
        // The replay left nothing in the run's directory.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/a").sorted(), ["checkpoint.safetensors", "loss.svg", "metrics.jsonl"])
        // The checkpoint left is complete, finite, and resumable.
        let file = try SafeTensors.read(path: dir + "/a/checkpoint.safetensors")
        for (name, t) in file.tensors where !name.hasPrefix("run.") {
            XCTAssertTrue(t.floats?.allSatisfy(\.isFinite) ?? true, name)
        }
        XCTAssertGreaterThan(Int(file.metadata["step"] ?? "") ?? 0, 0)
    }

    func testCheckNumericsNamesTheOpAndItsLine() throws {
        let model = try explodingModel()
        let r = try GencBinary.run(["run", model, "--out", dir + "/b", "--threads", "1", "--progress", "none", "--check-numerics"], timeout: 120)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertNotNil(r.stderr.range(of: #"\#(model):\d+:\d+: error: '[a-z_]+' produced (NaN|\+inf|-inf) \(.*\) in kernel \d+ \(.*\) of program 'explode\.train\.rec' at step \d+"#,
                                       options: .regularExpression), r.stderr)
        // The excerpt shows the line.
        XCTAssertTrue(r.stderr.contains(" | "), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
    }

    func testCheckNumericsFindsTheOpInsideAFusedGroup() throws {
        let path = dir + "/sqrt.yaml"
        try String(contentsOfFile: try explodingModel(), encoding: .utf8)
            .replacingOccurrences(of: "mean(bce_logits(ae(x), x))", with: "mean(exp(sqrt(ae(x) - 10) * 2) + 1)")
            .replacingOccurrences(of: "lr: 1.0e+12", with: "lr: 0.1")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let r = try GencBinary.run(["run", path, "--out", dir + "/c", "--threads", "1", "--progress", "none", "--check-numerics"], timeout: 120)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(path):14:24: error: 'sqrt' produced NaN (in a value of its fused loop"), r.stderr)
        // Without the flag the loss of step 1 is NaN; with no checkpoint yet, step 1 is run again from the start, checked.
        let plain = try GencBinary.run(["run", path, "--out", dir + "/d", "--threads", "2", "--progress", "none"], timeout: 120)
        XCTAssertEqual(plain.status, 1, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("the first non-finite value came at step 1; running steps 1–1 again"), plain.stderr)
        XCTAssertTrue(plain.stderr.contains("\(path):14:24: error: 'sqrt' produced NaN (in a value of its fused loop"), plain.stderr)
        XCTAssertTrue(plain.stderr.contains("(found by running steps 1–1 again with every kernel checked)"), plain.stderr)
        XCTAssertTrue(plain.stderr.contains("(none had been written)"), plain.stderr)
    }
}
