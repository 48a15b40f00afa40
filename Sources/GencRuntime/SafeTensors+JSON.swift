// A small, strict JSON reader and writer for safetensors headers. It is
// written here rather than borrowed from Foundation so that every malformed
// header is a precise `SafeTensorsError` (with the byte offset at fault), so
// that object keys keep their order and duplicates stay visible, and so that
// numbers keep their exact text (a shape entry `1.0` or `1e3` is refused, not
// rounded).

/// A parsed JSON value. Objects keep key order and duplicate keys; numbers
/// keep their source text.
enum SafeTensorsJSON: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([SafeTensorsJSON])
    case object([(key: String, value: SafeTensorsJSON)])

    static func == (a: SafeTensorsJSON, b: SafeTensorsJSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count
                && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value }
        default: return false
        }
    }

    /// What a value is, for messages ("expected an array, got a string").
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Parses one JSON document from UTF-8 bytes. Whitespace may surround the
/// value; anything else after it is an error. Nesting is limited to
/// `maxDepth` levels so hostile input cannot exhaust the stack.
struct SafeTensorsJSONParser {
    static let maxDepth = 64

    private let bytes: [UInt8]
    private var i = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func parse(_ bytes: [UInt8]) throws(SafeTensorsError) -> SafeTensorsJSON {
        var p = SafeTensorsJSONParser(bytes)
        p.skipWhitespace()
        let value = try p.parseValue(depth: 1)
        p.skipWhitespace()
        if p.i < p.bytes.count {
            throw p.error("unexpected \(p.describe(p.i)) after the end of the JSON value")
        }
        return value
    }

    private func error(_ what: String, at offset: Int? = nil) -> SafeTensorsError {
        SafeTensorsError("header is not valid JSON: \(what) at byte \(offset ?? i) of the header")
    }

    /// The byte at `offset`, for messages: `'x'`, `byte 0x07`, or `end of header`.
    private func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of header" }
        let b = bytes[offset]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + SafeTensorsJSONWriter.hex2(b).uppercased()
    }

    private mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 {
            i += 1
        }
    }

    private mutating func parseValue(depth: Int) throws(SafeTensorsError) -> SafeTensorsJSON {
        guard i < bytes.count else { throw error("unexpected end of header, expected a value") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: throw error("unexpected \(describe(i)), expected a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(SafeTensorsError) {
        let start = i
        let n = word.utf8CodeUnitCount
        let ok = word.withUTF8Buffer { w in
            i + n <= bytes.count && (0..<n).allSatisfy { bytes[i + $0] == w[$0] }
        }
        guard ok else { throw error("invalid literal, expected '\(word)'", at: start) }
        i += n
    }

    private mutating func enter(_ depth: Int) throws(SafeTensorsError) {
        if depth > Self.maxDepth {
            throw error("nesting deeper than \(Self.maxDepth) levels")
        }
    }

    private mutating func parseObject(depth: Int) throws(SafeTensorsError) -> SafeTensorsJSON {
        try enter(depth)
        i += 1  // {
        var pairs: [(key: String, value: SafeTensorsJSON)] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                throw error("unexpected \(describe(i)), expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                throw error("unexpected \(describe(i)), expected ':'")
            }
            i += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            pairs.append((key, value))
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of header, expected ',' or '}'") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
            throw error("unexpected \(describe(i)), expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(SafeTensorsError) -> SafeTensorsJSON {
        try enter(depth)
        i += 1  // [
        var items: [SafeTensorsJSON] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of header, expected ',' or ']'") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw error("unexpected \(describe(i)), expected ',' or ']'")
        }
    }

    /// A number per RFC 8259: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func parseNumber() throws(SafeTensorsError) -> String {
        let start = i
        func digits(_ p: inout SafeTensorsJSONParser) -> Int {
            let s = p.i
            while p.i < p.bytes.count, p.bytes[p.i] >= 0x30 && p.bytes[p.i] <= 0x39 { p.i += 1 }
            return p.i - s
        }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 else {
            throw error("invalid number: expected a digit after '-'", at: i)
        }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
                throw error("invalid number: leading zero", at: start)
            }
        } else {
            _ = digits(&self)
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            if digits(&self) == 0 { throw error("invalid number: expected a digit after '.'") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            if digits(&self) == 0 { throw error("invalid number: expected a digit in the exponent") }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// A string; the bytes are known to be valid UTF-8 already. Raw control
    /// characters, unknown escapes and unpaired surrogates are errors.
    private mutating func parseString() throws(SafeTensorsError) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw error("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw error("raw control character \(describe(i)) in a string (it must be escaped)") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            let escapeStart = i
            i += 1
            guard i < bytes.count else { throw error("unterminated string") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(escapeStart)
                if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired low surrogate \\u\(SafeTensorsJSONWriter.hex4(scalar))", at: escapeStart)
                }
                if (0xD800...0xDBFF).contains(scalar) {
                    let lowStart = i
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired high surrogate \\u\(SafeTensorsJSONWriter.hex4(scalar))", at: escapeStart)
                    }
                    i += 2
                    let low = try hex4(lowStart)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw error("unpaired high surrogate \\u\(SafeTensorsJSONWriter.hex4(scalar))", at: escapeStart)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                // Not a surrogate, so always a valid scalar.
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default:
                throw error("invalid escape '\\\(describe(i - 1))'", at: escapeStart)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex4(_ escapeStart: Int) throws(SafeTensorsError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("truncated \\u escape", at: escapeStart) }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[i + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("invalid \\u escape: \(describe(i + k)) is not a hex digit", at: escapeStart)
            }
            v = v << 4 | d
        }
        i += 4
        return v
    }
}

/// Writes the compact JSON the reference implementation (serde_json) writes:
/// no spaces, `"` `\` and control characters escaped (`\n`-style where one
/// exists, else lowercase `\u00XX`), everything else, non-ASCII included,
/// as raw UTF-8.
enum SafeTensorsJSONWriter {
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20: out.append(contentsOf: Array("\\u00\(hex2(b))".utf8))
            default: out.append(b)
            }
        }
        out.append(0x22)
    }

    static func append(_ s: String, to out: inout [UInt8]) {
        out.append(contentsOf: s.utf8)
    }

    static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 0xF)]], as: UTF8.self)
    }

    static func hex4(_ v: UInt32) -> String {
        hex2(UInt8(truncatingIfNeeded: v >> 8)) + hex2(UInt8(truncatingIfNeeded: v))
    }
}
