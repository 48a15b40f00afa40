// The `text` dataset: a file or a directory of text, as token ids, and the
// two encodings that turn bytes into ids and back.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GencSpec

/// A text corpus as token ids: `count` bytes of `store` from byte `start`
/// (one split of the corpus), each encoded to an id as a batch reads it.
public struct TextCorpus: Sendable {
    public let store: ByteStore
    public let start: Int
    /// Ids in this split (one per byte).
    public let count: Int
    public let encoding: DatasetSpec.TextEncoding
    /// 98 for ascii98, 256 for bytes.
    public var vocabulary: Int { encoding == .ascii98 ? 98 : 256 }
    public var source: String
    /// Bytes read (the whole corpus, before the split).
    public var bytes: Int
    /// The id of every byte value.
    private let table: [Int32]

    public init(store: ByteStore, start: Int, count: Int, encoding: DatasetSpec.TextEncoding, source: String, bytes: Int) {
        precondition(start >= 0 && count >= 0 && start <= store.count - count, "TextCorpus: \(start)+\(count) is outside the \(store.count) bytes")
        self.store = store
        self.start = start
        self.count = count
        self.encoding = encoding
        self.source = source
        self.bytes = bytes
        table = Dataset.encode((0...255).map { UInt8($0) }, encoding)
    }

    /// Writes ids `from..<from + n` of this split to `out`.
    public func ids(from: Int, count n: Int, into out: UnsafeMutablePointer<Int32>) {
        precondition(from >= 0 && n >= 0 && from <= count - n, "TextCorpus.ids: \(from)+\(n) is outside 0..<\(count)")
        let src = store.base + start + from
        table.withUnsafeBufferPointer { t in
            for k in 0..<n { out[k] = t[Int(src[k])] }
        }
    }

    /// Every id of this split, as one array: a copy, for tests and small corpora.
    public func copyIDs() -> [Int32] {
        [Int32](unsafeUninitializedCapacity: count) { buf, n in
            if let b = buf.baseAddress { ids(from: 0, count: count, into: b) }
            n = count
        }
    }
}

extension TextCorpus {
    /// Where Debian's package fortunes puts its files (the reference corpus).
    static let fortunesDirectory = "/usr/share/games/fortunes"

    /// The fraction of the corpus (in ids, from the start) that is the train split.
    static let trainFraction = 0.95

    /// Loads `spec.path` and returns the split `spec.split`: train is the first
    /// `Int(Double(n) * 0.95)` ids (as Python's `int(len(ids) * 0.95)`), test the rest.
    static func load(_ spec: DatasetSpec) throws(DataError) -> TextCorpus {
        guard let path = spec.path else {
            throw DataError("the text dataset needs 'path:', a text file or a directory of text files",
                            hint: missingHint(Self.fortunesDirectory))
        }
        let (store, source) = try read(path)
        let n = store.count
        let cut = Int(Double(n) * trainFraction)
        let (start, count) = spec.split == .train ? (0, cut) : (cut, n - cut)
        return TextCorpus(store: store, start: start, count: count, encoding: spec.encoding, source: source, bytes: n)
    }

    /// The corpus bytes at `path` and a description of what was read.
    ///
    /// A file is mapped whole, whatever it holds. A directory contributes its
    /// regular files (no subdirectories), joined in byte-wise name order
    /// (in memory, or past `ByteStoreBuilder.memoryLimit` in a temporary
    /// file), skipping
    /// - hidden files (a name starting with "."),
    /// - symbolic links, so a file linked under two names is read once
    ///   (Debian's fortunes has `art.u8 -> art`),
    /// - binary files: any file holding a NUL byte (fortune's `.dat` indexes).
    /// On /usr/share/games/fortunes this reads the 43 files without a dot,
    /// 2,576,674 bytes: the reference corpus.
    static func read(_ path: String) throws(DataError) -> (store: ByteStore, source: String) {
        switch FileKind(path) {
        case .missing:
            throw DataError("the text path '\(path)' does not exist", hint: missingHint(path))
        case .regular:
            let store = try ByteStore.map(path)
            guard store.count > 0 else { throw DataError("the text file '\(path)' is empty") }
            guard store.count <= Files.maxDatasetBytes else { throw DataError("'\(path)' is \(store.count) bytes, more than the limit of \(Files.maxDatasetBytes)") }
            return (store, path)
        case .directory:
            let joined = ByteStoreBuilder(what: "the text files of '\(path)'")
            var files = 0
            for name in try Files.list(path) where !name.hasPrefix(".") {
                let file = Files.join(path, name)
                guard FileKind(file, followLinks: false) == .regular else { continue }
                let content = try ByteStore.map(file)
                guard memchr(content.base, 0, content.count) == nil else { continue }
                guard joined.count <= Files.maxDatasetBytes - content.count else {
                    throw DataError("the text files of '\(path)' hold more than the limit of \(Files.maxDatasetBytes) bytes")
                }
                try joined.append(UnsafeRawBufferPointer(start: content.base, count: content.count))
                files += 1
            }
            guard files > 0, joined.count > 0 else {
                throw DataError(
                    "no text in the directory '\(path)': it holds no non-empty regular file without a NUL byte whose name does not start with '.'",
                    hint: missingHint(path))
            }
            return (try joined.finish(), "\(path) (\(files) file\(files == 1 ? "" : "s"))")
        case .symbolicLink, .other:
            throw DataError("the text path '\(path)' is neither a file nor a directory")
        }
    }

    static func missingHint(_ path: String) -> String {
        var p = path
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        if p == fortunesDirectory {
            return "install Debian's package fortunes (apt-get install fortunes), or give a text file or directory with 'path:'"
        }
        return "give a text file, or a directory of text files, with 'path:'"
    }
}

// MARK: - Encodings

extension Dataset {
    /// Encodes text bytes as the encoding says (ascii98: '\n' → 0, '\t' → 1,
    /// bytes 32...126 → 3...97, any other byte → 2; bytes: identity).
    public static func encode(_ bytes: [UInt8], _ encoding: DatasetSpec.TextEncoding) -> [Int32] {
        switch encoding {
        case .bytes:
            return bytes.map { Int32($0) }
        case .ascii98:
            return bytes.map { b in
                switch b {
                case 10: return 0
                case 9: return 1
                case 32...126: return Int32(b) - 29
                default: return 2
                }
            }
        }
    }

    /// The inverse, for printing sampled text: one byte per id. ascii98's 2
    /// ("any other byte") has no inverse and prints as '?', the stand-in an
    /// ASCII terminal shows for an unknown character; so does any id outside
    /// the vocabulary (ascii98: 0...97, bytes: 0...255).
    public static func decode(_ ids: [Int32], _ encoding: DatasetSpec.TextEncoding) -> [UInt8] {
        let unknown = UInt8(ascii: "?")
        switch encoding {
        case .bytes:
            return ids.map { (0...255).contains($0) ? UInt8($0) : unknown }
        case .ascii98:
            return ids.map { id in
                switch id {
                case 0: return 10
                case 1: return 9
                case 3...97: return UInt8(id + 29)
                default: return unknown
                }
            }
        }
    }
}
