import GencSupport
import XCTest

final class SourceFileTests: XCTestCase {
    func testLocationsCountUnicodeScalars() {
        let f = SourceFile(path: "m.yaml", text: "ab\nçé: x\n\nlast")
        XCTAssertEqual(f.location(ofIndex: 0), SourceLocation(line: 1, column: 1))
        XCTAssertEqual(f.location(ofIndex: 3), SourceLocation(line: 2, column: 1))
        XCTAssertEqual(f.location(ofIndex: 5), SourceLocation(line: 2, column: 3))  // ':' after two non-ASCII scalars
        XCTAssertEqual(f.location(ofIndex: 10), SourceLocation(line: 4, column: 1))
        XCTAssertEqual(f.lineText(2), "çé: x")
        XCTAssertEqual(f.lineText(3), "")
        XCTAssertEqual(f.index(line: 4, column: 3), 12)
        XCTAssertEqual(f.lineCount, 4)
    }

    func testInvalidUTF8IsReportedAtItsByte() {
        let bytes: [UInt8] = Array("genc: 1\nname: a".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        guard case let .failure(d) = SourceLoader.decode(path: "bad.yaml", bytes: bytes) else { return XCTFail("accepted invalid UTF-8") }
        XCTAssertEqual(d.range?.start, SourceLocation(line: 2, column: 8))
        XCTAssertTrue(d.message.contains("0xC3"), d.message)
    }

    func testOverlongAndSurrogateEncodingsAreRefused() {
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82]] {
            guard case .failure = SourceLoader.decode(path: "x", bytes: Array("a: ".utf8) + bad) else {
                return XCTFail("accepted \(bad)")
            }
        }
        guard case .success = SourceLoader.decode(path: "x", bytes: Array("a: \"é€𝄞\"".utf8)) else { return XCTFail("refused valid UTF-8") }
    }

    func testMissingFileIsADiagnosticWithoutRange() {
        guard case let .failure(d) = SourceLoader.load(path: "/nonexistent/model.yaml") else { return XCTFail() }
        XCTAssertNil(d.range)
        XCTAssertTrue(d.message.contains("cannot read '/nonexistent/model.yaml'"), d.message)
    }
}

final class SuggestionsTests: XCTestCase {
    func testClosestCandidate() {
        let layers = ["dense", "conv", "conv_transpose", "conv1d", "batchnorm", "dropout", "lstm"]
        XCTAssertEqual(Suggestions.closest(to: "dnse", among: layers), "dense")
        XCTAssertEqual(Suggestions.closest(to: "batchnrom", among: layers), "batchnorm")  // transposition
        XCTAssertEqual(Suggestions.closest(to: "conv2d", among: layers), "conv1d")
        XCTAssertNil(Suggestions.closest(to: "transformer", among: layers))
        XCTAssertEqual(Suggestions.suffix(for: "lstn", among: layers), " (did you mean 'lstm'?)")
        XCTAssertEqual(Suggestions.suffix(for: "zzzzzz", among: layers), "")
    }
}

final class RendererTests: XCTestCase {
    func testCompilerStyleRenderingWithCaretAndNote() {
        let f = SourceFile(path: "models/m.yaml", text: "networks:\n  g:\n    layers:\n      - dnse: 400\n")
        let r = SourceRange(file: f, start: SourceLocation(line: 4, column: 9), end: SourceLocation(line: 4, column: 13))
        let d = Diagnostic(id: "unknown-layer", message: "unknown layer 'dnse' (did you mean 'dense'?)", at: r)
            .note("network 'g' starts here", at: f.range(at: SourceLocation(line: 2, column: 3)))
        XCTAssertEqual(DiagnosticRenderer().render(d), """
        models/m.yaml:4:9: error: unknown layer 'dnse' (did you mean 'dense'?)
           4 |       - dnse: 400
             |         ^~~~
        models/m.yaml:2:3: note: network 'g' starts here

        """)
    }

    /// Found by fuzzing: a range past the end of its line must not make a
    /// negative-length underline.
    func testRangesPastTheEndOfTheLineRenderACaret() {
        let f = SourceFile(path: "m.yaml", text: "ab\ncd\n")
        for (s, e) in [(3, 9), (5, 9), (9, 12), (1, 1), (2, 1)] {
            let r = SourceRange(file: f, start: SourceLocation(line: 1, column: s), end: SourceLocation(line: 1, column: e))
            XCTAssertTrue(DiagnosticRenderer().render(Diagnostic(id: "x", message: "m", at: r)).contains("^"))
        }
    }

    func testJSONIsStableAndEscaped() {
        let v = JSONValue.object([("b", .int(1)), ("a", .array([.string("x\"\n"), .double(0.5), .double(2), .bool(true), .null]))])
        XCTAssertEqual(v.serialized(pretty: false), #"{"b":1,"a":["x\"\n",0.5,2.0,true,null]}"#)
    }
}
