// CIFAR-10, the binary version: files of 3073-byte records, each one label
// byte then 3 × 32 × 32 pixel bytes, channel-major (all red, all green, all
// blue), which is already the NCHW layout of one image.

import GencSpec

enum CIFAR10 {
    static let recordBytes = 1 + imageBytes
    static let imageBytes = 3 * 32 * 32
    static let hint =
        "give the directory that holds data_batch_1.bin … data_batch_5.bin and test_batch.bin (CIFAR-10's binary version, cifar-10-batches-bin) with 'path:'"

    /// The images of `spec.split` from `spec.path`: a directory holding the
    /// batch files, or one that contains `cifar-10-batches-bin/`, or a single
    /// batch file (read as given, whatever the split). Train is every
    /// `data_batch_N.bin` present, in numeric order of N (at least one); test
    /// is `test_batch.bin`.
    static func load(_ spec: DatasetSpec) throws(DataError) -> ImageSet {
        guard let path = spec.path else { throw DataError("the cifar10 dataset needs 'path:'", hint: hint) }
        switch FileKind(path) {
        case .missing:
            throw DataError("the cifar10 directory '\(path)' does not exist", hint: hint)
        case .regular:
            return try read([path])
        case .directory:
            var directory = path
            let nested = Files.join(path, "cifar-10-batches-bin")
            if FileKind(nested) == .directory { directory = nested }
            return try read(try files(in: directory, split: spec.split))
        case .symbolicLink, .other:
            throw DataError("'\(path)' is neither a directory nor a CIFAR-10 batch file", hint: hint)
        }
    }

    /// The batch files of `split` in `directory`, in reading order.
    static func files(in directory: String, split: DatasetSpec.Split) throws(DataError) -> [String] {
        if split == .test {
            let file = Files.join(directory, "test_batch.bin")
            guard FileKind(file) == .regular else {
                throw DataError("no cifar10 test images in '\(directory)': looked for test_batch.bin", hint: hint)
            }
            return [file]
        }
        var numbered: [(Int, String)] = []
        for name in try Files.list(directory) where name.hasPrefix("data_batch_") && name.hasSuffix(".bin") {
            let digits = name.dropFirst("data_batch_".count).dropLast(".bin".count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits) else { continue }
            let file = Files.join(directory, name)
            if FileKind(file) == .regular { numbered.append((n, file)) }
        }
        guard !numbered.isEmpty else {
            throw DataError("no cifar10 train images in '\(directory)': looked for data_batch_1.bin, data_batch_2.bin, …", hint: hint)
        }
        return numbered.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The records of `files`, in order: each file mapped, its images read
    /// in place (past each record's label byte) as batches use them.
    static func read(_ files: [String]) throws(DataError) -> ImageSet {
        var segments: [ImageSegment] = []
        var total = 0
        for file in files {
            let bytes = try ByteStore.map(file)
            guard bytes.count > 0 else { throw DataError("the CIFAR-10 batch file '\(file)' is empty") }
            let records = bytes.count / recordBytes
            guard bytes.count == records * recordBytes else {
                throw DataError(
                    "'\(file)' is truncated: \(bytes.count) bytes is not a whole number of \(recordBytes)-byte records; the last, incomplete record starts at byte offset \(records * recordBytes)")
            }
            total += records * imageBytes
            guard total <= Files.maxDatasetBytes else {
                throw DataError("the CIFAR-10 files \(files.joined(separator: ", ")) hold more than \(Files.maxDatasetBytes) bytes of pixels")
            }
            segments.append(ImageSegment(store: bytes, offset: 1, stride: recordBytes, count: records))
        }
        return ImageSet(name: "cifar10", channels: 3, height: 32, width: 32, segments: segments, source: files.joined(separator: ", "))
    }
}
