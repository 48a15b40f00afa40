import GencSupport

/// A small strict JSON parser into `JSONValue` (tests read the schema and
/// genc's `--json` output with it; Foundation's parser blurs booleans and
/// numbers on Linux).
public struct JSONParser {
    private let s: [UInt8]
    private var i = 0

    public static func parse(_ text: String) throws -> JSONValue {
        var p = JSONParser(s: Array(text.utf8))
        p.skipSpace()
        let v = try p.value()
        p.skipSpace()
        guard p.i == p.s.count else { throw Failure(offset: p.i, why: "trailing characters") }
        return v
    }

    public struct Failure: Error, CustomStringConvertible {
        public var offset: Int
        public var why: String
        public var description: String { "JSON error at byte \(offset): \(why)" }
    }

    private init(s: [UInt8]) { self.s = s }

    private mutating func skipSpace() {
        while i < s.count, s[i] == 0x20 || s[i] == 0x0A || s[i] == 0x0D || s[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws {
        guard i < s.count, s[i] == c else { throw Failure(offset: i, why: "expected '\(Character(Unicode.Scalar(c)))'") }
        i += 1
    }

    private mutating func value() throws -> JSONValue {
        guard i < s.count else { throw Failure(offset: i, why: "unexpected end") }
        switch s[i] {
        case UInt8(ascii: "{"):
            i += 1
            var pairs: [(String, JSONValue)] = []
            skipSpace()
            if i < s.count, s[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
            while true {
                skipSpace()
                guard case let .string(k) = try value() else { throw Failure(offset: i, why: "object key must be a string") }
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                pairs.append((k, try value()))
                skipSpace()
                if i < s.count, s[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .object(pairs)
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < s.count, s[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value())
                skipSpace()
                if i < s.count, s[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "]"))
                return .array(items)
            }
        case UInt8(ascii: "\""):
            i += 1
            var bytes: [UInt8] = []
            while i < s.count, s[i] != UInt8(ascii: "\"") {
                if s[i] == UInt8(ascii: "\\"), i + 1 < s.count {
                    i += 1
                    switch s[i] {
                    case UInt8(ascii: "n"): bytes.append(0x0A)
                    case UInt8(ascii: "t"): bytes.append(0x09)
                    case UInt8(ascii: "r"): bytes.append(0x0D)
                    case UInt8(ascii: "b"): bytes.append(0x08)
                    case UInt8(ascii: "f"): bytes.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard i + 4 < s.count, let v = UInt32(String(decoding: s[(i + 1)...(i + 4)], as: UTF8.self), radix: 16) else {
                            throw Failure(offset: i, why: "bad \\u escape")
                        }
                        bytes.append(contentsOf: Array(String(Unicode.Scalar(v).map(Character.init) ?? "?").utf8))
                        i += 4
                    default: bytes.append(s[i])
                    }
                    i += 1
                } else {
                    bytes.append(s[i])
                    i += 1
                }
            }
            try expect(UInt8(ascii: "\""))
            return .string(String(decoding: bytes, as: UTF8.self))
        case UInt8(ascii: "t"):
            guard s.count >= i + 4, String(decoding: s[i..<i + 4], as: UTF8.self) == "true" else { throw Failure(offset: i, why: "bad literal") }
            i += 4
            return .bool(true)
        case UInt8(ascii: "f"):
            guard s.count >= i + 5, String(decoding: s[i..<i + 5], as: UTF8.self) == "false" else { throw Failure(offset: i, why: "bad literal") }
            i += 5
            return .bool(false)
        case UInt8(ascii: "n"):
            guard s.count >= i + 4, String(decoding: s[i..<i + 4], as: UTF8.self) == "null" else { throw Failure(offset: i, why: "bad literal") }
            i += 4
            return .null
        default:
            let start = i
            while i < s.count, "+-0123456789.eE".utf8.contains(s[i]) { i += 1 }
            let text = String(decoding: s[start..<i], as: UTF8.self)
            if let v = Int(text) { return .int(v) }
            if let d = Double(text) { return .double(d) }
            throw Failure(offset: start, why: "unexpected character")
        }
    }
}
