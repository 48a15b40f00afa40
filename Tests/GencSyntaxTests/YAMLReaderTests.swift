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

    /// The nesting limit holds for the tree aliases build: anchors chained
    /// through deep collections cannot build a tree deeper than the limit.
    func testAliasesCannotNestPastTheLimit() throws {
        var text = "a:\n"
        for i in 0..<60 {
            text += "  - &a\(i) " + String(repeating: "[", count: 40) + (i == 0 ? "1" : "*a\(i - 1)") + String(repeating: "]", count: 40) + "\n"
        }
        let (root, ds) = read(text)
        XCTAssertNil(root)
        let d = try XCTUnwrap(ds.last)
        XCTAssertEqual(d.id, "too-deep")
        XCTAssertTrue(d.message.contains("alias '*a0'"), d.message)
        XCTAssertEqual(d.range?.start, SourceLocation(line: 3, column: 49))
        // Within the limit, aliases of nested nodes are fine.
        let ok = read("a: &a [[[1]]]\nb: [[[*a]]]\n")
        XCTAssertTrue(ok.1.isEmpty, "\(ok.1)")
        XCTAssertEqual(ok.0?["b"]?.nodeCount, 7)
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

    /// The two commonest mistakes get a note saying what usually causes
    /// them, placed where the fix goes.
    func testCommonSyntaxErrorsSayWhatUsuallyCausesThem() throws {
        func hint(_ text: String) -> (String, SourceLocation?) {
            let d = read(text).1.last
            let n = d?.notes.last
            return (n?.message ?? "no note: \(d?.message ?? "no error")", n?.range?.start)
        }
        // An unquoted ': ' in an expression: quote the value, shown rewritten.
        var (m, at) = hint("objectives:\n  o:\n    minimize: mean(x): y  # loss\n")
        XCTAssertTrue(m.contains("quote it: minimize: \"mean(x): y\""), m)
        XCTAssertEqual(at, SourceLocation(line: 3, column: 15))
        (m, at) = hint("objectives:\n  - minimize: mean(x): \"y\"\n")
        XCTAssertTrue(m.contains("quote the whole value"), m)
        XCTAssertEqual(at, SourceLocation(line: 2, column: 15))
        // ... and inside { }.
        (m, at) = hint("o: {minimize: mean(x): y, update: n}\n")
        XCTAssertTrue(m.contains("quote the value if it is an expression"), m)
        XCTAssertEqual(at, SourceLocation(line: 1, column: 15))
        // A '{' never closed is said to be, at the '{'.
        (m, at) = hint("a: {b: 1\n# end\n")
        XCTAssertTrue(m.contains("this '{' is never closed"), m)
        XCTAssertEqual(at, SourceLocation(line: 1, column: 4))
        // A mis-indented list item, deeper or shallower than the one above.
        for text in ["layers:\n  - dense: 3\n   - relu\n", "n:\n  layers:\n    - dense: 3\n\n  - relu\n", "n:\n  layers:\n    - dense: 3\n     - relu\n"] {
            (m, at) = hint(text)
            XCTAssertTrue(m.contains("check the indentation of this item: list items of one list start at the same column"), m)
            XCTAssertTrue(m.contains("(the item on the line above is at column \(text.hasPrefix("layers") ? 3 : 5))"), m)
            XCTAssertEqual(at?.column, text.split(separator: "\n").last.map { $0.prefix { $0 == " " }.count + 1 })
        }
        // A mis-indented key.
        (m, at) = hint("n:\n  layers:\n  - dense: 3\n    units: 4\n   bias: true\n")
        XCTAssertTrue(m.contains("check the indentation of this key") && m.contains("the key on the line above is at column 5"), m)
        XCTAssertEqual(at, SourceLocation(line: 5, column: 4))
        // A line that continues the value above (a key without ':' above it).
        (m, at) = hint("inputs\n  x: [4]\n")
        XCTAssertTrue(m.contains("continues the plain value of the line above"), m)
        XCTAssertEqual(at, SourceLocation(line: 2, column: 3))
        // Text after a closing quote, and a list item after a key.
        XCTAssertTrue(hint("x: \"a\" b\n").0.contains("a quoted value ends at its closing quote"))
        XCTAssertTrue(hint("a: - 1\n").0.contains("cannot follow a key on the same line"))
        // Errors with no usual cause get no guess.
        XCTAssertEqual(read("a: [1, 2,, 3]\n").1.last?.notes.count, 1, "only libyaml's own context")
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
