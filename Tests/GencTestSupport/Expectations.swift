import Foundation

/// An error a corpus file says genc must report.
public struct ExpectedDiagnostic: Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    /// A substring of the message.
    public var text: String
    public var description: String { "\(line):\(column) error: \(text)" }
    public init(line: Int, column: Int, text: String) {
        self.line = line
        self.column = column
        self.text = text
    }
}

/// Reads the expectations marked inside a source file (swift-format's
/// marker idea, in YAML comments so the file stays valid input):
///
///     - dnse: 400
///     #     ^ error: unknown layer 'dnse'
///
/// The caret's column is the expected column; the line is the nearest line
/// above that is not itself an expectation. Where a caret cannot be placed
/// (column 1, binary files), `# expect: LINE:COL error: TEXT`.
public enum Expectations {
    public static func parse(_ text: String) -> [ExpectedDiagnostic] {
        var out: [ExpectedDiagnostic] = []
        var lastCodeLine = 0
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("# expect:") {
                let rest = trimmed.dropFirst("# expect:".count).trimmingCharacters(in: .whitespaces)
                let parts = rest.split(separator: " ", maxSplits: 1)
                let lc = parts.first?.split(separator: ":") ?? []
                if lc.count == 2, let l = Int(lc[0]), let c = Int(lc[1]), parts.count == 2 {
                    out.append(ExpectedDiagnostic(line: l, column: c, text: stripErrorPrefix(String(parts[1]))))
                }
                continue
            }
            if line.hasPrefix("#"), let caret = line.firstIndex(of: "^"),
               line[line.index(after: line.startIndex)..<caret].allSatisfy({ $0 == " " }) {
                let column = line.distance(from: line.startIndex, to: caret) + 1
                let message = String(line[line.index(after: caret)...]).trimmingCharacters(in: .whitespaces)
                out.append(ExpectedDiagnostic(line: lastCodeLine, column: column, text: stripErrorPrefix(message)))
                continue
            }
            lastCodeLine = i + 1
        }
        return out
    }

    static func stripErrorPrefix(_ s: String) -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        return t.hasPrefix("error:") ? String(t.dropFirst("error:".count)).trimmingCharacters(in: .whitespaces) : t
    }

    /// Compares reported errors `(line, column, message)` with expectations;
    /// returns the problems (empty when they agree exactly).
    public static func mismatches(expected: [ExpectedDiagnostic], reported: [(line: Int, column: Int, message: String)]) -> [String] {
        var problems: [String] = []
        var unmatched = reported
        for e in expected {
            if let i = unmatched.firstIndex(where: { $0.line == e.line && $0.column == e.column && $0.message.contains(e.text) }) {
                unmatched.remove(at: i)
            } else {
                let near = reported.filter { $0.line == e.line }.map { "\($0.line):\($0.column) \($0.message)" }
                problems.append("expected \(e) — not reported" + (near.isEmpty ? "" : "; on that line: \(near.joined(separator: " | "))"))
            }
        }
        for r in unmatched { problems.append("unexpected \(r.line):\(r.column) error: \(r.message)") }
        return problems
    }
}

/// Paths of the repository, found from this source file.
public enum Repository {
    public static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Files under a directory with an extension, sorted.
    public static func files(in relative: String, extension ext: String) -> [String] {
        let dir = root.appendingPathComponent(relative)
        guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix("." + ext) }.sorted().map { dir.appendingPathComponent($0).path }
    }
}
