import GencSupport

/// What usually causes libyaml's commonest complaints in model files, as
/// notes placed where the fix goes.
///
/// libyaml says what it expected ("mapping values are not allowed in this
/// context", "did not find expected key"); the cause is nearly always one of
/// two mistakes, an unquoted `: ` inside an expression or a mis-indented line.
/// These look at the line the error is on (never further than the line above)
/// to tell which, and point at the value to quote or the line to re-indent.
enum YAMLSyntaxHints {
    /// The notes for a syntax error `problem` at `at` (libyaml's problem
    /// mark); `context` is libyaml's context mark, when it gave one.
    static func notes(problem: String, at: SourceLocation, context: SourceLocation?, file: SourceFile) -> [Diagnostic.Note] {
        let line = Line(file: file, number: at.line)
        let col = at.column
        switch problem {
        case "mapping values are not allowed in this context":
            // A key earlier on this line: its plain value holds the ': '.
            if let v = line.valueStart(before: col) {
                return [Diagnostic.Note(SyntaxDiagnostics.quoteValueHint(line.quotedSuggestion(valueAt: v)), at: line.range(v))]
            }
            // A key this reader does not take apart (quoted, say): the generic advice.
            if line.hasKeySeparator(before: col) {
                return [Diagnostic.Note(SyntaxDiagnostics.quoteValueHint(nil), at: line.range(col))]
            }
            // No key before it: the line continues a plain value from above.
            return [Diagnostic.Note(SyntaxDiagnostics.continuationLineHint, at: line.range(line.indent + 1))]
        case "did not find expected ',' or '}'", "did not find expected ',' or ']'":
            let open = problem.hasSuffix("'}'") ? "{" : "["
            if line.isBlankOrComment(from: col), file.isBlankOrComment(afterLine: at.line) {
                return [Diagnostic.Note(SyntaxDiagnostics.unclosedFlowHint(open), at: context.map { file.range(at: $0) })]
            }
            let v = line.flowValueStart(before: col)
            return [Diagnostic.Note(SyntaxDiagnostics.flowValueHint, at: line.range(v ?? col))]
        case "did not find expected key", "did not find expected '-' indicator":
            if col == line.indent + 1, !line.isBlankOrComment(from: col) {
                let above = Line.previousContent(before: at.line, in: file)
                if line.isItem {
                    return [Diagnostic.Note(SyntaxDiagnostics.itemIndentationHint(itemAbove: above.flatMap { $0.isItem ? $0.indent + 1 : nil }),
                                            at: line.range(col))]
                }
                return [Diagnostic.Note(SyntaxDiagnostics.keyIndentationHint(keyAbove: above?.keyColumn), at: line.range(col))]
            }
            if let q = line.lastNonSpace(before: col), q == "\"" || q == "'" {
                return [Diagnostic.Note(SyntaxDiagnostics.textAfterQuoteHint, at: line.range(col))]
            }
            return []
        case "block sequence entries are not allowed in this context":
            return [Diagnostic.Note(SyntaxDiagnostics.inlineItemHint, at: line.range(col))]
        case "found character that cannot start any token":
            return [Diagnostic.Note(SyntaxDiagnostics.badTokenStartHint, at: line.range(col))]
        default:
            return []
        }
    }

    /// One line of the file, by 1-based columns.
    struct Line {
        let file: SourceFile
        let number: Int
        let chars: [Unicode.Scalar]

        init(file: SourceFile, number: Int) {
            self.file = file
            self.number = number
            self.chars = Array(file.lineText(number).unicodeScalars)
        }

        /// Leading spaces.
        var indent: Int { chars.prefix { $0 == " " }.count }

        /// Whether the first thing on the line is a `- ` list item.
        var isItem: Bool { char(indent + 1) == "-" && (char(indent + 2) == nil || char(indent + 2) == " ") }

        func char(_ column: Int) -> Unicode.Scalar? { column >= 1 && column <= chars.count ? chars[column - 1] : nil }

        func range(_ column: Int) -> SourceRange { file.range(at: SourceLocation(line: number, column: column)) }

