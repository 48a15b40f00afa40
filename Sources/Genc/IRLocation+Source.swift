import GencIR
import GencSupport

extension IRLocation {
    /// The range in `file` this location names, when it is in that file
    /// (the IR keeps only path, line and column; it does not know YAML).
    public func range(in file: SourceFile) -> SourceRange? {
        guard path == file.path, line >= 1, line <= file.lineCount, column >= 1 else { return nil }
        return file.range(at: SourceLocation(line: line, column: column))
    }
}
