import GencSupport

/// Maps each character of a scalar's value back to its place in the file.
///
/// A scalar's value differs from its source text: quotes, escapes, line
/// folding, block indentation. The map decodes the source text in the
/// scalar's style into units (one per value character that can appear, each
/// with its source index), then aligns the value against them, skipping
/// source whitespace that folding removed. Expressions use it so that an
/// error inside `minimize: "mean(foo(x))"` points at `foo`'s column.
public struct ScalarSourceMap {
    /// `indices[i]` is the file scalar index of value character `i`;
    /// `indices[value.count]` is just past the last one.
    public let indices: [Int]
    public let file: SourceFile

    public init(scalar: YAMLScalar, file: SourceFile) {
        self.file = file
        let value = Array(scalar.value.unicodeScalars)
        let units = Self.sourceUnits(scalar, file)
        var out: [Int] = []
        out.reserveCapacity(value.count + 1)
        var u = 0
        for c in value {
            var k = u
            // Skip source whitespace that folding or indentation removed.
            while k < units.count, units[k].char != c, !(c == " " && units[k].char == "\n"),
                  units[k].char == " " || units[k].char == "\t" || units[k].char == "\n" || units[k].char == "\r" {
                k += 1
            }
            if k < units.count, units[k].char == c || (c == " " && units[k].char == "\n") {
                out.append(units[k].index)
                u = k + 1
            } else {
                out.append(u < units.count ? units[u].index : min(scalar.sourceEnd, file.scalars.count))
            }
        }
        let end = u < units.count ? units[u].index : (out.last.map { $0 + 1 } ?? scalar.sourceStart)
        out.append(max(end, out.last ?? scalar.sourceStart))
        self.indices = out
    }

    /// The file range of value characters `lo..<hi`.
    public func range(_ lo: Int, _ hi: Int) -> SourceRange {
        let a = indices[min(max(lo, 0), indices.count - 1)]
        var b = indices[min(max(hi, 0), indices.count - 1)]
        if hi > lo, hi - 1 < indices.count { b = max(b, indices[hi - 1] + 1) }
        return file.range(fromIndex: a, toIndex: b)
    }

    struct Unit {
        var char: Unicode.Scalar
        var index: Int
    }

    /// The scalar's source text decoded into value-character candidates.
    static func sourceUnits(_ s: YAMLScalar, _ file: SourceFile) -> [Unit] {
        let src = file.scalars
        var i = max(0, min(s.sourceStart, src.count))
        let end = max(i, min(s.sourceEnd, src.count))
        var units: [Unit] = []
        switch s.style {
        case .plain:
            while i < end { units.append(Unit(char: src[i], index: i)); i += 1 }
        case .singleQuoted:
            i += 1
            while i < end - 1 {
                if src[i] == "'", i + 1 < end - 1, src[i + 1] == "'" {
                    units.append(Unit(char: "'", index: i)); i += 2
                } else {
                    units.append(Unit(char: src[i], index: i)); i += 1
                }
            }
        case .doubleQuoted:
            i += 1
            while i < end - 1 {
                guard src[i] == "\\", i + 1 < end - 1 else {
                    units.append(Unit(char: src[i], index: i)); i += 1
                    continue
                }
                let e = src[i + 1]
                let simple: [Unicode.Scalar: Unicode.Scalar] = [
                    "0": "\0", "a": "\u{07}", "b": "\u{08}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{0B}",
                    "f": "\u{0C}", "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\",
                    "N": "\u{85}", "_": "\u{A0}", "L": "\u{2028}", "P": "\u{2029}",
                ]
                if let v = simple[e] {
                    units.append(Unit(char: v, index: i)); i += 2
                } else if e == "x" || e == "u" || e == "U" {
                    let n = e == "x" ? 2 : e == "u" ? 4 : 8
                    var hex = String.UnicodeScalarView()
                    var k = i + 2
                    while k < min(i + 2 + n, end) { hex.append(src[k]); k += 1 }
                    if let v = UInt32(String(hex), radix: 16), let c = Unicode.Scalar(v) {
                        units.append(Unit(char: c, index: i))
                    }
                    i = k
                } else {
                    // Escaped line break: the break and the next line's indentation vanish.
                    i += 2
                    while i < end - 1, src[i] == " " || src[i] == "\t" || src[i] == "\n" || src[i] == "\r" { i += 1 }
                }
            }
        case .literal, .folded:
            // Skip the header line (indicator, chomping, comment).
            while i < end, src[i] != "\n" { i += 1 }
            i += 1
            while i < end { units.append(Unit(char: src[i], index: i)); i += 1 }
        }
        return units
    }
}
