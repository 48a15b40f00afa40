// MNIST and Fashion-MNIST: the IDX image files, gzipped or not.
//
// An IDX image file is a 16-byte header — the magic bytes 00 00 08 03
// (unsigned bytes, 3 dimensions), then the image count, rows and columns as
// big-endian UInt32 — followed by exactly count × rows × cols pixel bytes.

import GencSpec

enum IDX {
    /// The images of `split` for fashion-mnist or mnist, from `spec.path`
    /// (a directory, or the image file itself) or the default directory.
    static func load(_ spec: DatasetSpec) throws(DataError) -> ImageSet {
        let name = spec.kind.rawValue
        let fashion = spec.kind == .fashionMNIST
        let missingHint = fashion
            ? "install Debian's package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or give the directory with 'path:'"
            : "give the directory that holds train-images-idx3-ubyte(.gz) with 'path:'"
        guard let path = spec.path ?? (fashion ? Dataset.fashionMNISTDirectory : nil) else {
            throw DataError("the mnist dataset has no default directory", hint: missingHint)
        }
        let base = spec.split == .train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte"
        switch FileKind(path) {
        case .missing:
            throw DataError("the \(name) directory '\(path)' does not exist", hint: missingHint)
        case .regular:
            // A path naming the file itself is read as given, whatever the split.
            return try read(path, name: name)
        case .directory:
            // The plain file is preferred when both exist (no gunzip needed).
            for candidate in [base, base + ".gz"] {
                let file = Files.join(path, candidate)
                if FileKind(file) == .regular { return try read(file, name: name) }
            }
            throw DataError(
                "no \(name) \(spec.split.rawValue) images in '\(path)': looked for \(base) and \(base).gz",
                hint: missingHint)
        case .symbolicLink, .other:
            throw DataError("'\(path)' is neither a directory nor a file of \(name) images", hint: missingHint)
        }
    }

    /// Reads one IDX image file, plain or gzipped.
    ///
    /// Refused before anything is allocated: a header with a 0 dimension (no
    /// images, or images with no pixels), and one whose pixels would exceed
    /// `Files.maxDatasetBytes` (the count × rows × cols product is
    /// overflow-checked). A plain file is checked against its size and then
    /// mapped, not read: its images are paged in as batches use them. A
    /// gzipped one is gunzipped into a `ByteStoreBuilder` as data arrives
    /// (memory up to its limit, then a temporary file), so a corrupt header
    /// cannot make it allocate gigabytes for data that is not there.
    static func read(_ path: String, name: String) throws(DataError) -> ImageSet {
        let stream = try ByteStream(path: path)
        var header = [UInt8](repeating: 0, count: 16)
        let got = try header.withBytes { (b) throws(DataError) -> Int in try stream.read(into: b) }
        guard got == 16 else {
            throw DataError("'\(path)' is truncated: the 16-byte IDX header ends at byte offset \(got)")
        }
        guard header[0] == 0, header[1] == 0, header[2] == 0x08, header[3] == 0x03 else {
            let seen = header[0..<4].map { hex($0) }.joined(separator: " ")
            let detail = header[0] == 0 && header[1] == 0 && header[2] == 0x08 && header[3] == 0x01
                ? " (a file of labels, not images)" : ""
            throw DataError("'\(path)' is not an IDX image file: its magic bytes are \(seen), expected 00 00 08 03\(detail)")
        }
        func dim(_ k: Int) -> UInt64 {
            header[(4 + 4 * k)..<(8 + 4 * k)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        let (count, rows, cols) = (dim(0), dim(1), dim(2))
        guard count > 0, rows > 0, cols > 0 else {
            throw DataError("'\(path)' holds \(count) images of \(rows)×\(cols) pixels: every dimension must be at least 1")
        }
        // Each dimension < 2^32, so rows × cols < 2^64; the full product is checked.
        let (perImage, o1) = rows.multipliedReportingOverflow(by: cols)
        let (total, o2) = perImage.multipliedReportingOverflow(by: count)
        guard !o1, !o2, total <= UInt64(Files.maxDatasetBytes) else {
            throw DataError(
                "'\(path)' claims \(count) images of \(rows)×\(cols) pixels, more than the limit of \(Files.maxDatasetBytes) bytes of pixels")
        }
        let expected = Int(total)
        let after = stream.isGzip ? " of the gunzipped data" : ""
        func truncated(_ end: Int) -> DataError {
            DataError(
                "'\(path)' is truncated: \(expected) bytes of pixels expected after the 16-byte header, the data ends at byte offset \(end)\(after)")
        }
        func trailing() -> DataError {
            DataError("'\(path)' has trailing data: the \(count) images end at byte offset \(16 + expected)\(after), but the file goes on")
        }
        func set(_ store: ByteStore, offset: Int) -> ImageSet {
            ImageSet(name: name, channels: 1, height: Int(rows), width: Int(cols),
                     segments: [ImageSegment(store: store, offset: offset, stride: Int(perImage), count: Int(count))], source: path)
        }
        if !stream.isGzip {
            if stream.fileSize - 16 < expected { throw truncated(stream.fileSize) }
            if stream.fileSize - 16 > expected { throw trailing() }
            let store = try ByteStore.map(path)
            // The file changed between the two opens.
            guard store.count == stream.fileSize else { throw DataError("'\(path)' changed size while it was being opened") }
            return set(store, offset: 16)
        }
        let pixels = ByteStoreBuilder(what: "the gunzipped '\(path)'")
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while pixels.count < expected {
            let want = min(chunk.count, expected - pixels.count)
            let n = try chunk.withBytes { (b) throws(DataError) -> Int in
                try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: b[0..<want]))
            }
            try chunk.withBytes { (b) throws(DataError) in try pixels.append(UnsafeRawBufferPointer(rebasing: b[0..<n])) }
            if n < want { throw truncated(16 + pixels.count) }
        }
        // Reading on to the end also makes inflate check the gzip CRC.
        let extra = try chunk.withBytes { (b) throws(DataError) -> Int in try stream.read(into: b) }
        if extra > 0 { throw trailing() }
        return set(try pixels.finish(), offset: 0)
    }

    private static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}
