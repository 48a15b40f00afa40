import GencSupport
@testable import GencSyntax
import XCTest

final class YAMLReaderTests: XCTestCase {
    func read(_ text: String) -> (YAMLNode?, [Diagnostic]) {
        YAMLReader().read(SourceFile(path: "t.yaml", text: text))
    }

    func testRangesOfKeysAndValues() throws {
        let (root, ds) = read("genc: 1\nnetworks:\n  g:\n    layers: [relu, {dense: 4}]\n")
        XCTAssertTrue(ds.isEmpty, "\(ds)")
        let nets = try XCTUnwrap(root?.pairs?[1])
        XCTAssertEqual(nets.key.range.start, SourceLocation(line: 2, column: 1))
        let layers = try XCTUnwrap(nets.value["g"]?["layers"])
        XCTAssertTrue(layers.isFlow)
        XCTAssertEqual(layers.range.start, SourceLocation(line: 4, column: 13))
        let dense = try XCTUnwrap(layers.items?[1].pairs?[0])
        XCTAssertEqual(dense.key.range.start, SourceLocation(line: 4, column: 21))
        XCTAssertEqual(dense.value.range.start, SourceLocation(line: 4, column: 28))
        XCTAssertEqual(dense.value.scalar?.value, "4")
    }

    func testDuplicateKeysAreAllReportedWithANoteAtTheFirst() {
        let (root, ds) = read("a: 1\nb: 2\na: 3\nb: 4\n")
        XCTAssertNotNil(root)
        XCTAssertEqual(ds.map(\.id), ["duplicate-key", "duplicate-key"])
        XCTAssertEqual(ds[0].range?.start, SourceLocation(line: 3, column: 1))
        XCTAssertEqual(ds[0].notes.first?.range?.start, SourceLocation(line: 1, column: 1))
        XCTAssertEqual(root?["a"]?.scalar?.value, "1", "the first value is kept")
    }

    func testAliasesExpandAndBombsAreRefused() {
        let (root, ds) = read("base: &b {units: 4}\nother: *b\n")
        XCTAssertTrue(ds.isEmpty)
        XCTAssertEqual(root?["other"]?["units"]?.scalar?.value, "4")
        XCTAssertEqual(root?["other"]?.range.start, SourceLocation(line: 2, column: 8), "an alias is located where it is used")

        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { bomb += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let start = Date()
        let (r2, d2) = read(bomb)
        XCTAssertNil(r2)
        XCTAssertEqual(d2.last?.id, "too-many-nodes")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testUndefinedAliasTagsDocumentsAndEmptyFiles() {
        XCTAssertEqual(read("a: *nope\n").1.last?.id, "undefined-alias")
        XCTAssertEqual(read("a: !!str 5\n").1.first?.id, "yaml-tag")
        XCTAssertEqual(read("a: !custom {x: 1}\n").1.first?.range?.start, SourceLocation(line: 1, column: 4))
        let docs = read("a: 1\n---\nb: 2\n").1
        XCTAssertEqual(docs.last?.id, "multiple-documents")
        XCTAssertEqual(docs.last?.range?.start.line, 2)
        XCTAssertEqual(read("").1.last?.id, "empty-file")
        XCTAssertEqual(read("# only a comment\n\n").1.last?.id, "empty-file")
    }

    func testSyntaxErrorsCarryLibyamlsContextAsANote() throws {
        let (root, ds) = read("a: [1, 2\nb: 3\n")
        XCTAssertNil(root)
        let d = try XCTUnwrap(ds.last)
        XCTAssertEqual(d.id, "yaml-syntax")
        XCTAssertEqual(d.notes.first?.range?.start, SourceLocation(line: 1, column: 4))
    }

    /// The two commonest mistakes get a note saying what usually causes them.
    func testCommonSyntaxErrorsSayWhatUsuallyCausesThem() throws {
        let colon = read("objectives:\n  o:\n    minimize: mean(x): y\n").1
        XCTAssertTrue(colon.first?.notes.contains { $0.message.contains("quote it") } == true, "\(colon)")
        let flow = read("o: {minimize: mean(x): y, update: n}\n").1
        XCTAssertTrue(flow.first?.notes.contains { $0.message.contains("quote an expression") } == true, "\(flow)")
        let indent = read("layers:\n  - dense: 3\n   - relu\n").1
        XCTAssertTrue(indent.first?.notes.contains { $0.message.contains("check the indentation") } == true, "\(indent)")
    }

    /// A control character is reported where it is, not at 1:1.
    func testControlCharactersAreReportedWhereTheyAre() throws {
        let (_, ds) = read("a: 1\nb: 2\nc: [1,\u{0} 2]\n")
        XCTAssertEqual(ds.first?.range?.start, SourceLocation(line: 3, column: 7))
        XCTAssertEqual(ds.first?.id, "control-character")
        let (_, esc) = read("a: \"x\u{1B}[31m\"\n")
        XCTAssertEqual(esc.first?.range?.start, SourceLocation(line: 1, column: 6))
        // Tabs, newlines, CR and non-ASCII text are allowed.
        XCTAssertTrue(read("a: \"é\tü\"\r\nb: 1\n").1.isEmpty)
        // The excerpt shows control characters as pictures, never raw.
        let text = DiagnosticRenderer().render(ds)
        XCTAssertTrue(text.contains("\u{2400}") && !text.contains("\u{0}"), text)
    }

    func testTabIndentationIsExplained() throws {
        let d = try XCTUnwrap(read("a:\n\tb: 1\n").1.last)
        XCTAssertEqual(d.id, "yaml-syntax")
        XCTAssertEqual(d.range?.start, SourceLocation(line: 2, column: 1))
        XCTAssertTrue(d.message.contains("tab"), d.message)
    }

    func testDeepNestingIsRefusedWithoutRecursion() {
        for text in [String(repeating: "[", count: 50_000), String(repeating: "{a: ", count: 20_000),
                     (0..<200).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n")] {
            let (root, ds) = read(text)
            XCTAssertNil(root)
            XCTAssertEqual(ds.last?.id, "too-deep", "\(ds.last?.message ?? "")")
        }
    }

    func testComplexAndNullKeys() {
        XCTAssertEqual(read("? [a, b]\n: 1\n").1.last?.id, "complex-key")
        XCTAssertEqual(read("~: 1\n").1.last?.id, "null-key")
    }
}
