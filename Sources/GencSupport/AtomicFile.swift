// Every file genc writes (checkpoints, samples, plots, gradients) goes
// through here, so that a crash, a full disk or a kill never leaves a
// half-written file: the bytes go to a new temporary file in the same
// directory, are fsync'd, and only then renamed over the target. Errors are
// values.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be written (or a directory that could not be made).
public struct OutputError: Error, CustomStringConvertible, Equatable {
    /// "cannot write 'PATH': reason", "cannot create directory 'PATH': reason",
    /// or, for encoders that have no path, "cannot encode PNG: reason".
    public var message: String
    public var description: String { message }

    public init(_ message: String) {
        self.message = message
    }
}

/// Atomic file writes and `mkdir -p`.
public enum AtomicFile {
    // MARK: - Writing

    /// Writes `bytes` to `path` atomically: a new temporary file in the same
    /// directory (O_EXCL, unique name ".NAME.tmp-PID-RANDOM"), fsync, rename
    /// over `path`, best-effort fsync of the directory. On any failure the
    /// temporary is removed and whatever was at `path` is untouched.
    ///
    /// The new file's mode is 0o666 & ~umask. A symbolic link at `path` is
    /// replaced by the file, not followed.
    public static func write(_ bytes: [UInt8], to path: String) throws(OutputError) {
        try write(parts: [bytes], to: path)
    }

    /// The concatenation of `parts`, written atomically as above (a
    /// safetensors header and its tensors, without copying them into one buffer).
    public static func write(parts: [[UInt8]], to path: String) throws(OutputError) {
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !base.isEmpty else { throw OutputError("cannot write '\(path)': not a file name") }

        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<100 {
            let tag = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            temporary = "\(directory).\(base).tmp-\(getpid())-\(tag)"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw OutputError("cannot write '\(path)': cannot create a temporary file: \(systemError())")
        }
        func fail(_ what: String) -> OutputError {
            let e = OutputError("cannot write '\(path)': \(what)")
            if fd >= 0 { close(fd); fd = -1 }
            unlink(temporary)
            return e
        }
        for bytes in parts {
            if let problem = writeFully(fd, bytes) { throw fail("write: \(problem)") }
        }
        if fsync(fd) != 0 { throw fail("fsync: \(systemError())") }
        let closed = close(fd)
        fd = -1
        if closed != 0 { throw fail("close: \(systemError())") }
        if rename(temporary, path) != 0 { throw fail("rename: \(systemError())") }
        // Make the rename itself durable; not every file system allows fsync
        // on a directory, and the file is already in place: best effort.
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }

    /// Writes `text` as UTF-8 (no byte-order mark), atomically as above.
    public static func write(_ text: String, to path: String) throws(OutputError) {
        try write(Array(text.utf8), to: path)
    }

    // MARK: - Directories

    /// `mkdir -p`: creates each missing component of `path` with mode
    /// 0o777 & ~umask. An existing directory (or a symbolic link to one) is
    /// fine; an existing non-directory anywhere along the path is an error.
    /// Safe against another process creating the same directories at once.
    public static func createDirectory(_ path: String) throws(OutputError) {
        guard !path.isEmpty else { throw OutputError("cannot create directory '': empty path") }
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += component
            if mkdir(prefix, 0o777) != 0 {
                let code = errno
                if code == EEXIST {
                    guard isDirectory(prefix) else {
                        throw OutputError("cannot create directory '\(path)': '\(prefix)' exists and is not a directory")
                    }
                } else {
                    throw OutputError("cannot create directory '\(path)': '\(prefix)': \(systemError(code))")
                }
            }
            prefix += "/"
        }
    }

    // MARK: - Helpers

    /// Whether `path` names a directory, following symbolic links.
    private static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// `strerror` of `code` (default: the current `errno`).
    private static func systemError(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and EINTR;
    /// returns what went wrong, or nil.
    private static func writeFully(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        var done = 0
        while done < bytes.count {
            // The loop runs only while bytes remain, so the base is not nil.
            let n = bytes.withUnsafeBytes { buf -> Int in
                guard let base = buf.baseAddress else { return 0 }
                return systemWrite(fd, base + done, bytes.count - done)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return systemError()
            }
            if n == 0 { return "no progress (write returned 0)" }
            done += n
        }
        return nil
    }
}

/// `write(2)`, named apart from `AtomicFile.write`, which would shadow it.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
