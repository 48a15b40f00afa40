// Decoding safetensors: the header checked against the file before any tensor is read.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SafeTensors {
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

}
