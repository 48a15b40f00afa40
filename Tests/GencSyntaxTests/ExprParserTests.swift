import GencSupport
@testable import GencSyntax
import XCTest

final class ExprParserTests: XCTestCase {
    func parse(_ text: String) -> Result<Expr, Diagnostic> {
        let file = SourceFile(path: "t.yaml", text: "k: \"\(text)\"\n")
        let (root, _) = YAMLReader().read(file)
        guard let s = root?["k"]?.scalar else { return .failure(Diagnostic(id: "x", message: "no scalar", at: nil)) }
        return ExprParser.parse(s, in: file)
    }

    func canonical(_ text: String) -> String {
        switch parse(text) {
        case let .success(e): return e.description
        case let .failure(d): return "error \(d.range?.start.description ?? "?"): \(d.message)"
        }
    }

    func testPrecedenceAndAssociativity() {
        XCTAssertEqual(canonical("a + b * c - d"), "(a + (b * c)) - d")
        XCTAssertEqual(canonical("-x**2"), "-(x ** 2)")
        XCTAssertEqual(canonical("a ** b ** c"), "a ** (b ** c)")
        XCTAssertEqual(canonical("2 ** -1"), "2 ** (-1)")
        XCTAssertEqual(canonical("(a + b) / batch"), "(a + b) / batch")
        XCTAssertEqual(canonical("1.5e-3 * x"), "0.0015 * x")
    }

    func testCallsFieldsAndSlices() {
        XCTAssertEqual(canonical("mean(bce_logits(d(x), 1), axis: [1, 2], keepdims: true)"),
                       "mean(bce_logits(d(x), 1), axis: [1, 2], keepdims: true)")
        XCTAssertEqual(canonical("encoder(x).mu + enc.logvar"), "encoder(x).mu + enc.logvar")
        XCTAssertEqual(canonical("t[:, :-1]"), "t[:, :-1]")
        XCTAssertEqual(canonical("t[:, 1:]"), "t[:, 1:]")
        XCTAssertEqual(canonical("t[0]"), "t[0]")
        XCTAssertEqual(canonical("t[::2, 1:steps + 1]"), "t[::2, 1:steps + 1]")
    }

    func testErrorsPointAtTheTokenInTheFile() {
        // The value starts at column 5 (after `k: "`).
        XCTAssertEqual(canonical("mean(x"), "error 1:11: expected ')' to close this '('")
        XCTAssertEqual(canonical("a + $b"), "error 1:9: unexpected character '$' in expression")
        XCTAssertEqual(canonical("a +"), "error 1:8: expected an expression, got the end of the expression")
        XCTAssertEqual(canonical("a b"), "error 1:7: expected an operator or the end of the expression, got 'b'")
        XCTAssertEqual(canonical(""), "error 1:4: expected an expression, got nothing")
        XCTAssertEqual(canonical("f(a: 1, a: 2)"), "error 1:13: keyword argument 'a' given twice")
        XCTAssertEqual(canonical("f(a: 1, 2)"), "error 1:13: positional argument after a keyword argument")
        XCTAssertEqual(canonical("(x)(y)"), "error 1:8: expected an operator (only a function or network name can be called), got '('")
        XCTAssertEqual(canonical("99999999999999999999 + 1"), "error 1:5: the integer 99999999999999999999 does not fit in 64 bits")
        XCTAssertEqual(canonical("x * 1e309"), "error 1:9: 1e309 is not a finite number (it overflows a 64-bit float)")
    }

