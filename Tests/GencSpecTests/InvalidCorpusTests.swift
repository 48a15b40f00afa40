import Genc
import GencSupport
import GencTestSupport
import XCTest

/// Every file in Tests/Corpus/invalid must produce exactly the errors its
/// markers name, at their line and column.
final class InvalidCorpusTests: XCTestCase {
    func testEveryCorpusFileReportsExactlyItsMarkedErrors() throws {
        let files = Repository.files(in: "Tests/Corpus/invalid", extension: "yaml")
        XCTAssertGreaterThanOrEqual(files.count, 40, "the corpus holds at least 40 invalid models")
        var failures: [String] = []
        for path in files {
            // Lossy: some corpus files hold invalid UTF-8 on purpose.
            let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
            let expected = Expectations.parse(text)
            if expected.isEmpty {
                failures.append("\(path): no expectation markers")
                continue
            }
            let result = FrontEnd.load(path: path)
            let reported = result.diagnostics.filter { $0.severity == .error }.map {
                (line: $0.range?.start.line ?? 0, column: $0.range?.start.column ?? 0, message: $0.message)
            }
            for m in Expectations.mismatches(expected: expected, reported: reported) {
                failures.append("\((path as NSString).lastPathComponent): \(m)")
            }
        }
        XCTAssertTrue(failures.isEmpty, "\n" + failures.joined(separator: "\n"))
    }

    func testMarkerParsing() {
        let text = """
        # expect: 1:1 error: unknown key 'genk'
        genk: 1
        layers:
          - dnse: 4
        #     ^ error: unknown layer 'dnse'
        #       ^ second on the same line
        """
        XCTAssertEqual(Expectations.parse(text), [
            ExpectedDiagnostic(line: 1, column: 1, text: "unknown key 'genk'"),
            ExpectedDiagnostic(line: 4, column: 7, text: "unknown layer 'dnse'"),
            ExpectedDiagnostic(line: 4, column: 9, text: "second on the same line"),
        ])
    }
}
