import GencSupport
@testable import GencSyntax
import XCTest

/// Expression errors inside every scalar style point at the right column.
final class ScalarSourceMapTests: XCTestCase {
    /// Parses `text`, takes the value of key `k`, and returns the file
    /// location of the first occurrence of `needle` in that value.
    func locate(_ needle: String, in text: String, key: String = "k") throws -> SourceLocation {
        let file = SourceFile(path: "t.yaml", text: text)
        let (root, ds) = YAMLReader().read(file)
        XCTAssertTrue(ds.isEmpty, "\(ds)")
        let scalar = try XCTUnwrap(root?[key]?.scalar)
        let value = Array(scalar.value.unicodeScalars)
        let n = Array(needle.unicodeScalars)
        let offset = try XCTUnwrap((0...(value.count - n.count)).first { Array(value[$0..<$0 + n.count]) == n })
        return ScalarSourceMap(scalar: scalar, file: file).range(offset, offset + n.count).start
    }

    func testPlainSingleLineAndFolded() throws {
        XCTAssertEqual(try locate("foo", in: "k: mean(foo(x))\n"), SourceLocation(line: 1, column: 9))
        XCTAssertEqual(try locate("foo", in: "k: mean(x) +\n   foo(y)\n"), SourceLocation(line: 2, column: 4))
    }

    func testQuotedWithEscapes() throws {
        XCTAssertEqual(try locate("bar", in: "k: \"a \\\"q\\\" + bar\"\n"), SourceLocation(line: 1, column: 15))
        XCTAssertEqual(try locate("bar", in: "k: 'it''s + bar'\n"), SourceLocation(line: 1, column: 13))
        XCTAssertEqual(try locate("bar", in: "k: \"x + \\\n   bar\"\n"), SourceLocation(line: 2, column: 4))
    }

    func testBlockScalars() throws {
        XCTAssertEqual(try locate("baz", in: "k: >  # comment\n  mean(a)\n    + baz(b)\n"), SourceLocation(line: 3, column: 7))
        XCTAssertEqual(try locate("baz", in: "k: |\n  sum(a) +\n  baz(c)\n"), SourceLocation(line: 3, column: 3))
    }

    func testInFlowMapping() throws {
        let file = SourceFile(path: "t.yaml", text: "s: {from: \"dec(zz)\", grid: [8, 8]}\n")
        let (root, _) = YAMLReader().read(file)
        let scalar = try XCTUnwrap(root?["s"]?["from"]?.scalar)
        XCTAssertEqual(ScalarSourceMap(scalar: scalar, file: file).range(4, 6).start, SourceLocation(line: 1, column: 16))
    }
}
