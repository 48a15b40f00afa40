// DataError, and the few file-system questions every loader asks (what is at
// this path, what is in this directory, how large this file is), answered
// with messages that name the path.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A dataset that cannot be read: missing, corrupt, truncated, or not what the model needs.
public struct DataError: Error, CustomStringConvertible, Equatable {
    /// Names the file and, for corrupt or truncated data, the byte offset.
    public var message: String
    /// How to get the data, e.g. "install Debian's package dataset-fashion-mnist
    /// (apt-get install dataset-fashion-mnist), or give the directory with 'path:'".
    public var hint: String?
    public var description: String { message }

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}

// MARK: - Files

/// What a path names, as `stat` (or `lstat`, which does not follow a final
/// symbolic link) sees it.
enum FileKind: Equatable {
    case missing, regular, directory, symbolicLink, other

    /// What is at `path`, following symbolic links unless `followLinks` is false.
    init(_ path: String, followLinks: Bool = true) {
        var st = stat()
        let rc = followLinks ? stat(path, &st) : lstat(path, &st)
        guard rc == 0 else { self = .missing; return }
        switch st.st_mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symbolicLink
        default: self = .other
        }
    }
}

enum Files {
    /// The largest data set a loader takes: 1 TiB of pixels or text. Such
    /// data is never read whole (ByteStore.swift); the bound only keeps
    /// every offset far from overflow.
    static let maxDatasetBytes = 1 << 40

    /// `directory/name`, without doubling a trailing slash.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The names in `directory` (not "." or ".."), in byte-wise order.
    static func list(_ directory: String) throws(DataError) -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw DataError("cannot list the directory '\(directory)': \(error.localizedDescription)")
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The size of the regular file open as `fd`; an error for a directory or device.
    static func regularFileSize(_ fd: Int32, _ path: String) throws(DataError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DataError("cannot read '\(path)': \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            let what = (st.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
            throw DataError("cannot read '\(path)': it is \(what)")
        }
        return Int(st.st_size)
    }

    /// Reads until `buffer` is full or the file ends; returns the bytes read.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String)
        throws(DataError) -> Int
    {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = systemRead(fd, base + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError("cannot read '\(path)': \(errnoText())")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }
}

/// `read(2)`, named apart from the `read` members that would shadow it.
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

func errnoText() -> String {
    String(cString: strerror(errno))
}

extension Array where Element == UInt8 {
    /// `withUnsafeMutableBytes` for a body that throws DataError (the standard
    /// one rethrows as `any Error`).
    mutating func withBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(DataError) -> R) throws(DataError) -> R {
        try withUnsafeMutableBytes { b in Result { () throws(DataError) -> R in try body(b) } }.get()
    }
}
