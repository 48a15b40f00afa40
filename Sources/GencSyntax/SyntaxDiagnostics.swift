import GencSupport

/// The catalog of messages for YAML reading and expression parsing.
public enum SyntaxDiagnostics {
    static func emptyFile(_ file: SourceFile) -> Diagnostic {
        Diagnostic(id: "empty-file", message: "the model file is empty; it must be a YAML mapping with at least 'genc', 'name', 'inputs' and 'networks'",
                   at: file.range(at: SourceLocation(line: 1, column: 1)))
    }
    static func internalLibyaml(_ file: SourceFile) -> Diagnostic {
        Diagnostic(id: "yaml-init", message: "libyaml could not start a parser (out of memory?)", at: nil, path: file.path)
    }
    static func secondDocument(_ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "multiple-documents", message: "a second YAML document starts here; a model file holds exactly one", at: r)
    }
    static func undefinedAlias(_ name: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "undefined-alias", message: "alias '*\(name)' refers to no anchor defined before it", at: r)
    }
    static func controlCharacter(_ c: Unicode.Scalar, _ r: SourceRange) -> Diagnostic {
        let names: [UInt32: String] = [0: "NUL", 0x07: "BEL", 0x08: "backspace", 0x0B: "vertical tab", 0x0C: "form feed", 0x1B: "ESC", 0x7F: "DEL"]
        let hex = String(c.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        let name = names[c.value].map { " (\($0))" } ?? ""
        return Diagnostic(id: "control-character",
                          message: "the control character \(code)\(name) is not allowed in a YAML file; remove it (a binary file or a bad copy-paste?)", at: r)
    }
    static func yamlSyntax(_ problem: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "yaml-syntax", message: "YAML syntax error: \(problem)", at: r)
    }
    static func tabIndentation(_ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "yaml-syntax", message: "YAML syntax error: a tab character here; YAML indents with spaces only", at: r)
    }
    static func aliasTooDeep(_ name: String, limit: Int, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "too-deep", message: "alias '*\(name)' nests collections more than \(limit) levels deep here; a model file never needs this", at: r)
    }

    // MARK: - What usually causes a YAML syntax error (notes)

    static func quoteValueHint(_ suggestion: String?) -> String {
        let how = suggestion.map { "quote it: \($0)" } ?? "quote the whole value (\"...\") or write it as a block scalar (>-)"
        return "this plain value contains ': ', which YAML reads as the start of a mapping; if it is an expression or text, \(how)"
    }
    static let continuationLineHint =
        "this line continues the plain value of the line above, where ': ' cannot start a key: check its indentation, or whether the key above lacks its ':'"
    static let flowValueHint =
        "inside { } and [ ], a plain value ends at ',' and cannot contain ': ': quote the value if it is an expression (\"mean(x): ...\"), or add the missing ','"
    static func unclosedFlowHint(_ open: String) -> String {
        "this '\(open)' is never closed: add the '\(open == "{" ? "}" : "]")', or quote a value that holds one of , : [ ] { }"
    }
    static func itemIndentationHint(itemAbove column: Int?) -> String {
        "check the indentation of this item: list items of one list start at the same column"
            + (column.map { " (the item on the line above is at column \($0))" } ?? "")
    }
    static func keyIndentationHint(keyAbove column: Int?) -> String {
        "check the indentation of this key: the keys of one mapping start at the same column"
            + (column.map { " (the key on the line above is at column \($0))" } ?? "")
    }
    static let textAfterQuoteHint = "a quoted value ends at its closing quote; quote all of the value, or remove what follows it"
    static let inlineItemHint = "a '- ' list item cannot follow a key on the same line: start it on the next line, indented, or write a flow list [a, b]"
    static let badTokenStartHint = "'@' and '`' cannot start a plain value, and tabs cannot indent; quote the value or use spaces"

    static func tooManyNodes(_ limit: Int, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "too-many-nodes", message: "the document expands to more than \(limit) YAML nodes (an alias bomb?); refusing to read further", at: r)
    }
    static func tooDeep(_ limit: Int, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "too-deep", message: "collections nested more than \(limit) levels deep; a model file never needs this", at: r)
    }
    static func tag(_ tag: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "yaml-tag", message: "YAML tags ('\(tag)') are not part of the genc language; remove the tag", at: r)
    }
    static func complexKey(_ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "complex-key", message: "a mapping key must be a plain name, not a list or mapping", at: r)
    }
    static func nullKey(_ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "null-key", message: "a mapping key must be a name, not null", at: r)
    }
    static func duplicateKey(_ key: String, _ r: SourceRange, first: SourceRange) -> Diagnostic {
        Diagnostic(id: "duplicate-key", message: "duplicate key '\(key)'", at: r)
            .note("'\(key)' first appears here", at: first)
    }

    // MARK: - Expressions

    static func unexpectedCharacter(_ c: Unicode.Scalar, _ r: SourceRange) -> Diagnostic {
        let shown = c.value < 0x20 || c.value == 0x7F ? "U+\(String(c.value, radix: 16, uppercase: true))" : "'\(c)'"
        return Diagnostic(id: "expr-character", message: "unexpected character \(shown) in expression", at: r)
    }
    static func expected(_ what: String, got: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-syntax", message: "expected \(what), got \(got)", at: r)
    }
    static func unclosed(_ open: String, _ r: SourceRange, opened: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-unclosed", message: "expected '\(open == "(" ? ")" : "]")' to close this '\(open)'", at: r)
            .note("'\(open)' opened here", at: opened)
    }
    static func emptyExpression(_ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-empty", message: "expected an expression, got nothing", at: r)
    }
    static func tooDeep(limit: Int, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-too-deep", message: "expression nests more than \(limit) levels deep; split it into graph nodes", at: r)
    }
    static func tooLong(limit: Int, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-too-long", message: "expression longer than \(limit) characters; split it into graph nodes", at: r)
    }
    static func badNumber(_ text: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-number", message: "'\(text)' is not a number genc can represent", at: r)
    }
    static func integerOverflow(_ text: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-number", message: "the integer \(text) does not fit in 64 bits", at: r)
    }
    static func notFinite(_ text: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-number", message: "\(text) is not a finite number (it overflows a 64-bit float)", at: r)
    }
    static func duplicateKeyword(_ name: String, _ r: SourceRange, first: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-duplicate-keyword", message: "keyword argument '\(name)' given twice", at: r)
            .note("first given here", at: first)
    }
    static func positionalAfterKeyword(_ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "expr-positional-after-keyword", message: "positional argument after a keyword argument", at: r)
    }
}