    /// Every recursive production counts a nesting level while it parses, so
    /// a 10,000-long chain of any of them ends in the "too deep" error at the
    /// token that opens level 257, never in a stack overflow. (A chain of
    /// 8,000 `** 1` used to overflow the stack: `**` recursed uncounted.)
    func testEveryRecursiveProductionIsBoundedWhileParsing() {
        let n = 10_000
        // The value starts at column 5 (after `k: "`).
        let chains: [(String, String, Int)] = [
            ("** 1", "x" + String(repeating: " ** 1", count: n), 5 + 1 + 256 * 5 + 1),
            ("- -", String(repeating: "- ", count: n) + "x", 5 + 256 * 2),
            ("+ +", String(repeating: "+ ", count: n) + "x", 5 + 256 * 2),
            ("--", String(repeating: "-", count: n) + "x", 5 + 256),
            ("-x ** -x", String(repeating: "-x ** ", count: n) + "x", 5 + 128 * 6),
            ("x ** -x", "x" + String(repeating: " ** -x", count: n), 5 + 128 * 6 + 2),
            ("a[a[", String(repeating: "a[", count: n) + "0" + String(repeating: "]", count: n), 5 + 256 * 2 + 1),
            ("a[1:a[", String(repeating: "a[1:", count: n) + "0" + String(repeating: "]", count: n), 5 + 256 * 4 + 1),
            ("f(f(", String(repeating: "f(", count: n) + "x" + String(repeating: ")", count: n), 5 + 256 * 2 + 1),
            ("f(k: f(", String(repeating: "f(k: ", count: n) + "x" + String(repeating: ")", count: n), 5 + 256 * 5 + 1),
            ("[[[", String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n), 5 + 256),
            ("(((", String(repeating: "(", count: n) + "x" + String(repeating: ")", count: n), 5 + 256),
            ("x ** (", String(repeating: "x ** (", count: n) + "x" + String(repeating: ")", count: n), 5 + 128 * 6 + 2),
            // Seven levels a round: - f( [ a[ ( + **; level 257 is the 5th of round 37, its '('.
            ("mixed", String(repeating: "-f([a[(+x ** ", count: n / 4) + "x" + String(repeating: ")]])", count: n / 4), 5 + 36 * 13 + 6),
            // Field access loops; the tree's depth is bounded at the field past it.
            ("x.a.a", "x" + String(repeating: ".a", count: n), 5 + 1 + 255 * 2 + 1),
        ]
        for (name, text, column) in chains {
            XCTAssertEqual(canonical(text), "error 1:\(column): expression nests more than 256 levels deep; split it into graph nodes", name)
        }
        // Just within the limit (255 levels and the leaf), each parses.
        for text in ["x" + String(repeating: " ** 1", count: 255), String(repeating: "- ", count: 255) + "x",
                     String(repeating: "f(", count: 255) + "x" + String(repeating: ")", count: 255),
                     String(repeating: "[", count: 255) + "1" + String(repeating: "]", count: 255)] {
            XCTAssertFalse(canonical(text).hasPrefix("error"), String(text.prefix(12)))
        }
    }

    func testHugeInputsAreRefusedNotCrashed() {
        let start = Date()
        let sum = (0..<100_000).map { _ in "a" }.joined(separator: "+")
        XCTAssertTrue(canonical(sum).hasPrefix("error"), "a 100,000-term sum")
        let nested = String(repeating: "(", count: 40_000) + "x" + String(repeating: ")", count: 40_000)
        XCTAssertTrue(canonical(nested).contains("nests more than 256"))
        let unary = String(repeating: "-", count: 30_000) + "x"
        XCTAssertTrue(canonical(unary).contains("nests more than 256"))
        let calls = String(repeating: "f(", count: 20_000) + String(repeating: ")", count: 20_000)
        XCTAssertTrue(canonical(calls).hasPrefix("error"))
        XCTAssertTrue(canonical(String(repeating: "x+", count: 60_000) + "x").contains("longer than"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        // Right-recursive chains: every recursive production counts a level
        // while parsing (`** 1` eight thousand times overflowed the stack).
        for chain in [
            "x" + String(repeating: " ** 1", count: 10_000),
            "x" + String(repeating: " ** -x", count: 8_000),
            String(repeating: "+", count: 20_000) + "x",
            String(repeating: "a[", count: 10_000) + "0" + String(repeating: "]", count: 10_000),
            String(repeating: "[", count: 10_000) + "1" + String(repeating: "]", count: 10_000),
            String(repeating: "-x ** (", count: 5_000) + "x" + String(repeating: ")", count: 5_000),
        ] {
            XCTAssertTrue(canonical(chain).contains("nests more than 256"), String(chain.prefix(20)))
        }
        // 200 levels of `**` are within the limit.
        XCTAssertFalse(canonical("x" + String(repeating: " ** 1", count: 200)).hasPrefix("error"))
        // Within the limits, long flat chains are fine.
        XCTAssertFalse(canonical((0..<200).map { "a\($0)" }.joined(separator: " + ")).hasPrefix("error"))
    }
}
