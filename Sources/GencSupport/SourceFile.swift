/// A model file held in memory, with the tables that turn offsets into
/// 1-based line and column numbers.
///
/// Columns count Unicode scalars (code points), as libyaml's marks do, so a
/// caret printed under a source line lands under the character it means.
public final class SourceFile: @unchecked Sendable {
    /// The path as the user gave it; printed verbatim in diagnostics.
    public let path: String
    /// The file's text as Unicode scalars (valid UTF-8 only; see `init(path:bytes:)`).
    public let scalars: [Unicode.Scalar]
    /// `lineStarts[i]` is the scalar index where line `i + 1` begins.
    public let lineStarts: [Int]

    public init(path: String, text: String) {
        self.path = path
        self.scalars = Array(text.unicodeScalars)
        var starts = [0]
        for (i, s) in scalars.enumerated() where s == "\n" {
            starts.append(i + 1)
        }
        self.lineStarts = starts
    }

    /// The number of lines (a trailing newline does not start a new one).
    public var lineCount: Int {
        if let last = scalars.last, last == "\n" { return lineStarts.count - 1 }
        return lineStarts.count
    }

    /// The scalar index of a 1-based line and column, clamped to the file.
    public func index(line: Int, column: Int) -> Int {
        let l = min(max(line, 1), lineStarts.count) - 1
        return min(lineStarts[l] + max(column, 1) - 1, scalars.count)
    }

    /// The 1-based location of a scalar index.
    /// - Complexity: O(log lines).
    public func location(ofIndex index: Int) -> SourceLocation {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return SourceLocation(line: lo + 1, column: index - lineStarts[lo] + 1)
    }

    /// The text of a 1-based line, without its line break.
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] : scalars.count
        while end > start, scalars[end - 1] == "\n" || scalars[end - 1] == "\r" { end -= 1 }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[start..<end])
        return String(s)
    }

    /// A range covering one location.
    public func range(at location: SourceLocation) -> SourceRange {
        SourceRange(file: self, start: location, end: location)
    }

    /// A range between two scalar indices.
    public func range(fromIndex start: Int, toIndex end: Int) -> SourceRange {
        SourceRange(file: self, start: location(ofIndex: start), end: location(ofIndex: max(start, end)))
    }
}

/// A 1-based line and column (in Unicode scalars).
public struct SourceLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
    public var description: String { "\(line):\(column)" }
}

/// A half-open span of a source file, `start` inclusive, `end` exclusive.
public struct SourceRange: Sendable, Hashable, CustomStringConvertible {
    public let file: SourceFile
    public var start: SourceLocation
    public var end: SourceLocation

    public init(file: SourceFile, start: SourceLocation, end: SourceLocation) {
        self.file = file
        self.start = start
        self.end = end
    }

    /// The smallest range covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(file: file, start: min(start, other.start), end: max(end, other.end))
    }

    public static func == (a: SourceRange, b: SourceRange) -> Bool {
        a.file === b.file && a.start == b.start && a.end == b.end
    }
    public func hash(into h: inout Hasher) {
        h.combine(ObjectIdentifier(file))
        h.combine(start)
        h.combine(end)
    }
    public var description: String { "\(file.path):\(start)" }
}
