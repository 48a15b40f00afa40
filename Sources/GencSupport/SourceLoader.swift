#if canImport(Glibc)
import Glibc
#endif

/// Reads a model file from disk into a `SourceFile`, refusing what no model
/// file can be: unreadable paths, files over `maxBytes`, invalid UTF-8.
public enum SourceLoader {
    /// Model files larger than this are refused (a model is a few KiB).
    public static let maxBytes = 4 << 20

    public static func load(path: String) -> Result<SourceFile, Diagnostic> {
        switch readBytes(path: path, limit: maxBytes) {
        case let .failure(d): return .failure(d)
        case let .success(bytes): return decode(path: path, bytes: bytes)
        }
    }

    /// Validates and decodes UTF-8; an invalid sequence is reported at its
    /// first byte's line and column.
    public static func decode(path: String, bytes: [UInt8]) -> Result<SourceFile, Diagnostic> {
        var i = 0, line = 1, column = 1
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            var width = 0
            var minValue: UInt32 = 0
            if b < 0x80 { width = 1 } else if b & 0xE0 == 0xC0 { width = 2; minValue = 0x80 }
            else if b & 0xF0 == 0xE0 { width = 3; minValue = 0x800 }
            else if b & 0xF8 == 0xF0 { width = 4; minValue = 0x10000 }
            var ok = width > 0 && i + width <= n
            var value = UInt32(b)
            if ok, width > 1 {
                value = UInt32(b) & (0xFF >> (width + 1))
                for k in 1..<width {
                    let c = bytes[i + k]
                    if c & 0xC0 != 0x80 { ok = false; break }
                    value = value << 6 | UInt32(c & 0x3F)
                }
                if ok, value < minValue || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) { ok = false }
            }
            if !ok {
                let file = SourceFile(path: path, text: String(decoding: bytes[0..<i], as: UTF8.self))
                let loc = SourceLocation(line: line, column: column)
                let hex = String(b, radix: 16, uppercase: true)
                return .failure(Diagnostic(
                    id: "invalid-utf8",
                    message: "invalid UTF-8 byte 0x\(hex.count < 2 ? "0" + hex : hex): a model file must be UTF-8 text",
                    at: SourceRange(file: file, start: loc, end: loc)))
            }
            if b == 0x0A { line += 1; column = 1 } else { column += 1 }
            i += width
        }
        return .success(SourceFile(path: path, text: String(decoding: bytes, as: UTF8.self)))
    }

    /// Reads a whole file, at most `limit` bytes.
    public static func readBytes(path: String, limit: Int) -> Result<[UInt8], Diagnostic> {
        func failure(_ why: String) -> Result<[UInt8], Diagnostic> {
            .failure(Diagnostic(id: "unreadable-file", message: "cannot read '\(path)': \(why)", at: nil, path: path))
        }
        guard let f = fopen(path, "rb") else { return failure(String(cString: strerror(errno))) }
        defer { fclose(f) }
        var st = stat()
        if fstat(fileno(f), &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { return failure("it is a directory") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
            if got > 0 { bytes.append(contentsOf: chunk[0..<got]) }
            if bytes.count > limit {
                return failure("the file is larger than \(limit >> 20) MiB; a model file is a few KiB of YAML")
            }
            if got < 65536 {
                if ferror(f) != 0 { return failure(String(cString: strerror(errno))) }
                break
            }
        }
        return .success(bytes)
    }
}
