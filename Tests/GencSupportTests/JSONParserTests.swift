import GencSupport
import XCTest

/// `JSONValue.parse`: RFC 8259 exactly, errors with byte offsets, bounded
/// nesting, and no trap on any input.
final class JSONParserTests: XCTestCase {
    func parse(_ s: String) throws -> JSONValue { try JSONValue.parse(s) }

    func failure(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do {
            let v = try JSONValue.parse(bytes)
            XCTFail("parsed as \(v.serialized(pretty: false))", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func failure(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? { failure(Array(s.utf8), file: file, line: line) }

    func testValues() throws {
        XCTAssertEqual(try parse(" null "), .null)
        XCTAssertEqual(try parse("true"), .bool(true))
        XCTAssertEqual(try parse("false"), .bool(false))
        XCTAssertEqual(try parse("\t[1, -2 ,\"x\"]\r\n"), .array([.int(1), .int(-2), .string("x")]))
        XCTAssertEqual(try parse("{}"), .object([]))
        XCTAssertEqual(try parse("[]"), .array([]))
        XCTAssertEqual(try parse("{\"b\": 1, \"a\": {\"c\": [true, null]}}"),
                       .object([("b", .int(1)), ("a", .object([("c", .array([.bool(true), .null]))]))]))
        // Key order and duplicates are kept: the caller decides.
        XCTAssertEqual(try parse("{\"z\":1,\"a\":2,\"z\":3}"), .object([("z", .int(1)), ("a", .int(2)), ("z", .int(3))]))
    }

    func testNumbers() throws {
        XCTAssertEqual(try parse("0"), .int(0))
        XCTAssertEqual(try parse("-0"), .int(0))
        XCTAssertEqual(try parse("9223372036854775807"), .int(Int.max))
        XCTAssertEqual(try parse("-9223372036854775808"), .int(Int.min))
        XCTAssertEqual(try parse("9223372036854775808"), .double(9223372036854775808))
        XCTAssertEqual(try parse("1.5"), .double(1.5))
        XCTAssertEqual(try parse("3.0"), .double(3), "a fraction makes a double, even an integral one")
        XCTAssertEqual(try parse("1e3"), .double(1000))
        XCTAssertEqual(try parse("-2.5E-3"), .double(-0.0025))
        XCTAssertEqual(try parse("1e+2"), .double(100))
        XCTAssertEqual(try parse("5e-324"), .double(Double.leastNonzeroMagnitude))
        if case let .double(d) = try parse("-0.0") { XCTAssertEqual(d.bitPattern, (-0.0).bitPattern) } else { XCTFail("-0.0") }
        for bad in ["01", "-", "1.", ".5", "+1", "1e", "1e+", "--1", "0x10", "1.e3", "NaN", "Infinity", "-Infinity"] {
            XCTAssertNotNil(failure(bad), bad)
        }
        XCTAssertEqual(failure("1e400")?.message, "number 1e400 does not fit a 64-bit float")
        XCTAssertEqual(failure("[-1e309]")?.offset, 1)
        XCTAssertEqual(failure("01")?.message, "invalid number: leading zero")
    }

    func testStrings() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\b\f\n\r\t""#), .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        XCTAssertEqual(try parse(#""\u00e9\u00C9\u0000""#), .string("éÉ\u{0}"))
        XCTAssertEqual(try parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try parse("\"ü😀\u{7F}\""), .string("ü😀\u{7F}"))
        XCTAssertEqual(failure(#""\ude00""#)?.message, "unpaired low surrogate \\uDE00")
        XCTAssertEqual(failure(#""\ud83d""#)?.message, "unpaired high surrogate \\uD83D")
        XCTAssertEqual(failure(#""\ud83d\u0041""#)?.message, "unpaired high surrogate \\uD83D")
        XCTAssertEqual(failure(#""\u12""#)?.message, "truncated \\u escape")
        XCTAssertEqual(failure(#""\u12g4""#)?.message, "invalid \\u escape: 'g' is not a hex digit")
        XCTAssertEqual(failure(#""\x""#)?.message, "invalid escape: 'x' after '\\'")
        XCTAssertEqual(failure("\"a\nb\"")?.message, "raw control character byte 0x0A in a string (it must be escaped)")
        XCTAssertEqual(failure("\"abc")?.message, "unterminated string")
        // Malformed UTF-8: a lone continuation, an overlong form, a surrogate, past U+10FFFF, truncated.
        for bad: [UInt8] in [[0x80], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82]] {
            let e = failure([0x22] + bad + [0x22])
            XCTAssertTrue(e?.message.contains("UTF-8") ?? false, "\(bad): \(String(describing: e))")
        }
        // Outside a string, non-ASCII is never a value.
        XCTAssertNotNil(failure([0xC3, 0xA9]))
    }

    func testErrorsSayWhereAndWhat() {
        let e = failure("[1, 2,]")
        XCTAssertEqual(e?.offset, 6)
        XCTAssertEqual(e?.message, "unexpected ']', expected a value")
        XCTAssertEqual(e?.description, "unexpected ']', expected a value at byte 6")
        XCTAssertEqual(failure("")?.message, "unexpected end of input, expected a value")
        XCTAssertEqual(failure("{\"a\" 1}")?.message, "unexpected '1', expected ':'")
        XCTAssertEqual(failure("{1: 2}")?.message, "unexpected '1', expected a string key")
        XCTAssertEqual(failure("{\"a\": 1,}")?.message, "unexpected '}', expected a string key")
        XCTAssertEqual(failure("[1 2]")?.message, "unexpected '2', expected ',' or ']'")
        XCTAssertEqual(failure("{\"a\": 1")?.message, "unexpected end of input, expected ',' or '}'")
        XCTAssertEqual(failure("tru")?.message, "invalid literal, expected 'true'")
        XCTAssertEqual(failure("nul")?.message, "invalid literal, expected 'null'")
        XCTAssertEqual(failure("1 2")?.message, "unexpected '2' after the end of the JSON value")
        XCTAssertEqual(failure("1 2")?.offset, 2)
        XCTAssertEqual(failure([0x5B, 0x07])?.message, "unexpected byte 0x07, expected a value")
    }

    func testNestingIsBounded() throws {
        let ok = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        XCTAssertNoThrow(try parse(ok))
        let deep = String(repeating: "[", count: 257) + String(repeating: "]", count: 257)
        XCTAssertEqual(failure(deep)?.message, "nesting deeper than 256 levels")
        XCTAssertEqual(failure(String(repeating: "{\"a\":", count: 100_000))?.message, "nesting deeper than 256 levels")
        XCTAssertNotNil(failure(String(repeating: "[", count: 1_000_000)))
        XCTAssertThrowsError(try JSONValue.parse("[[1]]", maxDepth: 1))
        XCTAssertEqual(try JSONValue.parse("[[1]]", maxDepth: 2), .array([.array([.int(1)])]))
    }

    /// A random value without doubles (their printing is checked apart).
    func randomValue(_ depth: Int, _ rng: inout SystemRandomNumberGenerator) -> JSONValue {
        let strings = ["", "a", "ü", "😀", "\"\\", "\n\t\r", "\u{0}\u{1F}", "\u{7F}", "key with spaces", "é\u{301}"]
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int.random(in: Int.min...Int.max, using: &rng))
        case 3: return .int(Int.random(in: -1000...1000, using: &rng))
        case 4: return .string(strings[Int.random(in: 0..<strings.count, using: &rng)])
        case 5: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(depth + 1, &rng) })
        default:
            return .object((0..<Int.random(in: 0...4, using: &rng)).map { _ in (strings[Int.random(in: 0..<strings.count, using: &rng)], randomValue(depth + 1, &rng)) })
        }
    }

    func testSerializedValuesParseBack() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let v = randomValue(0, &rng)
            XCTAssertEqual(try parse(v.serialized(pretty: true)), v)
            XCTAssertEqual(try parse(v.serialized(pretty: false)), v)
        }
    }

    /// `serialized()` prints every finite double so that it reads back bit
    /// for bit, but for −0, which prints as `0.0` (so plan files store
    /// doubles as bit patterns); non-finite doubles print as `null`.
    func testSerializedDoublesParseBackExactly() throws {
        var rng = SystemRandomNumberGenerator()
        var samples: [Double] = [0, 1, -1, 0.1, 1e15, 1e15 - 1, -1e15 + 1, 123, 1e16, 1e300, 2.5e-308, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                 -.greatestFiniteMagnitude, .leastNormalMagnitude, Double(Int64.max), 4503599627370497]
        samples += (0..<5000).map { _ in Double(bitPattern: rng.next()) }.filter(\.isFinite)
        samples += (0..<1000).map { _ in Double(Int.random(in: -1 << 53...1 << 53, using: &rng)) }
        for d in samples where d != 0 || d.sign == .plus {
            let text = JSONValue.double(d).serialized(pretty: false)
            guard case let .double(back) = try parse(text) else { XCTFail("\(text) is not a double"); continue }
            XCTAssertEqual(back.bitPattern, d.bitPattern, text)
        }
        XCTAssertEqual(JSONValue.double(-0.0).serialized(), "0.0")
        XCTAssertEqual(JSONValue.double(.nan).serialized(), "null")
    }

    /// Random byte edits of valid documents: each parses or throws, never traps.
    func testMutatedInputNeverTraps() {
        let seeds = [
            #"{"a": [1, 2.5e-3, -0, true, false, null], "b": {"c": "\u00e9\ud83d\ude00\n", "d": []}, "e": 12345678901234567890}"#,
            #"[[[[{"x": "ü😀"}]]], "\\\"", 0.0, -1E+2, {}]"#,
            #""a string with \t and \/ and \u0041""#,
        ].map { Array($0.utf8) }
        let alphabet = Array(#"{}[]":,\-+.0123456789eEtrufalsn u"#.utf8) + [0x00, 0x0A, 0x80, 0xBF, 0xC3, 0xED, 0xF0, 0xF4, 0xFF]
        var rng = SystemRandomNumberGenerator()
        var parsed = 0
        for n in 0..<20_000 {
            var b = seeds[n % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0...b.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: if at < b.count { b[at] = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
                case 1: if at < b.count { b.remove(at: at) }
                case 2: b.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)], at: at)
                default: b = Array(b.prefix(at))
                }
            }
            if (try? JSONValue.parse(b)) != nil { parsed += 1 }
        }
        XCTAssertGreaterThan(parsed, 0)
        for _ in 0..<2000 {
            let junk = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? JSONValue.parse(junk)
        }
    }
}
