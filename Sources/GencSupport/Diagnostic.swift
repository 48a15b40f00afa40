/// How bad a diagnostic is.
public enum Severity: String, Sendable {
    case error, warning, note
}

/// One message about the input: an ID, a severity, where, and related places.
///
/// Diagnostics are values; stages collect them in a `DiagnosticBag` and the
/// CLI renders them (`DiagnosticRenderer`). Messages come from each stage's
/// catalog (`SpecDiagnostics`, `SyntaxDiagnostics`), never ad-hoc strings at the
/// call site, so tests can match on `id`.
public struct Diagnostic: Error, Sendable, CustomStringConvertible {
    /// A stable kebab-case identifier, e.g. `unknown-key`.
    public var id: String
    public var severity: Severity
    public var message: String
    /// Where the problem is; `nil` for problems with no place in a file
    /// (command-line usage, an unreadable file).
    public var range: SourceRange?
    /// The path to name when there is no range (an unreadable file).
    public var path: String?
    public var notes: [Note]

    public struct Note: Sendable {
        public var message: String
        public var range: SourceRange?
        public init(_ message: String, at range: SourceRange?) {
            self.message = message
            self.range = range
        }
    }

    public init(id: String, severity: Severity = .error, message: String, at range: SourceRange?,
                path: String? = nil, notes: [Note] = []) {
        self.id = id
        self.severity = severity
        self.message = message
        self.range = range
        self.path = path ?? range?.file.path
        self.notes = notes
    }

    /// Adds a note and returns the diagnostic, for chaining at the call site.
    public func note(_ message: String, at range: SourceRange?) -> Diagnostic {
        var d = self
        d.notes.append(Note(message, at: range))
        return d
    }

    public var description: String {
        var head = path ?? "genc"
        if let r = range { head = "\(r.file.path):\(r.start)" }
        return "\(head): \(severity.rawValue): \(message)"
    }
}

/// Collects diagnostics in the order they were found.
public struct DiagnosticBag: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []
    public init() {}

    public mutating func append(_ d: Diagnostic) { diagnostics.append(d) }
    public mutating func append(contentsOf ds: [Diagnostic]) { diagnostics.append(contentsOf: ds) }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }

    /// Diagnostics sorted by file position (stable for equal positions), the
    /// order a compiler user expects to read them in, each said once (a YAML
    /// alias repeats its anchor's nodes, and so their problems).
    public var sorted: [Diagnostic] {
        var seen = Set<String>()
        return diagnostics.enumerated().sorted { a, b in
            let la = a.element.range?.start ?? SourceLocation(line: 0, column: 0)
            let lb = b.element.range?.start ?? SourceLocation(line: 0, column: 0)
            return la == lb ? a.offset < b.offset : la < lb
        }.map(\.element).filter { seen.insert("\($0.id)|\($0.range?.description ?? $0.path ?? "")|\($0.message)").inserted }
    }
}
