// Reading a file's bytes in order, gunzipped on the fly (zlib's inflate, in
// 64 KiB chunks) when the file starts with the gzip magic bytes 1f 8b, so a
// loader reads `foo` and `foo.gz` alike and never holds the compressed file
// in memory. Corrupt data is reported with its compressed byte offset.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// A file's bytes, plain or gunzipped. Reading ends cleanly only at the end of
/// the file and, for gzip, at the end of a gzip member (whose CRC-32 and length
/// inflate has checked); concatenated members are read one after another, as
/// gunzip(1) does.
final class ByteStream {
    let path: String
    /// The file starts with the gzip magic bytes.
    let isGzip: Bool
    /// The file's size on disk (compressed, for gzip).
    let fileSize: Int

    private static let chunkBytes = 1 << 16
    private let fd: Int32
    private let input: UnsafeMutablePointer<UInt8>
    /// Plain files: the unread part of the first chunk, input[inputStart..<inputEnd].
    private var inputStart = 0, inputEnd = 0
    /// Gzip: the file offset of input[0] and the length of the chunk there.
    private var chunkOffset = 0, chunkLength = 0
    private var stream: UnsafeMutablePointer<z_stream>?
    /// Gzip: inflate reported the end of a member, and no next member has begun.
    private var memberEnded = false
    private var finished = false

    /// Opens `path`, which must be a regular file.
    init(path: String) throws(DataError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError("cannot open '\(path)': \(errnoText())") }
        let size: Int
        do { size = try Files.regularFileSize(fd, path) } catch {
            close(fd)
            throw error
        }
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.chunkBytes)
        let first: Int
        do {
            first = try Files.readFully(fd, into: UnsafeMutableRawBufferPointer(start: input, count: Self.chunkBytes), path: path)
        } catch {
            input.deallocate()
            close(fd)
            throw error
        }
        self.fd = fd
        self.input = input
        self.fileSize = size
        self.isGzip = first >= 2 && input[0] == 0x1F && input[1] == 0x8B
        inputEnd = first
        guard isGzip else { return }

        let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        s.initialize(to: z_stream())
        // windowBits 15 + 32: the largest window, and the header (gzip or zlib) detected.
        let rc = inflateInit2_(s, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            s.deallocate()
            throw DataError("cannot gunzip '\(path)': zlib's inflateInit2 failed (code \(rc))")
        }
        stream = s
        chunkLength = first
        s.pointee.next_in = input
        s.pointee.avail_in = UInt32(first)
    }

    deinit {
        if let stream {
            inflateEnd(stream)
            stream.deallocate()
        }
        input.deallocate()
        close(fd)
    }

    /// The compressed bytes inflate has consumed (gzip), for messages.
    var compressedOffset: Int {
        guard let stream else { return 0 }
        return chunkOffset + chunkLength - Int(stream.pointee.avail_in)
    }

    /// Reads until `buffer` is full or the data ends; returns the bytes read.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DataError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0, !finished else { return 0 }
        guard let stream else { return try readPlain(base, buffer.count) }
        var produced = 0
        while produced < buffer.count {
            if memberEnded {
                if stream.pointee.avail_in == 0 { try refill(stream) }
                if stream.pointee.avail_in == 0 { finished = true; break }
                inflateReset(stream)  // another member follows
                memberEnded = false
            }
            if stream.pointee.avail_in == 0 {
                try refill(stream)
                if stream.pointee.avail_in == 0 {
                    throw DataError(
                        "'\(path)' is truncated: the gzip data ends at byte offset \(fileSize) before the end of its compressed stream")
                }
            }
            let want = min(buffer.count - produced, Int(UInt32.max))
            stream.pointee.next_out = (base + produced).assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(want)
            let hadInput = stream.pointee.avail_in
            let rc = inflate(stream, Z_NO_FLUSH)
            produced += want - Int(stream.pointee.avail_out)
            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                memberEnded = true
            case Z_BUF_ERROR where hadInput == 0:
                continue  // it needs more input: the loop refills
            case Z_MEM_ERROR:
                throw DataError("cannot gunzip '\(path)': out of memory")
            default:
                let zmsg = stream.pointee.msg.map { String(cString: $0) } ?? "error code \(rc)"
                throw DataError("'\(path)': corrupt gzip data at byte offset \(compressedOffset) (zlib: \(zmsg))")
            }
        }
        return produced
    }

    /// Reads the next compressed chunk into `input`; leaves avail_in 0 at the end of the file.
    private func refill(_ stream: UnsafeMutablePointer<z_stream>) throws(DataError) {
        chunkOffset += chunkLength
        let n = try Files.readFully(fd, into: UnsafeMutableRawBufferPointer(start: input, count: Self.chunkBytes), path: path)
        chunkLength = n
        stream.pointee.next_in = input
        stream.pointee.avail_in = UInt32(n)
    }

    private func readPlain(_ base: UnsafeMutableRawPointer, _ count: Int) throws(DataError) -> Int {
        let buffered = min(count, inputEnd - inputStart)
        if buffered > 0 {
            base.copyMemory(from: input + inputStart, byteCount: buffered)
            inputStart += buffered
        }
        guard buffered < count else { return buffered }
        let direct = try Files.readFully(fd, into: UnsafeMutableRawBufferPointer(start: base + buffered, count: count - buffered), path: path)
        if buffered + direct < count { finished = true }
        return buffered + direct
    }
}
