// The bytes a dataset's samples are read from, without holding a large data
// set in memory: a plain file is mapped read-only (the kernel pages in what
// the batches touch and drops it again under memory pressure), and bytes
// that must be made first (gunzipped, or a directory of text files joined)
// stay in memory up to `ByteStoreBuilder.memoryLimit` and past it go to an
// unlinked temporary file that is then mapped.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Read-only contiguous bytes: owned memory or a read-only file mapping.
/// Immutable once made, so batches may be read from any thread.
public final class ByteStore: @unchecked Sendable {
    public let count: Int
    /// Where the bytes are (a non-null address even when `count` is 0).
    let base: UnsafePointer<UInt8>
    /// What `deinit` undoes.
    private enum Owner { case memory(UnsafeMutableRawPointer), mapping(UnsafeMutableRawPointer, Int) }
    private let owner: Owner

    /// Bytes in memory: a copy of `bytes`.
    public init(copying bytes: [UInt8]) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: bytes.count) } }
        owner = .memory(p)
        base = UnsafePointer(p.assumingMemoryBound(to: UInt8.self))
        count = bytes.count
    }

    /// Takes over `count` bytes at `memory` (allocated with `allocate(byteCount:alignment:)`).
    init(adopting memory: UnsafeMutableRawPointer, count: Int) {
        owner = .memory(memory)
        base = UnsafePointer(memory.assumingMemoryBound(to: UInt8.self))
        self.count = count
    }

    /// The whole of the regular file open as `fd`, mapped read-only. The
    /// mapping outlives `fd` (the caller closes it). An empty file is an
    /// empty store (mmap refuses a length of 0).
    init(mapping fd: Int32, count: Int, path: String) throws(DataError) {
        guard count > 0 else {
            let p = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
            owner = .memory(p)
            base = UnsafePointer(p.assumingMemoryBound(to: UInt8.self))
            self.count = 0
            return
        }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw DataError("cannot map '\(path)' (\(count) bytes) into memory: \(errnoText())")
        }
        // The kernel's default read-ahead is kept: every epoch reads every
        // page, so what it fetches early is used, whatever the order.
        owner = .mapping(p, count)
        base = UnsafePointer(p.assumingMemoryBound(to: UInt8.self))
        self.count = count
    }

    /// A regular file, mapped read-only. Errors name the path.
    public static func map(_ path: String) throws(DataError) -> ByteStore {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError("cannot open '\(path)': \(errnoText())") }
        defer { close(fd) }
        let size = try Files.regularFileSize(fd, path)
        return try ByteStore(mapping: fd, count: size, path: path)
    }

    deinit {
        switch owner {
        case let .memory(p): p.deallocate()
        case let .mapping(p, n): munmap(p, n)
        }
    }

    /// The bytes as an array: a copy, for tests and small stores.
    public func copy(_ range: Range<Int>) -> [UInt8] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "ByteStore.copy: \(range) is outside 0..<\(count)")
        return Array(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// True when the bytes are a file mapping (not held in process memory).
    public var isMapped: Bool {
        switch owner {
        case .memory: return false
        case .mapping: return true
        }
    }
}

/// Makes a `ByteStore` from bytes that arrive in pieces: in memory while they
/// fit in `memoryLimit`, then in an unlinked temporary file under $TMPDIR (or
/// /tmp), which the finished store maps. So a gunzipped or joined data set
/// larger than memory needs disk, not memory. Write errors (a full disk) are
/// `DataError`s that name `what` and the directory.
final class ByteStoreBuilder {
    /// Bytes kept in memory before the builder moves to a file: 256 MiB,
    /// more than every supported data set gunzipped (Fashion-MNIST's train
    /// images are 45 MiB), so they never touch the disk. Tests lower it.
    nonisolated(unsafe) static var memoryLimit = 256 << 20

    private let what: String
    private var memory: UnsafeMutableRawPointer?
    private var capacity = 0
    private(set) var count = 0
    private var fd: Int32 = -1
    private var directory = ""

    /// `what` names the data for messages ("the gunzipped 'PATH'").
    init(what: String) { self.what = what }

    deinit {
        memory?.deallocate()
        if fd >= 0 { close(fd) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(DataError) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        let (total, overflow) = count.addingReportingOverflow(bytes.count)
        guard !overflow else { throw DataError("\(what) is larger than any file can be") }
        if fd < 0, total > Self.memoryLimit { try spill() }
        if fd >= 0 {
            var done = 0
            while done < bytes.count {
                let n = write(fd, src + done, bytes.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError("cannot hold \(what) (\(total) bytes) in a temporary file in '\(directory)': \(errnoText())",
                                    hint: "free space there, or set TMPDIR to a directory with room")
                }
                done += n
            }
        } else {
            if total > capacity {
                let grown = min(max(total, capacity * 2, 1 << 16), Self.memoryLimit)
                let p = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
                if let old = memory { p.copyMemory(from: old, byteCount: count); old.deallocate() }
                memory = p
                capacity = grown
            }
            (memory! + count).copyMemory(from: src, byteCount: bytes.count)
        }
        count = total
    }

    /// Moves what is in memory to a fresh temporary file, unlinked at once so
    /// that nothing is left behind however the process ends.
    private func spill() throws(DataError) {
        directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array(Files.join(directory, "genc-data-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw DataError("cannot make a temporary file in '\(directory)' to hold \(what): \(errnoText())",
                            hint: "set TMPDIR to a writable directory with room for the data")
        }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        self.fd = fd
        if let m = memory, count > 0 {
            let held = count
            count = 0
            try append(UnsafeRawBufferPointer(start: m, count: held))
            count = held
        }
        memory?.deallocate()
        memory = nil
        capacity = 0
    }

    /// The bytes appended, as one store.
    func finish() throws(DataError) -> ByteStore {
        if fd >= 0 {
            let store = try ByteStore(mapping: fd, count: count, path: "the temporary file holding \(what)")
            close(fd)
            fd = -1
            return store
        }
        let p = memory ?? UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
        memory = nil
        return ByteStore(adopting: p, count: count)
    }
}
