import Foundation
import GencSupport
import GencTestSupport
import XCTest

/// `genc check` as a user runs it: output, exit status, JSON.
final class CheckCommandTests: XCTestCase {
    func testReferenceModelsCheckWithExitZero() throws {
        for f in Repository.files(in: "models", extension: "yaml") {
            let r = try GencBinary.run(["check", f])
            XCTAssertEqual(r.status, 0, "\(f): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains(": ok"), r.stdout)
            XCTAssertEqual(r.stderr, "")
        }
    }

    func testJSONSummary() throws {
        let r = try GencBinary.run(["check", "--json", Repository.path("models/vae.yaml")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONParser.parse(r.stdout)
        XCTAssertEqual(json["model"], .string("vae"))
        XCTAssertEqual(json["valid"], .bool(true))
        XCTAssertEqual(json["networks"]?["encoder"]?["outputs"]?["mu"]?["shape"], .array([.int(128), .int(20)]))
        XCTAssertEqual(json["networks"]?["encoder"]?["params"], .int(330_040))
        XCTAssertEqual(json["networks"]?["decoder"]?["params"], .int(322_784))
        XCTAssertEqual(json["objectives"]?["elbo"]?["update"], .array([.string("encoder"), .string("decoder")]))
        XCTAssertEqual(json["objectives"]?["elbo"]?["params"], .int(652_824))
        XCTAssertEqual(json["diagnostics"], .array([]))
    }

    func testDimOverride() throws {
        let r = try GencBinary.run(["check", "--json", "--dim", "batch=16", Repository.path("models/dcgan.yaml")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try JSONParser.parse(r.stdout)["dims"]?["batch"], .int(16))
    }

    func testUsageErrorsExit64() throws {
        let model = Repository.path("models/dcgan.yaml")
        XCTAssertEqual(try GencBinary.run(["check", "--dim", "batch", model]).status, 64)
        XCTAssertEqual(try GencBinary.run(["check", "--dim", "batch=-3", model]).status, 64)
        let unknown = try GencBinary.run(["check", "--dim", "bach=16", model])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.stderr.contains("did you mean 'batch'"), unknown.stderr)
        XCTAssertEqual(try GencBinary.run(["check"]).status, 64)
        XCTAssertEqual(try GencBinary.run(["frobnicate"]).status, 64)
    }

    func testUnreadableFileExitsOne() throws {
        let r = try GencBinary.run(["check", "/nonexistent/model.yaml"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("/nonexistent/model.yaml: error: cannot read"), r.stderr)
    }

    func testInvalidCorpusExitsOneWithCompilerStyleDiagnostics() throws {
        let files = Repository.files(in: "Tests/Corpus/invalid", extension: "yaml")
        XCTAssertFalse(files.isEmpty)
        for f in files {
            let r = try GencBinary.run(["check", f])
            XCTAssertEqual(r.status, 1, "\(f): \(r.stderr)")
            let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertTrue(first.hasPrefix("\(f):"), "\(f): \(first)")
            XCTAssertNotNil(first.range(of: #"^[^:]+:\d+:\d+: error: "#, options: .regularExpression), first)
            XCTAssertTrue(r.stderr.contains("error generated.") || r.stderr.contains("errors generated."), r.stderr)
        }
    }

    func testJSONDiagnosticsForAnInvalidModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("genc-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let f = dir.appendingPathComponent("bad.yaml").path
        try "genc: 1\nname: bad\ninputs: {x: [4, 2]}\nnetworks:\n  n:\n    in: {x: [4, 2]}\n    layers: [dnse]\n".write(toFile: f, atomically: true, encoding: .utf8)
        let r = try GencBinary.run(["check", "--json", f])
        XCTAssertEqual(r.status, 1)
        let json = try JSONParser.parse(r.stdout)
        XCTAssertEqual(json["valid"], .bool(false))
        guard case let .array(ds)? = json["diagnostics"], let d = ds.first else { return XCTFail(r.stdout) }
        XCTAssertEqual(d["line"], .int(7))
        XCTAssertEqual(d["column"], .int(14))
        XCTAssertEqual(d["id"], .string("unknown-layer"))
    }
}
