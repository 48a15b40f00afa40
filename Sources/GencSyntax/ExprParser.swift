import GencSupport

/// A hand-written recursive-descent parser for expressions (LANGUAGE.md §5,
/// grammar/expressions.ebnf), with positions mapped back into the YAML file.
///
/// Precedence, lowest first: `+ -`, `* /`, unary `-`, `**` (right
/// associative, so `-x**2` is `-(x**2)`), postfix call / field / subscript.
/// Depth is bounded (`maxDepth`) both for recursion (parentheses, unary
/// chains) and for the tree built by loops (a long `a + b + ...` chain), so no
/// input overflows the stack here or in any later walk over the tree.
public struct ExprParser {
    public static let maxDepth = 256
    public static let maxLength = 100_000

    private let tokens: [ExprToken]
    private let map: ScalarSourceMap
    private var pos = 0
    private var recursion = 0

    /// Parses the whole of a YAML scalar as one expression.
    public static func parse(_ scalar: YAMLScalar, in file: SourceFile) -> Result<Expr, Diagnostic> {
        let map = ScalarSourceMap(scalar: scalar, file: file)
        let chars = Array(scalar.value.unicodeScalars)
        if chars.count > maxLength {
            return .failure(SyntaxDiagnostics.tooLong(limit: maxLength, map.range(0, 1)))
        }
        switch ExprLexer(chars: chars).tokenize() {
        case let .failure(bad):
            return .failure(SyntaxDiagnostics.unexpectedCharacter(chars[bad.offset], map.range(bad.offset, bad.offset + 1)))
        case let .success(tokens):
            var p = ExprParser(tokens: tokens, map: map)
            return p.parseAll()
        }
    }

    private init(tokens: [ExprToken], map: ScalarSourceMap) {
        self.tokens = tokens
        self.map = map
    }

    struct Failure: Error { var diagnostic: Diagnostic }

    private mutating func parseAll() -> Result<Expr, Diagnostic> {
        do {
            if case .end = tokens[0].kind { throw Failure(diagnostic: SyntaxDiagnostics.emptyExpression(range(tokens[0]))) }
            let e = try parseExpression()
            guard case .end = current.kind else {
                throw Failure(diagnostic: SyntaxDiagnostics.expected("an operator or the end of the expression", got: current.described, range(current)))
            }
            return .success(e)
        } catch let f as Failure {
            return .failure(f.diagnostic)
        } catch {
            return .failure(SyntaxDiagnostics.emptyExpression(range(tokens[0])))
        }
    }

    // MARK: - Tokens

    private var current: ExprToken { tokens[pos] }

    private func range(_ t: ExprToken) -> SourceRange { map.range(t.lo, max(t.hi, t.lo + 1)) }

    private func isPunct(_ p: String) -> Bool {
        if case let .punct(q) = current.kind { return q == p }
        return false
    }

    private mutating func expect(_ p: String, closing open: ExprToken? = nil) throws {
        guard isPunct(p) else {
            if let open {
                throw Failure(diagnostic: SyntaxDiagnostics.unclosed(open.text, range(current), opened: range(open)))
            }
            throw Failure(diagnostic: SyntaxDiagnostics.expected("'\(p)'", got: current.described, range(current)))
        }
        pos += 1
    }

    private func node(_ kind: ExprKind, from a: SourceRange, to b: SourceRange, children: [Expr]) throws -> Expr {
        let depth = 1 + (children.map(\.depth).max() ?? 0)
        if depth > Self.maxDepth {
            throw Failure(diagnostic: SyntaxDiagnostics.tooDeep(limit: Self.maxDepth, b))
        }
        return Expr(kind, a.union(b), depth: depth)
    }

    /// Counts one level of syntactic nesting (a parenthesis, bracket, call or
    /// unary operator); the error points at the token that opens the level
    /// past the limit.
    private mutating func enter() throws {
        recursion += 1
        if recursion > Self.maxDepth {
            throw Failure(diagnostic: SyntaxDiagnostics.tooDeep(limit: Self.maxDepth, range(current)))
        }
    }

    // MARK: - Grammar

    private mutating func parseExpression() throws -> Expr {
        var lhs = try parseTerm()
        while isPunct("+") || isPunct("-") {
            let op: BinaryOperator = isPunct("+") ? .add : .subtract
            pos += 1
            let rhs = try parseTerm()
            lhs = try node(.binary(op, lhs, rhs), from: lhs.range, to: rhs.range, children: [lhs, rhs])
        }
        return lhs
    }

    private mutating func parseTerm() throws -> Expr {
        var lhs = try parseUnary()
        while isPunct("*") || isPunct("/") {
            let op: BinaryOperator = isPunct("*") ? .multiply : .divide
            pos += 1
            let rhs = try parseUnary()
            lhs = try node(.binary(op, lhs, rhs), from: lhs.range, to: rhs.range, children: [lhs, rhs])
        }
        return lhs
    }

    private mutating func parseUnary() throws -> Expr {
        if isPunct("-") || isPunct("+") {
            let t = current
            try enter()
            defer { recursion -= 1 }
            pos += 1
            let operand = try parseUnary()
            return try node(.unary(t.text == "-" ? .negate : .plus, operand), from: range(t), to: operand.range, children: [operand])
        }
        return try parsePower()
    }

    private mutating func parsePower() throws -> Expr {
        let base = try parsePostfix()
        guard isPunct("**") else { return base }
        // The exponent recurses (right associative): a level of nesting,
        // counted now, so a long `** 1 ** 1 ...` chain cannot overflow the stack.
        try enter()
        defer { recursion -= 1 }
        pos += 1
        let exponent = try parseUnary()
        return try node(.binary(.power, base, exponent), from: base.range, to: exponent.range, children: [base, exponent])
    }

