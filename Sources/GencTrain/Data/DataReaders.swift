// Each data-file reader alone, by format, for tools that exercise one of
// them directly (genc's fuzz targets, Fuzz/GencFuzz) rather than through a
// model's `data:` section.

import GencSpec

/// The data readers, one file each. Every one of them reports bad input as a
/// `DataError` naming the file; none traps, hangs or allocates more than the
/// file can justify.
public enum DataReaders {
    /// An IDX image file (MNIST, Fashion-MNIST), plain or gzipped.
    public static func idxImages(path: String) throws(DataError) -> ImageSet {
        try IDX.read(path, name: "fuzz")
    }

    /// One CIFAR-10 binary batch file.
    public static func cifar10(path: String) throws(DataError) -> ImageSet {
        try CIFAR10.read([path])
    }

    /// A text corpus file (or directory), encoded for the model.
    public static func text(path: String, encoding: DatasetSpec.TextEncoding) throws(DataError) -> [Int32] {
        let store = try TextCorpus.read(path).store
        return Dataset.encode(store.copy(0..<store.count), encoding)
    }

    /// The bytes of a file, gunzipped when it starts with the gzip magic,
    /// read until the end or `limit` bytes (the rest is not read).
    public static func gunzip(path: String, limit: Int) throws(DataError) -> [UInt8] {
        let stream = try ByteStream(path: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(0, limit), alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < buffer.count {
            let n = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return Array(buffer[..<filled])
    }
}
