// A strict RFC 8259 reader into `JSONValue`, public so that files genc writes
// (plan files) can be read back by any module without Foundation, whose
// parser blurs booleans and numbers on Linux and reorders keys. Every
// malformed input is a `JSONParseError` with the byte offset at fault; no
// input traps, and nesting is bounded so hostile input cannot exhaust the stack.

/// Why a JSON text was refused, and where (a byte offset into the input).
public struct JSONParseError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The byte offset of the fault.
    public var offset: Int
    /// What is wrong, without the offset ("unterminated string").
    public var message: String
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSONValue {
    /// The default nesting limit: far deeper than any file genc writes, far
    /// shallower than the stack.
    public static let maxParseDepth = 256

    /// Parses one JSON document from UTF-8 bytes. Whitespace may surround
    /// the value; anything else after it is an error. A number without a
    /// fraction or exponent that fits `Int` is `.int` (so `-0` is `.int(0)`);
    /// every other number is `.double`, and one that does not fit a finite
    /// `Double` is an error. Objects keep their key order and duplicate keys
    /// (callers decide whether a duplicate is an error).
    public static func parse(_ bytes: [UInt8], maxDepth: Int = JSONValue.maxParseDepth) throws(JSONParseError) -> JSONValue {
        var p = StrictJSONParser(bytes, maxDepth: maxDepth)
        p.skipWhitespace()
        let value = try p.parseValue(depth: 1)
        p.skipWhitespace()
        if p.i < bytes.count { throw p.error("unexpected \(p.describe(p.i)) after the end of the JSON value") }
        return value
    }

    /// Parses one JSON document from text (its UTF-8).
    public static func parse(_ text: String, maxDepth: Int = JSONValue.maxParseDepth) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }
}

/// The recursive-descent reader behind `JSONValue.parse`: an index into the
/// bytes, never past their end.
struct StrictJSONParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var i = 0

    init(_ bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func error(_ what: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? i, message: what)
    }

    /// The byte at `offset`, for messages: `'x'`, `byte 0x07`, or `end of input`.
    func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let b = bytes[offset]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + Self.hex(UInt32(b), digits: 2)
    }

    static func hex(_ v: UInt32, digits: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }

    mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: throw error("unexpected \(describe(i)), expected a value")
        }
    }

    mutating func literal(_ word: String) throws(JSONParseError) {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, bytes[i..<(i + w.count)].elementsEqual(w) else {
            throw error("invalid literal, expected '\(word)'")
        }
        i += w.count
    }

    func enter(_ depth: Int) throws(JSONParseError) {
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        try enter(depth)
        i += 1  // {
        var pairs: [(String, JSONValue)] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("unexpected \(describe(i)), expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("unexpected \(describe(i)), expected ':'") }
            i += 1
            skipWhitespace()
            pairs.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of input, expected ',' or '}'") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
            throw error("unexpected \(describe(i)), expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        try enter(depth)
        i += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of input, expected ',' or ']'") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw error("unexpected \(describe(i)), expected ',' or ']'")
        }
    }

    func isDigit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= 0x30 && bytes[k] <= 0x39 }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`: an `.int` when
    /// it has neither fraction nor exponent and fits, else a finite `.double`.
    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw error("invalid number: expected a digit after '-'") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw error("invalid number: leading zero", at: start) }
        } else {
            while isDigit(i) { i += 1 }
        }
        var integral = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard isDigit(i) else { throw error("invalid number: expected a digit after '.'") }
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw error("invalid number: expected a digit in the exponent") }
            while isDigit(i) { i += 1 }
        }
        // The text is ASCII digits and signs only, so decoding cannot fail.
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if integral, let v = Int(text) { return .int(v) }
        guard let d = Double(text), d.isFinite else { throw error("number \(text.count > 40 ? String(text.prefix(40)) + "…" : text) does not fit a 64-bit float", at: start) }
        return .double(d)
    }

    /// A string: raw control characters, unknown escapes, unpaired
    /// surrogates and malformed UTF-8 are errors.
    mutating func parseString() throws(JSONParseError) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw error("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw error("raw control character \(describe(i)) in a string (it must be escaped)") }
            if b >= 0x80 {
                let n = try utf8Sequence()
                out.append(contentsOf: bytes[i..<(i + n)])
                i += n
                continue
            }
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
                    throw error("unpaired low surrogate \\u\(Self.hex(scalar, digits: 4))", at: escapeStart)
                }
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired high surrogate \\u\(Self.hex(scalar, digits: 4))", at: escapeStart)
                    }
                    let lowStart = i
                    i += 2
                    let low = try hex4(lowStart)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw error("unpaired high surrogate \\u\(Self.hex(scalar, digits: 4))", at: escapeStart)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape", at: escapeStart) }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("invalid escape: \(describe(i - 1)) after '\\'", at: escapeStart)
            }
        }
        // Every byte appended is ASCII, an escape's own UTF-8, or a checked sequence.
        return String(decoding: out, as: UTF8.self)
    }

    /// The length of the well-formed UTF-8 sequence at `i` (Unicode Table
    /// 3-7: no overlong forms, no surrogates, nothing past U+10FFFF).
    func utf8Sequence() throws(JSONParseError) -> Int {
        let b0 = bytes[i]
        let n: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: n = 2
        case 0xE0: n = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: n = 3
        case 0xED: n = 3; hi = 0x9F
        case 0xF0: n = 4; lo = 0x90
        case 0xF1...0xF3: n = 4
        case 0xF4: n = 4; hi = 0x8F
        default: throw error("invalid UTF-8 \(describe(i)) in a string")
        }
        for k in 1..<n {
            guard i + k < bytes.count else { throw error("truncated UTF-8 sequence in a string") }
            let c = bytes[i + k]
            let (low, high) = k == 1 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
            guard c >= low && c <= high else { throw error("invalid UTF-8 sequence in a string") }
        }
        return n
    }

    mutating func hex4(_ escapeStart: Int) throws(JSONParseError) -> UInt32 {
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
