/// Renders diagnostics the way compilers do, for people and for editors:
///
///     models/dcgan.yaml:23:9: error: MESSAGE
///        23 |       - conv: {filters: 128, kernel: 4}
///           |         ^~~~
///     models/dcgan.yaml:21:9: note: NOTE
public struct DiagnosticRenderer {
    public init() {}

    public func render(_ d: Diagnostic) -> String {
        var out = header(d.range, path: d.path, severity: d.severity, message: d.message)
        if let r = d.range { out += excerpt(r) }
        for n in d.notes {
            out += header(n.range, path: n.range?.file.path ?? d.path, severity: .note, message: n.message)
        }
        return out
    }

    public func render(_ ds: [Diagnostic]) -> String { ds.map(render).joined() }

    private func header(_ r: SourceRange?, path: String?, severity: Severity, message: String) -> String {
        let place: String
        if let r { place = "\(r.file.path):\(r.start.line):\(r.start.column)" } else { place = path ?? "genc" }
        return "\(place): \(severity.rawValue): \(message)\n"
    }

    /// The most columns of a source line shown; a longer line is cut to a
    /// window around the caret, with `…` where it was cut.
    static let maxShownColumns = 160

    /// A tab as a space (one column, so carets line up), and control
    /// characters as their visible pictures (U+2400 ␀ …), so an excerpt never
    /// writes a NUL or an escape sequence to the terminal.
    static func visible(_ c: Unicode.Scalar) -> Unicode.Scalar {
        switch c.value {
        case 0x09: return " "
        case 0x00..<0x20: return Unicode.Scalar(0x2400 + c.value) ?? "?"
        case 0x7F: return "\u{2421}"
        case 0x80..<0xA0: return "\u{FFFD}"
        default: return c
        }
    }

    /// The source line with a gutter, and a caret under the range
    /// (`~` continues it to the range's end when that is on the same line).
    private func excerpt(_ r: SourceRange) -> String {
        let line = Array(r.file.lineText(r.start.line).unicodeScalars).map(Self.visible)
        let number = String(r.start.line)
        let pad = String(repeating: " ", count: max(4, number.count + 1) - number.count)
        let gutter = String(repeating: " ", count: pad.count + number.count)
        let col = min(max(r.start.column, 1), line.count + 1)
        var end = r.end.line == r.start.line ? min(r.end.column, line.count + 1) : col + 1
        // The window: the whole line when short, else from a little before the caret.
        var from = 0, to = line.count
        if line.count > Self.maxShownColumns {
            from = max(0, min(col - 1 - 40, line.count - Self.maxShownColumns))
            to = min(line.count, from + Self.maxShownColumns)
            end = min(end, to + 1)
        }
        var shown = String.UnicodeScalarView()
        if from > 0 { shown.append("…") }
        shown.append(contentsOf: line[from..<to])
        if to < line.count { shown.append("…") }
        let lead = (from > 0 ? 1 : 0) + (col - 1 - from)
        var marker = String(repeating: " ", count: lead) + "^"
        marker += String(repeating: "~", count: max(0, end - col - 1))
        return "\(pad)\(number) | \(String(shown))\n\(gutter) | \(marker)\n"
    }

    /// The diagnostics as JSON values (for `--json`).
    public func json(_ ds: [Diagnostic]) -> JSONValue {
        .array(ds.map { d in
            var o: [(String, JSONValue)] = [
                ("severity", .string(d.severity.rawValue)),
                ("id", .string(d.id)),
                ("message", .string(d.message)),
            ]
            o.append(contentsOf: place(d.range, path: d.path))
            o.append(("notes", .array(d.notes.map { n in
                .object([("message", .string(n.message))] + place(n.range, path: nil))
            })))
            return .object(o)
        })
    }

    private func place(_ r: SourceRange?, path: String?) -> [(String, JSONValue)] {
        guard let r else { return path.map { [("file", .string($0))] } ?? [] }
        return [("file", .string(r.file.path)), ("line", .int(r.start.line)), ("column", .int(r.start.column))]
    }
}
