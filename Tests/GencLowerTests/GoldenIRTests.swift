import Genc
import GencIR
import GencSupport
import GencTestSupport
import XCTest

/// The text IR of small models, pinned. `RECORD_GOLDENS=1 swift test`
/// re-records them on purpose; review the diff before committing.
final class GoldenIRTests: XCTestCase {
    func testGoldenPrograms() throws {
        let dir = "Tests/GencLowerTests/Golden"
        let models = Repository.files(in: dir, extension: "yaml")
        XCTAssertGreaterThanOrEqual(models.count, 3)
        let record = ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1"
        for model in models {
            // Locations print the path as given: use the repository-relative one.
            let relative = dir + "/" + (model as NSString).lastPathComponent
            let text = try String(contentsOfFile: model, encoding: .utf8)
            let r = FrontEnd.load(file: SourceFile(path: relative, text: text))
            let lowered = try XCTUnwrap(r.forward, DiagnosticRenderer().render(r.diagnostics))
            var dump = ""
            for p in lowered.programs {
                XCTAssertEqual(Verifier.verify(p.graph), [], p.name)
                dump += IRText.print(p.graph)
            }
            let golden = model.replacingOccurrences(of: ".yaml", with: ".ir")
            if record {
                try dump.write(toFile: golden, atomically: true, encoding: .utf8)
                continue
            }
            let expected = (try? String(contentsOfFile: golden, encoding: .utf8)) ?? "(missing \(golden); run RECORD_GOLDENS=1 swift test)"
            XCTAssertEqual(dump, expected, "\(relative): the IR changed; if on purpose, re-record with RECORD_GOLDENS=1")
        }
    }
}
