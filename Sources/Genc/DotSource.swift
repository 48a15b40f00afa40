import GencIR
import GencSupport

/// The model text an IR location points at, for the boxes of
/// `genc dump --format dot --collapse layers`: `lstm: {units: 256, layers: 2}`,
/// `mean(cross_entropy(logits, text[:, 1:]))`.
public enum DotSource {
    /// At most this many characters of source per box.
    public static let maxLength = 48

    /// The text from the location's column to the end of its line, less a
    /// trailing comment and the closing brackets of enclosing expressions;
    /// nil for a location outside `file`.
    public static func text(at location: IRLocation, in file: SourceFile) -> String? {
        guard location.path == file.path, location.line >= 1, location.line <= file.lineCount, location.column >= 1 else { return nil }
        let line = Array(file.lineText(location.line).unicodeScalars)
        guard location.column <= line.count else { return nil }
        var text = String.UnicodeScalarView()
        var depth = 0
        var quote: Unicode.Scalar?
        for (k, c) in line[(location.column - 1)...].enumerated() {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#", k > 0, text.last == " " || text.last == "\t" {
                break
            } else if c == "(" || c == "[" || c == "{" {
                depth += 1
            } else if c == ")" || c == "]" || c == "}" {
                if depth == 0 { break }
                depth -= 1
            }
            text.append(c)
        }
        var s = String(text)
        while let last = s.last, last == " " || last == "\t" || last == "," { s.removeLast() }
        if s.count > maxLength { s = String(s.prefix(maxLength - 1)) + "…" }
        return s.isEmpty ? nil : s
    }
}
