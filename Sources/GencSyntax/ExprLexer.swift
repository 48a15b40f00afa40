import GencSupport

/// A token of an expression, with its span in the scalar's value.
struct ExprToken {
    enum Kind: Equatable {
        case number(String)
        case identifier(String)
        case punct(String)
        case end
    }
    var kind: Kind
    /// Offsets into the value's Unicode scalars.
    var lo: Int
    var hi: Int

    var text: String {
        switch kind {
        case let .number(s), let .identifier(s), let .punct(s): return s
        case .end: return "end of expression"
        }
    }
    var described: String {
        switch kind {
        case let .number(s): return "the number \(s)"
        case let .identifier(s): return "'\(s)'"
        case let .punct(s): return "'\(s)'"
        case .end: return "the end of the expression"
        }
    }
}

/// The offset of a character that starts no token.
struct BadCharacter: Error { var offset: Int }

/// Splits an expression into tokens. Whitespace (including line breaks from
/// block scalars) separates tokens and is otherwise ignored.
struct ExprLexer {
    let chars: [Unicode.Scalar]

    /// All tokens, ending with `.end`; or the offset of a character that
    /// starts no token.
    func tokenize() -> Result<[ExprToken], BadCharacter> {
        var tokens: [ExprToken] = []
        var i = 0
        let n = chars.count
        func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
        func isIdentStart(_ c: Unicode.Scalar) -> Bool { (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" }
        while i < n {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            let start = i
            if isDigit(c) || (c == "." && i + 1 < n && isDigit(chars[i + 1])) {
                while i < n, isDigit(chars[i]) { i += 1 }
                if i < n, chars[i] == ".", !(i + 1 < n && isIdentStart(chars[i + 1])) {
                    i += 1
                    while i < n, isDigit(chars[i]) { i += 1 }
                }
                if i < n, chars[i] == "e" || chars[i] == "E" {
                    var k = i + 1
                    if k < n, chars[k] == "+" || chars[k] == "-" { k += 1 }
                    if k < n, isDigit(chars[k]) {
                        i = k
                        while i < n, isDigit(chars[i]) { i += 1 }
                    }
                }
                tokens.append(ExprToken(kind: .number(string(start, i)), lo: start, hi: i))
            } else if isIdentStart(c) {
                while i < n, isIdentStart(chars[i]) || isDigit(chars[i]) { i += 1 }
                tokens.append(ExprToken(kind: .identifier(string(start, i)), lo: start, hi: i))
            } else if c == "*", i + 1 < n, chars[i + 1] == "*" {
                i += 2
                tokens.append(ExprToken(kind: .punct("**"), lo: start, hi: i))
            } else if "+-*/()[],:.".unicodeScalars.contains(c) {
                i += 1
                tokens.append(ExprToken(kind: .punct(String(c)), lo: start, hi: i))
            } else {
                return .failure(BadCharacter(offset: i))
            }
        }
        tokens.append(ExprToken(kind: .end, lo: n, hi: n))
        return .success(tokens)
    }

    private func string(_ a: Int, _ b: Int) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: chars[a..<b])
        return String(v)
    }
}
