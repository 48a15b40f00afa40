// Encoding and writing safetensors: deterministic layout, atomic writes.

import GencSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SafeTensors {
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

    /// Writes the file atomically (`AtomicFile`): into a new temporary file
    /// in the same directory, fsync'd, then renamed over `path`. On failure
    /// the temporary file is removed and whatever was at `path` is untouched.
    public func write(path: String) throws(SafeTensorsError) {
        try validate()
        let ordered = sortedTensors
        do throws(OutputError) {
            try AtomicFile.write(parts: [headerBytes(ordered)] + ordered.map(\.tensor.bytes), to: path)
        } catch {
            throw SafeTensorsError(error.message)
        }
    }
}

// MARK: - Helpers

func errnoText() -> String {
    String(cString: strerror(errno))
}

/// Values' little-endian bytes (a plain copy on little-endian hosts).
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.map { $0.littleEndian }.withUnsafeBytes { Array($0) }
}

/// Little-endian 32-bit words from bytes (a trailing partial word is ignored).
func words(_ bytes: [UInt8]) -> [UInt32] {
    let n = bytes.count / 4
    var out = [UInt32](repeating: 0, count: n)
    out.withUnsafeMutableBytes { dst in
        bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<(n * 4)])) }
    }
    return out.map { UInt32(littleEndian: $0) }
}

func preadFully(_ fd: Int32, count: Int, offset: Int) throws(SafeTensorsError) -> [UInt8] {
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
