import GencSupport

/// An expression of the model language (LANGUAGE.md §5) with the file range
/// of every node.
public indirect enum ExprKind: Sendable {
    /// An integer literal (written without `.` or exponent), exact in 64 bits.
    case integer(Int)
    /// A real literal.
    case real(Double)
    case bool(Bool)
    /// A name: an input, a dim, a graph node, an `in:` argument.
    case name(String)
    case unary(UnaryOperator, Expr)
    case binary(BinaryOperator, Expr, Expr)
    /// `f(a, b, key: v)`; the callee is a name (a built-in or a network).
    case call(callee: Identifier, arguments: [Expr], keywords: [KeywordArgument])
    /// `r.mu`
    case field(Expr, Identifier)
    /// `t[0]`, `t[:, 1:]`
    case subscripted(Expr, [Subscript])
    /// `[1, 2]` (axis lists).
    case list([Expr])
}

public struct Expr: Sendable {
    public var kind: ExprKind
    public var range: SourceRange
    /// Nesting depth of this tree (a leaf is 1); bounded by the parser.
    public var depth: Int

    public init(_ kind: ExprKind, _ range: SourceRange, depth: Int = 1) {
        self.kind = kind
        self.range = range
        self.depth = depth
    }

    /// The integer value when the expression is an integer literal (possibly negated).
    public var integerLiteral: Int? {
        switch kind {
        case let .integer(v): return v
        case let .unary(.negate, e): return e.integerLiteral.map { -$0 }
        default: return nil
        }
    }

    /// Every name the expression reads (callees are not names), with its
    /// range. Iterative, so any depth is safe.
    public var nameReferences: [Identifier] {
        var out: [Identifier] = []
        var stack = [self]
        while let x = stack.popLast() {
            if case let .name(n) = x.kind { out.append(Identifier(n, x.range)) }
            stack.append(contentsOf: x.children.reversed())
        }
        return out
    }

    /// The names the expression reads.
    public var names: [String] { nameReferences.map(\.name) }

    /// The children, in source order.
    public var children: [Expr] {
        switch kind {
        case .integer, .real, .bool, .name: return []
        case let .unary(_, e): return [e]
        case let .binary(_, a, b): return [a, b]
        case let .call(_, args, kws): return args + kws.map(\.value)
        case let .field(e, _): return [e]
        case let .subscripted(e, subs):
            return [e] + subs.flatMap { s -> [Expr] in
                switch s {
                case let .index(i): return [i]
                case let .slice(a, b, c): return [a, b, c].compactMap { $0 }
                }
            }
        case let .list(xs): return xs
        }
    }
}

public struct Identifier: Sendable {
    public var name: String
    public var range: SourceRange
    public init(_ name: String, _ range: SourceRange) {
        self.name = name
        self.range = range
    }
}

public struct KeywordArgument: Sendable {
    public var name: Identifier
    public var value: Expr
}

public enum Subscript: Sendable {
    case index(Expr)
    case slice(start: Expr?, stop: Expr?, step: Expr?)
}

public enum UnaryOperator: String, Sendable {
    case negate = "-"
    case plus = "+"
}

public enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", power = "**"
}

extension Expr: CustomStringConvertible {
    /// Canonical text, fully parenthesised where precedence would otherwise hide structure.
    public var description: String {
        switch kind {
        case let .integer(v): return String(v)
        case let .real(v): return "\(v)"
        case let .bool(b): return b ? "true" : "false"
        case let .name(n): return n
        case let .unary(op, e): return "\(op.rawValue)\(e.parenthesized)"
        case let .binary(op, a, b): return "\(a.parenthesized) \(op.rawValue) \(b.parenthesized)"
        case let .call(f, args, kws):
            let parts = args.map(\.description) + kws.map { "\($0.name.name): \($0.value)" }
            return "\(f.name)(\(parts.joined(separator: ", ")))"
        case let .field(e, f): return "\(e.parenthesized).\(f.name)"
        case let .subscripted(e, subs):
            let parts = subs.map { s -> String in
                switch s {
                case let .index(i): return i.description
                case let .slice(a, b, c):
                    var t = (a?.description ?? "") + ":" + (b?.description ?? "")
                    if let c { t += ":" + c.description }
                    return t
                }
            }
            return "\(e.parenthesized)[\(parts.joined(separator: ", "))]"
        case let .list(xs): return "[" + xs.map(\.description).joined(separator: ", ") + "]"
        }
    }

    private var parenthesized: String {
        switch kind {
        case .binary, .unary: return "(\(description))"
        default: return description
        }
    }
}
