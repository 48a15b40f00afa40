import CAllocationCounter
import Foundation
import GencRuntime
import GencTestSupport
import XCTest

/// `genc eval`, `genc bench` and the OpenBLAS kernel choice, as users see them.
final class EvalCommandTests: XCTestCase {
    let fixtures = Repository.path("Tests/GencRuntimeTests/Fixtures")

    func testEvalJSON() throws {
        let r = try GencBinary.run(["eval", "--json", "\(fixtures)/fx-lstm.yaml", "--weights", "\(fixtures)/fx-lstm.weights.safetensors",
                                    "--inputs", "\(fixtures)/fx-lstm.inputs.safetensors", "--objective", "o_ce"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONParser.parse(r.stdout)
        guard case let .double(v)? = json["objectives"]?["o_ce"] else { return XCTFail(r.stdout) }
        XCTAssertEqual(v, 1.946963, accuracy: 1e-4)
    }

    func testEvalErrorsExitOne() throws {
        let missing = try GencBinary.run(["eval", Repository.path("models/vae.yaml")])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("reads input 'x', which is data"), missing.stderr)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("genc-eval-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let garbage = dir.appendingPathComponent("w.safetensors").path
        try Data([1, 2, 3, 4, 5, 6, 7, 8, 9]).write(to: URL(fileURLWithPath: garbage))
        let bad = try GencBinary.run(["eval", "\(fixtures)/fx-lstm.yaml", "--weights", garbage])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("error:"), bad.stderr)
        XCTAssertEqual(try GencBinary.run(["eval", "--objective", "o_cee", "\(fixtures)/fx-lstm.yaml"]).status, 64)
    }

    func testOpenBLASKernelIsChosenFromTheCPU() throws {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = nil
        env["GENC_OPENBLAS_CHOSEN"] = nil
        let auto = try GencBinary.run(["--version"], environment: env)
        XCTAssertEqual(auto.status, 0)
        if info.contains(" avx512f") {
            XCTAssertTrue(auto.stdout.contains("OPENBLAS_CORETYPE=SkylakeX, chosen by genc"), auto.stdout)
        } else if info.contains(" avx2") {
            XCTAssertTrue(auto.stdout.contains("OPENBLAS_CORETYPE=Haswell, chosen by genc"), auto.stdout)
        }
        env["OPENBLAS_CORETYPE"] = "Prescott"
        let user = try GencBinary.run(["--version"], environment: env)
        XCTAssertTrue(user.stdout.contains("OPENBLAS_CORETYPE=Prescott, set by the user"), user.stdout)
    }

    func testBenchPrintsMediansAsJSON() throws {
        let r = try GencBinary.run(["bench", "--json", "--steps", "3", "--warmup", "1", "--dim", "batch=8", Repository.path("models/mlp-gan.yaml")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONParser.parse(r.stdout)
        XCTAssertNotNil(json["step"]?["ms_median"])
        XCTAssertNotNil(json["programs"]?["train.d_loss"]?["gflops"])
        // The heap allocations of the timed runs are counted (a debug build
        // allocates in most kernels; scripts/allocations.sh checks the
        // release build's training steps for 0).
        XCTAssertNotNil(json["step"]?["allocations_per_run"])
        let s = try GencBinary.run(["bench", "--sgemm", "64", "--steps", "3", "--json"])
        XCTAssertEqual(s.status, 0, s.stderr)
        let sgemm = try JSONParser.parse(s.stdout)["sgemm"]
        XCTAssertNotNil(sgemm?["gflops"])
        // A sanitizer build (scripts/sanitize.sh all) owns malloc and counts nothing.
        XCTAssertEqual(sgemm?["allocations_per_run"], genc_allocations_counted() != 0 ? .double(0) : .null, s.stdout)
    }
}
