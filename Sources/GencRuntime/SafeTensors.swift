// Reading and writing safetensors files (https://github.com/huggingface/safetensors):
//
//     8 bytes   little-endian UInt64 N, the header's length
//     N bytes   UTF-8 JSON object: name -> {"dtype", "shape", "data_offsets": [begin, end]},
//               plus an optional "__metadata__": {string: string}; may end in spaces
//     the rest  the data section; offsets are relative to its start
//
// genc reads and writes F32 and I32 tensors only. Malformed input of any kind
// is a `SafeTensorsError` naming the problem, never a trap, a hang or an
// allocation larger than the input itself.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem reading or writing a safetensors file.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// An in-memory safetensors file: named tensors plus string metadata.
public struct SafeTensors: Sendable {
    /// Headers larger than this are refused, as the reference implementation does.
    public static let maxHeaderBytes = 100_000_000

    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32"
        case i32 = "I32"

        /// Bytes per element.
        public var size: Int { 4 }
    }

    /// One tensor: dtype, shape (row-major) and its raw little-endian bytes.
    public struct Tensor: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        /// A tensor from raw little-endian bytes; consistency of `bytes` with
        /// `shape` is checked when it is written.
        public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        public init(f32 values: [Float], shape: [Int]) {
            precondition(shape.allSatisfy { $0 >= 0 }, "SafeTensors.Tensor: negative extent in shape \(shape)")
            precondition(values.count == shape.reduce(1, *),
                         "SafeTensors.Tensor: \(values.count) values for shape \(shape)")
            self.init(dtype: .f32, shape: shape, bytes: littleEndianBytes(values.map(\.bitPattern)))
        }

        public init(i32 values: [Int32], shape: [Int]) {
            precondition(shape.allSatisfy { $0 >= 0 }, "SafeTensors.Tensor: negative extent in shape \(shape)")
            precondition(values.count == shape.reduce(1, *),
                         "SafeTensors.Tensor: \(values.count) values for shape \(shape)")
            self.init(dtype: .i32, shape: shape, bytes: littleEndianBytes(values.map { UInt32(bitPattern: $0) }))
        }

        /// The values of an F32 tensor (nil for other dtypes).
        public var floats: [Float]? {
            dtype == .f32 ? words(bytes).map { Float(bitPattern: $0) } : nil
        }

        /// The values of an I32 tensor (nil for other dtypes).
        public var ints: [Int32]? {
            dtype == .i32 ? words(bytes).map { Int32(bitPattern: $0) } : nil
        }

        /// The product of the shape's extents (1 for a scalar, shape `[]`).
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The tensors, in header order when read. `encode` and `write` sort them
    /// by name (UTF-8 byte order), so the same content gives the same file.
    public var tensors: [(name: String, tensor: Tensor)]
    /// The `__metadata__` entry (omitted from the file when empty).
    public var metadata: [String: String]

    public init(tensors: [(String, Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors.map { (name: $0.0, tensor: $0.1) }
        self.metadata = metadata
    }

    /// The tensor with exactly this name (compared byte for byte, not by
    /// Unicode canonical equivalence), or nil.
    public subscript(name: String) -> Tensor? {
        tensors.first { $0.name.utf8.elementsEqual(name.utf8) }?.tensor
    }

    // MARK: - Decoding

    /// Parses a whole safetensors file held in memory.
    public static func decode(_ bytes: [UInt8]) throws(SafeTensorsError) -> SafeTensors {
        let headerLength = try checkPrefix(Array(bytes.prefix(8)), fileSize: UInt64(bytes.count))
        let header = Array(bytes[8..<(8 + headerLength)])
        let dataStart = 8 + headerLength
        let layout = try parseHeader(header, dataSize: bytes.count - dataStart)
        var file = SafeTensors(metadata: layout.metadata)
        file.tensors.reserveCapacity(layout.entries.count)
        for e in layout.entries {
            let data = Array(bytes[(dataStart + e.begin)..<(dataStart + e.end)])
            file.tensors.append((e.name, Tensor(dtype: e.dtype, shape: e.shape, bytes: data)))
        }
        return file
    }

    /// Reads a safetensors file. The header is checked against the file's
    /// size before any tensor is read, and each tensor is read straight into
    /// its own buffer (no second copy of the whole file). Errors name the path.
    public static func read(path: String) throws(SafeTensorsError) -> SafeTensors {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SafeTensorsError("cannot open '\(path)': \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafeTensorsError("cannot read '\(path)': \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            let what = (st.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
            throw SafeTensorsError("cannot read '\(path)': it is \(what)")
        }
        let fileSize = Int(st.st_size)
        func pread(_ count: Int, at offset: Int) throws(SafeTensorsError) -> [UInt8] {
            do { return try preadFully(fd, count: count, offset: offset) } catch {
                throw SafeTensorsError("cannot read '\(path)': \(error.message)")
            }
        }
        func prefixed(_ e: SafeTensorsError) -> SafeTensorsError {
            SafeTensorsError("'\(path)': \(e.message)")
        }
        do throws(SafeTensorsError) {
            let headerLength = try checkPrefix(try pread(min(8, fileSize), at: 0), fileSize: UInt64(fileSize))
            let header = try pread(headerLength, at: 8)
            let dataStart = 8 + headerLength
            let layout = try parseHeader(header, dataSize: fileSize - dataStart)
            var file = SafeTensors(metadata: layout.metadata)
            file.tensors.reserveCapacity(layout.entries.count)
            for e in layout.entries {
                let data = try pread(e.end - e.begin, at: dataStart + e.begin)
                file.tensors.append((e.name, Tensor(dtype: e.dtype, shape: e.shape, bytes: data)))
            }
            return file
        } catch {
            throw error.message.hasPrefix("cannot read '") ? error : prefixed(error)
        }
    }

    /// Checks the 8-byte length prefix against the file size; returns N.
    private static func checkPrefix(_ prefix: [UInt8], fileSize: UInt64) throws(SafeTensorsError) -> Int {
        guard prefix.count == 8 else {
            throw SafeTensorsError(
                "file is too short (\(fileSize) bytes) to hold the 8-byte header length")
        }
        let n = prefix.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        if n > UInt64(maxHeaderBytes) {
            throw SafeTensorsError("header length \(n) exceeds the limit of \(maxHeaderBytes) bytes")
        }
        if n > fileSize - 8 {
            throw SafeTensorsError(
                "header length \(n) is larger than the file (\(fileSize - 8) bytes after the length prefix)")
        }
        if n == 0 { throw SafeTensorsError("header length is 0: the header must be a JSON object") }
        return Int(n)
    }

    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// dtypes of the safetensors format that genc does not read.
    static let knownUnsupportedDTypes: Set<String> = [
        "BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "U32", "F64", "I64", "U64",
        "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64",
    ]

    /// Parses and validates the header against a data section of
    /// `dataSize` bytes: every entry well formed, and the tensors tiling the
    /// data section exactly.
    static func parseHeader(_ header: [UInt8], dataSize: Int) throws(SafeTensorsError)
        -> (entries: [Entry], metadata: [String: String])
    {
        if let bad = firstInvalidUTF8(header) {
            throw SafeTensorsError(
                "header is not valid UTF-8 (byte 0x\(SafeTensorsJSONWriter.hex2(header[bad]).uppercased()) at offset \(bad) of the header)")
        }
        let json = try SafeTensorsJSONParser.parse(header)
        guard case let .object(pairs) = json else {
            throw SafeTensorsError("header is not a JSON object (it is \(json.kind))")
        }
        var entries: [Entry] = []
        var metadata: [String: String]?
        var seen = Set<[UInt8]>()
        for (name, value) in pairs {
            guard seen.insert(Array(name.utf8)).inserted else {
                throw SafeTensorsError(name == "__metadata__"
                    ? "duplicate '__metadata__' entry in the header"
                    : "duplicate tensor name '\(name)' in the header")
            }
            if name == "__metadata__" {
                metadata = try parseMetadata(value)
            } else {
                entries.append(try parseEntry(name: name, value, dataSize: dataSize))
            }
        }
        // The tensors must tile the data section: sorted by offset, each starts
        // where the previous ended, and the last ends at the end of the data.
        let order = entries.indices.sorted {
            (entries[$0].begin, entries[$0].end) < (entries[$1].begin, entries[$1].end)
        }
        var covered = 0
        var previous: String?
        for k in order {
            let e = entries[k]
            if e.begin > covered {
                throw SafeTensorsError(
                    "hole in the data section: bytes \(covered)..<\(e.begin) belong to no tensor (before tensor '\(e.name)')")
            }
            if e.begin < covered {
                throw SafeTensorsError(
                    "tensor '\(e.name)' (data_offsets [\(e.begin), \(e.end)]) overlaps tensor '\(previous ?? "")', which ends at \(covered)")
            }
            covered = e.end
            if e.end > e.begin || previous == nil { previous = e.name }
        }
        if covered < dataSize {
            throw SafeTensorsError(
                "trailing garbage: the data section has \(dataSize) bytes but the tensors cover only \(covered)")
        }
        return (entries, metadata ?? [:])
    }

    private static func parseMetadata(_ value: SafeTensorsJSON) throws(SafeTensorsError) -> [String: String] {
        guard case let .object(pairs) = value else {
            throw SafeTensorsError("'__metadata__' must be an object of strings, got \(value.kind)")
        }
        var metadata: [String: String] = [:]
        for (key, v) in pairs {
            guard case let .string(s) = v else {
                throw SafeTensorsError("'__metadata__' value for key '\(key)' must be a string, got \(v.kind)")
            }
            guard metadata.updateValue(s, forKey: key) == nil else {
                throw SafeTensorsError("duplicate key '\(key)' in '__metadata__'")
            }
        }
        return metadata
    }

    private static func parseEntry(name: String, _ value: SafeTensorsJSON, dataSize: Int)
        throws(SafeTensorsError) -> Entry
    {
        func fail(_ what: String) -> SafeTensorsError { SafeTensorsError("tensor '\(name)': \(what)") }
        guard case let .object(fields) = value else {
            throw fail("entry must be an object with dtype, shape and data_offsets, got \(value.kind)")
        }
        var dtypeValue: SafeTensorsJSON?, shapeValue: SafeTensorsJSON?, offsetsValue: SafeTensorsJSON?
        for (key, v) in fields {
            switch key {
            case "dtype", "shape", "data_offsets":
                let previous: SafeTensorsJSON?
                switch key {
                case "dtype": previous = dtypeValue; dtypeValue = v
                case "shape": previous = shapeValue; shapeValue = v
                default: previous = offsetsValue; offsetsValue = v
                }
                if previous != nil { throw fail("duplicate key '\(key)'") }
            default:
                break  // Unknown keys are ignored, as the reference implementation does.
            }
        }
        guard let dtypeValue else { throw fail("missing 'dtype'") }
        guard let shapeValue else { throw fail("missing 'shape'") }
        guard let offsetsValue else { throw fail("missing 'data_offsets'") }

        guard case let .string(dtypeName) = dtypeValue else {
            throw fail("'dtype' must be a string, got \(dtypeValue.kind)")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            if knownUnsupportedDTypes.contains(dtypeName) {
                throw fail("dtype \(dtypeName) is unsupported by genc (only F32 and I32 are)")
            }
            throw fail("unknown dtype '\(dtypeName)' (genc supports only F32 and I32)")
        }

        guard case let .array(shapeItems) = shapeValue else {
            throw fail("'shape' must be an array of integers, got \(shapeValue.kind)")
        }
        var shape: [Int] = []
        for (k, item) in shapeItems.enumerated() {
            shape.append(try nonNegativeInt(item, what: "shape[\(k)]", fail: fail))
        }
        var elements = 1
        for extent in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
            if overflow { throw fail("element count of shape \(shape) overflows") }
            elements = product
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
        if overflow { throw fail("byte size of shape \(shape) overflows") }

        guard case let .array(offsetItems) = offsetsValue, offsetItems.count == 2 else {
            throw fail("'data_offsets' must be [begin, end], got \(describeShapeless(offsetsValue))")
        }
        let begin = try nonNegativeInt(offsetItems[0], what: "data_offsets[0]", fail: fail)
        let end = try nonNegativeInt(offsetItems[1], what: "data_offsets[1]", fail: fail)
        guard begin <= end else { throw fail("data_offsets [\(begin), \(end)] has begin > end") }
        guard end - begin == byteCount else {
            throw fail("data_offsets [\(begin), \(end)] span \(end - begin) bytes, but shape \(shape) of \(dtype.rawValue) needs \(byteCount)")
        }
        guard end <= dataSize else {
            throw fail("data_offsets [\(begin), \(end)] lie outside the data section (\(dataSize) bytes)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    private static func describeShapeless(_ v: SafeTensorsJSON) -> String {
        if case let .array(items) = v { return "an array of \(items.count) elements" }
        return v.kind
    }

    private static func nonNegativeInt(
        _ v: SafeTensorsJSON, what: String, fail: (String) -> SafeTensorsError
    ) throws(SafeTensorsError) -> Int {
        guard case let .number(text) = v else { throw fail("\(what) must be an integer, got \(v.kind)") }
        if text.hasPrefix("-") {
            throw fail("\(what) is negative (\(text))")
        }
        guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw fail("\(what) is not an integer (\(text))")
        }
        guard let n = Int(text) else { throw fail("\(what) is too large (\(text))") }
        return n
    }

    /// The offset of the first byte that starts an invalid UTF-8 sequence
    /// (overlong forms, surrogates and values past U+10FFFF included), or nil.
    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let width: Int, minValue: UInt32
            if b & 0xE0 == 0xC0 { width = 2; minValue = 0x80 }
            else if b & 0xF0 == 0xE0 { width = 3; minValue = 0x800 }
            else if b & 0xF8 == 0xF0 { width = 4; minValue = 0x10000 }
            else { return i }
            guard i + width <= n else { return i }
            var value = UInt32(b) & (0xFF >> (width + 1))
            for k in 1..<width {
                let c = bytes[i + k]
                if c & 0xC0 != 0x80 { return i }
                value = value << 6 | UInt32(c & 0x3F)
            }
            if value < minValue || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) { return i }
            i += width
        }
        return nil
    }

    // MARK: - Encoding

    /// Checks what `encode` relies on: unique names, none of them
    /// `__metadata__`, non-negative shapes, and bytes matching each shape.
    public func validate() throws(SafeTensorsError) {
        var seen = Set<[UInt8]>()
        for (name, t) in tensors {
            if name == "__metadata__" {
                throw SafeTensorsError("a tensor cannot be named '__metadata__'")
            }
            guard seen.insert(Array(name.utf8)).inserted else {
                throw SafeTensorsError("duplicate tensor name '\(name)'")
            }
            guard t.shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError("tensor '\(name)': negative extent in shape \(t.shape)")
            }
            var elements = 1
            for extent in t.shape {
                let (p, o) = elements.multipliedReportingOverflow(by: extent)
                if o { throw SafeTensorsError("tensor '\(name)': element count of shape \(t.shape) overflows") }
                elements = p
            }
            let (needed, o) = elements.multipliedReportingOverflow(by: t.dtype.size)
            guard !o, t.bytes.count == needed else {
                throw SafeTensorsError(
                    "tensor '\(name)': \(t.bytes.count) bytes, but shape \(t.shape) of \(t.dtype.rawValue) needs \(o ? "more than Int.max" : String(needed))")
            }
        }
    }

    /// The tensors in file order: sorted by name, as UTF-8 bytes.
    private var sortedTensors: [(name: String, tensor: Tensor)] {
        tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The 8-byte length prefix and the space-padded header, for tensors in
    /// `ordered` order.
    private func headerBytes(_ ordered: [(name: String, tensor: Tensor)]) -> [UInt8] {
        var json: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func comma() { if !first { json.append(UInt8(ascii: ",")) }; first = false }
        if !metadata.isEmpty {
            comma()
            SafeTensorsJSONWriter.append("\"__metadata__\":{", to: &json)
            let entries = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (k, entry) in entries.enumerated() {
                if k > 0 { json.append(UInt8(ascii: ",")) }
                SafeTensorsJSONWriter.appendString(entry.key, to: &json)
                json.append(UInt8(ascii: ":"))
                SafeTensorsJSONWriter.appendString(entry.value, to: &json)
            }
            json.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for (name, t) in ordered {
            comma()
            SafeTensorsJSONWriter.appendString(name, to: &json)
            let shape = t.shape.map(String.init).joined(separator: ",")
            SafeTensorsJSONWriter.append(
                ":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}",
                to: &json)
            offset += t.bytes.count
        }
        json.append(UInt8(ascii: "}"))
        // Pad to a multiple of 8 so the data section is aligned, as the
        // reference implementation does.
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        return littleEndianBytes([UInt64(json.count)]) + json
    }

    /// The file's bytes. Tensors are laid out sorted by name, `__metadata__`
    /// first in the header with its keys sorted. Traps if `validate()` fails;
    /// `write(path:)` reports that as an error instead.
    public func encode() -> [UInt8] {
        do throws(SafeTensorsError) { try validate() } catch { preconditionFailure("SafeTensors.encode: \(error.message)") }
        let ordered = sortedTensors
        var out = headerBytes(ordered)
        out.reserveCapacity(out.count + ordered.reduce(0) { $0 + $1.tensor.bytes.count })
        for (_, t) in ordered { out.append(contentsOf: t.bytes) }
        return out
    }

    /// Writes the file atomically: into a new temporary file in the same
    /// directory, fsync'd, then renamed over `path`. On failure the temporary
    /// file is removed and whatever was at `path` is untouched.
    public func write(path: String) throws(SafeTensorsError) {
        try validate()
        let ordered = sortedTensors
        let header = headerBytes(ordered)

        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !base.isEmpty else { throw SafeTensorsError("cannot write '\(path)': not a file name") }

        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<100 {
            let tag = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            temporary = "\(directory).\(base).tmp-\(getpid())-\(tag)"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw SafeTensorsError("cannot write '\(path)': cannot create a temporary file: \(errnoText())")
        }
        func fail(_ what: String) -> SafeTensorsError {
            let e = SafeTensorsError("cannot write '\(path)': \(what)")
            if fd >= 0 { close(fd); fd = -1 }
            unlink(temporary)
            return e
        }
        do throws(SafeTensorsError) {
            try writeFully(fd, header)
            for (_, t) in ordered { try writeFully(fd, t.bytes) }
        } catch {
            throw fail(error.message)
        }
        if fsync(fd) != 0 { throw fail("fsync: \(errnoText())") }
        let closed = close(fd)
        fd = -1
        if closed != 0 { throw fail("close: \(errnoText())") }
        if rename(temporary, path) != 0 { throw fail("rename: \(errnoText())") }
        // Make the rename itself durable; not every file system allows
        // fsync on a directory, and the file is already in place, so this is
        // best effort.
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }
}

// MARK: - Helpers

private func errnoText() -> String {
    String(cString: strerror(errno))
}

/// Values' little-endian bytes (a plain copy on little-endian hosts).
private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.map { $0.littleEndian }.withUnsafeBytes { Array($0) }
}

/// Little-endian 32-bit words from bytes (a trailing partial word is ignored).
private func words(_ bytes: [UInt8]) -> [UInt32] {
    let n = bytes.count / 4
    var out = [UInt32](repeating: 0, count: n)
    out.withUnsafeMutableBytes { dst in
        bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<(n * 4)])) }
    }
    return out.map { UInt32(littleEndian: $0) }
}

private func preadFully(_ fd: Int32, count: Int, offset: Int) throws(SafeTensorsError) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
        let n = out.withUnsafeMutableBytes { buf in
            pread(fd, buf.baseAddress! + done, count - done, off_t(offset + done))
        }
        if n < 0 {
            if errno == EINTR { continue }
            throw SafeTensorsError(errnoText())
        }
        if n == 0 { throw SafeTensorsError("unexpected end of file (the file shrank while being read)") }
        done += n
    }
    return out
}

private func writeFully(_ fd: Int32, _ bytes: [UInt8]) throws(SafeTensorsError) {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { buf in
            write(fd, buf.baseAddress! + done, bytes.count - done)
        }
        if n < 0 {
            if errno == EINTR { continue }
            throw SafeTensorsError("write: \(errnoText())")
        }
        done += n
    }
}
