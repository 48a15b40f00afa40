import GencSupport

/// A YAML node with the source range it was read from.
///
/// genc's own tree (not a generic YAML library's): mappings keep their key
/// order and every key and value its range, so each stage can point at the
/// exact place a problem comes from.
public struct YAMLNode: Sendable {
    public enum Kind: Sendable {
        case scalar(YAMLScalar)
        case mapping([YAMLPair])
        case sequence([YAMLNode])
    }

    public var kind: Kind
    /// From the node's first character to just past its last.
    public var range: SourceRange
    /// Whether the collection was written in flow style (`[a, b]`, `{k: v}`).
    public var isFlow: Bool

    public init(kind: Kind, range: SourceRange, isFlow: Bool = false) {
        self.kind = kind
        self.range = range
        self.isFlow = isFlow
    }

    public var scalar: YAMLScalar? {
        if case let .scalar(s) = kind { return s }
        return nil
    }
    public var pairs: [YAMLPair]? {
        if case let .mapping(p) = kind { return p }
        return nil
    }
    public var items: [YAMLNode]? {
        if case let .sequence(i) = kind { return i }
        return nil
    }

    /// The value for a key of a mapping.
    public subscript(key: String) -> YAMLNode? {
        pairs?.first { $0.key.value == key }?.value
    }

    /// What the node is, in words, for "expected X, got Y" messages.
    public var kindDescription: String {
        switch kind {
        case let .scalar(s): return s.kindDescription
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// The number of nodes in this subtree (itself included).
    public var nodeCount: Int {
        switch kind {
        case .scalar: return 1
        case let .mapping(ps): return 1 + ps.reduce(0) { $0 + 1 + $1.value.nodeCount }
        case let .sequence(xs): return 1 + xs.reduce(0) { $0 + $1.nodeCount }
        }
    }
}

/// A key and its value. Keys are always scalars in genc files.
public struct YAMLPair: Sendable {
    public var key: YAMLScalarNode
    public var value: YAMLNode
    public init(key: YAMLScalarNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A scalar key with its range.
public struct YAMLScalarNode: Sendable {
    public var scalar: YAMLScalar
    public var range: SourceRange
    public var value: String { scalar.value }
    public init(scalar: YAMLScalar, range: SourceRange) {
        self.scalar = scalar
        self.range = range
    }
}

/// A scalar's text, how it was written, and the map from its characters back
/// into the file (for expressions inside it).
public struct YAMLScalar: Sendable {
    public enum Style: Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public var value: String
    public var style: Style
    /// Where the scalar's source text starts and ends (scalar indices into
    /// the file), as libyaml marked them.
    public var sourceStart: Int
    public var sourceEnd: Int

    public init(value: String, style: Style, sourceStart: Int, sourceEnd: Int) {
        self.value = value
        self.style = style
        self.sourceStart = sourceStart
        self.sourceEnd = sourceEnd
    }

    /// Plain `null`, `~` or empty.
    public var isNull: Bool {
        style == .plain && (value.isEmpty || value == "~" || value == "null" || value == "Null" || value == "NULL")
    }

    /// YAML 1.2 core-schema booleans (plain only).
    public var bool: Bool? {
        guard style == .plain else { return nil }
        switch value {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// Whether the scalar is a plain number (so `"64"` stays a string).
    public var isNumeric: Bool { style == .plain && NumberSyntax.parse(value) != nil }

    public var kindDescription: String {
        if style != .plain { return "the string \"\(value.prefix(40))\"" }
        if isNull { return "null" }
        if bool != nil { return "the boolean \(value)" }
        if let n = NumberSyntax.parse(value) { return n.isInteger ? "the integer \(value)" : "the number \(value)" }
        return "'\(value.prefix(40))'"
    }
}

/// YAML 1.2 core-schema numbers, with exact overflow detection for integers.
public enum NumberSyntax {
    public enum Number: Equatable, Sendable {
        case integer(Int)
        /// An integer literal too large for 64 bits.
        case overflow
        case float(Double)

        public var isInteger: Bool {
            switch self {
            case .integer, .overflow: return true
            case .float: return false
            }
        }
    }

    /// Parses `[-+]?[0-9]+`, `0x..`, `0o..`, and decimals with exponents,
    /// `.inf`, `.nan`. Returns nil for anything else.
    public static func parse(_ text: String) -> Number? {
        var s = Substring(text)
        guard !s.isEmpty, s.count <= 400 else { return nil }
        var negative = false
        if s.first == "-" || s.first == "+" { negative = s.first == "-"; s = s.dropFirst() }
        if s == ".inf" || s == ".Inf" || s == ".INF" { return .float(negative ? -.infinity : .infinity) }
        if s == ".nan" || s == ".NaN" || s == ".NAN", text.first != "-", text.first != "+" { return .float(.nan) }
        guard !s.isEmpty else { return nil }
        if s.hasPrefix("0x") || s.hasPrefix("0o") {
            let radix = s.hasPrefix("0x") ? 16 : 8
            let digits = s.dropFirst(2)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit && Int(String($0), radix: radix) != nil }) else { return nil }
            guard let v = Int(digits, radix: radix) else { return .overflow }
            return .integer(negative ? -v : v)
        }
        if s.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let v = Int(s) else { return .overflow }
            return .integer(negative ? -v : v)
        }
        // Decimal float: digits, optional fraction, optional exponent.
        var sawDigit = false, sawDot = false, sawExp = false
        var prev: Character = " "
        for c in s {
            if c.isASCII && c.isNumber { sawDigit = true } else if c == "." && !sawDot && !sawExp { sawDot = true }
            else if (c == "e" || c == "E") && sawDigit && !sawExp { sawExp = true; sawDigit = false }
            else if (c == "-" || c == "+") && (prev == "e" || prev == "E") {}
            else { return nil }
            prev = c
        }
        guard sawDigit, let v = Double(text) else { return nil }
        return .float(v)
    }
}