    private mutating func parsePostfix() throws -> Expr {
        let primaryToken = current
        let primaryIndex = pos
        var e = try parsePrimary()
        while true {
            if isPunct("(") {
                guard case let .name(n) = e.kind, case .identifier = primaryToken.kind, pos == primaryIndex + 1 else {
                    throw Failure(diagnostic: SyntaxDiagnostics.expected("an operator (only a function or network name can be called)", got: "'('", range(current)))
                }
                e = try parseCall(Identifier(n, e.range))
            } else if isPunct(".") {
                pos += 1
                guard case let .identifier(f) = current.kind else {
                    throw Failure(diagnostic: SyntaxDiagnostics.expected("a field name after '.'", got: current.described, range(current)))
                }
                let field = Identifier(f, range(current))
                pos += 1
                e = try node(.field(e, field), from: e.range, to: field.range, children: [e])
            } else if isPunct("[") {
                let open = current
                try enter()
                defer { recursion -= 1 }
                pos += 1
                var subs: [Subscript] = []
                repeat {
                    if isPunct(",") { pos += 1 }
                    subs.append(try parseSubscript())
                } while isPunct(",")
                let close = current
                try expect("]", closing: open)
                let kids = [e] + subs.flatMap { s -> [Expr] in
                    if case let .index(i) = s { return [i] }
                    if case let .slice(a, b, c) = s { return [a, b, c].compactMap { $0 } }
                    return []
                }
                e = try node(.subscripted(e, subs), from: e.range, to: range(close), children: kids)
            } else {
                return e
            }
        }
    }

    private mutating func parseSubscript() throws -> Subscript {
        func atBoundary(_ p: ExprParser) -> Bool { p.isPunct(":") || p.isPunct(",") || p.isPunct("]") }
        var start: Expr?
        if !atBoundary(self) { start = try parseExpression() }
        guard isPunct(":") else {
            guard let start else {
                throw Failure(diagnostic: SyntaxDiagnostics.expected("an index or a slice", got: current.described, range(current)))
            }
            return .index(start)
        }
        pos += 1
        var stop: Expr?, step: Expr?
        if !atBoundary(self) { stop = try parseExpression() }
        if isPunct(":") {
            pos += 1
            if !atBoundary(self) { step = try parseExpression() }
        }
        return .slice(start: start, stop: stop, step: step)
    }

    private mutating func parseCall(_ callee: Identifier) throws -> Expr {
        let open = current
        try enter()
        defer { recursion -= 1 }
        pos += 1
        var args: [Expr] = []
        var keywords: [KeywordArgument] = []
        if !isPunct(")") {
            repeat {
                if isPunct(",") { pos += 1 }
                if isPunct(")") { break }  // trailing comma
                if case let .identifier(k) = current.kind, pos + 1 < tokens.count,
                   case .punct(":") = tokens[pos + 1].kind {
                    let name = Identifier(k, range(current))
                    pos += 2
                    let v = try parseExpression()
                    if let first = keywords.first(where: { $0.name.name == k }) {
                        throw Failure(diagnostic: SyntaxDiagnostics.duplicateKeyword(k, name.range, first: first.name.range))
                    }
                    keywords.append(KeywordArgument(name: name, value: v))
                } else {
                    let a = try parseExpression()
                    if !keywords.isEmpty {
                        throw Failure(diagnostic: SyntaxDiagnostics.positionalAfterKeyword(a.range))
                    }
                    args.append(a)
                }
            } while isPunct(",")
        }
        let close = current
        try expect(")", closing: open)
        return try node(.call(callee: callee, arguments: args, keywords: keywords), from: callee.range, to: range(close),
                        children: args + keywords.map(\.value))
    }

    private mutating func parsePrimary() throws -> Expr {
        let t = current
        switch t.kind {
        case let .number(text):
            pos += 1
            let isInt = !text.contains(".") && !text.contains("e") && !text.contains("E")
            if isInt {
                guard let v = Int(text) else { throw Failure(diagnostic: SyntaxDiagnostics.integerOverflow(text, range(t))) }
                return Expr(.integer(v), range(t))
            }
            guard let v = Double(text) else { throw Failure(diagnostic: SyntaxDiagnostics.badNumber(text, range(t))) }
            guard v.isFinite else { throw Failure(diagnostic: SyntaxDiagnostics.notFinite(text, range(t))) }
            return Expr(.real(v), range(t))
        case let .identifier(name):
            pos += 1
            if name == "true" || name == "false" { return Expr(.bool(name == "true"), range(t)) }
            return Expr(.name(name), range(t), depth: 1)
        case .punct("("):
            try enter()
            defer { recursion -= 1 }
            pos += 1
            let inner = try parseExpression()
            try expect(")", closing: t)
            var e = inner
            e.range = range(t).union(range(tokens[pos - 1]))
            return e
        case .punct("["):
            try enter()
            defer { recursion -= 1 }
            pos += 1
            var xs: [Expr] = []
            if !isPunct("]") {
                repeat {
                    if isPunct(",") { pos += 1 }
                    if isPunct("]") { break }
                    xs.append(try parseExpression())
                } while isPunct(",")
            }
            let close = current
            try expect("]", closing: t)
            return try node(.list(xs), from: range(t), to: range(close), children: xs)
        default:
            throw Failure(diagnostic: SyntaxDiagnostics.expected("an expression", got: t.described, range(t)))
        }
    }
}