        func isBlankOrComment(from column: Int) -> Bool {
            var c = max(column, 1)
            while let x = char(c), x == " " || x == "\r" { c += 1 }
            return char(c) == nil || char(c) == "#"
        }

        /// Whether a `: ` comes before `column`.
        func hasKeySeparator(before column: Int) -> Bool {
            (1..<max(column, 1)).contains { char($0) == ":" && char($0 + 1) == " " }
        }

        func lastNonSpace(before column: Int) -> Unicode.Scalar? {
            var c = column - 1
            while let x = char(c), x == " " { c -= 1 }
            return char(c)
        }

        /// The column just past `- ` item markers (`- - key: v`).
        var contentColumn: Int {
            var c = indent + 1
            while char(c) == "-", char(c + 1) == " " || char(c + 1) == nil {
                c += 2
                while char(c) == " " { c += 1 }
            }
            return c
        }

        /// The column of the line's key (`key:` after any item markers), if
        /// it starts with a plain key.
        var keyColumn: Int? {
            let c = contentColumn
            guard let first = char(c), first != "#", first != "\"", first != "'", first != "{", first != "[" else { return nil }
            var i = c
            while let x = char(i) {
                if x == ":", char(i + 1) == nil || char(i + 1) == " " { return c }
                if x == " " && char(i + 1) == "#" { return nil }
                i += 1
            }
            return nil
        }

        /// Where the plain value of this line's key starts, if a `key: `
        /// comes before `column` (block context).
        func valueStart(before column: Int) -> Int? {
            guard let k = keyColumn else { return nil }
            var i = k
            while i < column {
                if char(i) == ":", char(i + 1) == " " {
                    var v = i + 1
                    while char(v) == " " { v += 1 }
                    return v < column ? v : nil
                }
                i += 1
            }
            return nil
        }

        /// Where the flow value that runs into `column` starts: just past the
        /// nearest `{`, `[`, `,` or `: ` before it on this line.
        func flowValueStart(before column: Int) -> Int? {
            var i = column - 1
            while i >= 1 {
                if let x = char(i), x == "{" || x == "[" || x == "," || (x == ":" && char(i + 1) == " " && i + 1 < column) {
                    var v = i + 1
                    while char(v) == " " { v += 1 }
                    return v < column ? v : nil
                }
                i -= 1
            }
            return nil
        }

        /// `key: "value"` with the rest of the line as the value, when it
        /// can be shown quoted as is (short, no quotes or backslashes).
        func quotedSuggestion(valueAt v: Int) -> String? {
            guard let k = keyColumn else { return nil }
            var end = chars.count
            var i = v
            while i <= chars.count {
                if char(i) == "#", char(i - 1) == " " { end = i - 1; break }
                i += 1
            }
            var value = Array(chars[(v - 1)..<max(v - 1, end)])
            while let last = value.last, last == " " || last == "\r" { value.removeLast() }
            guard !value.isEmpty, value.count <= 60, !value.contains("\""), !value.contains("\\") else { return nil }
            var text = String.UnicodeScalarView()
            text.append(contentsOf: chars[(k - 1)..<(v - 1)])
            text.append("\"")
            text.append(contentsOf: value)
            text.append("\"")
            return String(text)
        }

        /// The nearest line above `line` that holds something (not blank, not
        /// only a comment).
        static func previousContent(before line: Int, in file: SourceFile) -> Line? {
            var n = line - 1
            while n >= 1 {
                let l = Line(file: file, number: n)
                if !l.isBlankOrComment(from: 1) { return l }
                n -= 1
            }
            return nil
        }
    }
}

extension SourceFile {
    /// Whether every line after `line` is blank or a comment.
    func isBlankOrComment(afterLine line: Int) -> Bool {
        guard line < lineStarts.count else { return true }
        for n in (line + 1)...lineStarts.count where !YAMLSyntaxHints.Line(file: self, number: n).isBlankOrComment(from: 1) {
            return false
        }
        return true
    }
}
