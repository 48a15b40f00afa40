// The datasets a `train: data:` binding names (LANGUAGE.md §6): images as
// bytes, text as bytes encoded to token ids as batches are made. Neither is
// copied into memory when it is a plain file: the samples are read from a
// read-only mapping of the file (ByteStore.swift), so a data set larger than
// memory trains.

import GencSpec

/// Images as bytes 0...255, NCHW-contiguous per image (C*H*W bytes each),
/// in runs (`ImageSegment`) that lie in one or more byte stores.
public struct ImageSet: Sendable {
    /// The dataset's name in messages ("fashion-mnist", "cifar10", ...).
    public var name: String
    /// The images in all segments.
    public let count: Int
    public let channels: Int, height: Int, width: Int
    /// The images, in order: segment k holds images starts[k]..<starts[k] + segments[k].count.
    public let segments: [ImageSegment]
    private let starts: [Int]
    public var elementCount: Int { channels * height * width }
    /// The file(s) read, for messages.
    public var source: String

    /// `count` images held in memory: `pixels` has count * C*H*W bytes.
    public init(name: String, count: Int, channels: Int, height: Int, width: Int, pixels: [UInt8], source: String) {
        let perImage = channels * height * width
        self.init(name: name, channels: channels, height: height, width: width,
                  segments: [ImageSegment(store: ByteStore(copying: pixels), offset: 0, stride: perImage, count: count)], source: source)
    }

    /// The images of `segments`, in order.
    public init(name: String, channels: Int, height: Int, width: Int, segments: [ImageSegment], source: String) {
        self.name = name
        self.channels = channels
        self.height = height
        self.width = width
        self.segments = segments
        var starts: [Int] = []
        var total = 0
        for s in segments { starts.append(total); total += s.count }
        self.starts = starts
        self.count = total
        self.source = source
    }

    /// Every image lies inside its store (`DataStream` checks this once
    /// before reading any): nil, or what is wrong.
    public var inconsistency: String? {
        let e = elementCount
        for (k, s) in segments.enumerated() {
            guard s.count >= 0, s.offset >= 0, s.stride >= e else { return "run \(k) of images has count \(s.count), offset \(s.offset), stride \(s.stride)" }
            guard s.count > 0 else { continue }
            let (span, o1) = (s.count - 1).multipliedReportingOverflow(by: s.stride)
            let (end, o2) = span.addingReportingOverflow(s.offset + e)
            guard !o1, !o2, end <= s.store.count else {
                return "\(s.count) images of \(e) bytes from byte \(s.offset) every \(s.stride) bytes need more than the \(s.store.count) bytes there"
            }
        }
        return nil
    }

    /// The first byte of image `i` (0..<count).
    public func image(_ i: Int) -> UnsafePointer<UInt8> {
        precondition(i >= 0 && i < count, "ImageSet.image: \(i) is outside 0..<\(count)")
        var k = segments.count - 1
        while starts[k] > i { k -= 1 }
        let s = segments[k]
        return s.store.base + s.offset + (i - starts[k]) * s.stride
    }

    /// Every pixel, as one array: a copy, for tests and small sets.
    public func copyPixels() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count * elementCount)
        for i in 0..<count { out.append(contentsOf: UnsafeBufferPointer(start: image(i), count: elementCount)) }
        return out
    }

    /// True when no image is held in process memory (every run is a file mapping).
    public var isMapped: Bool { segments.allSatisfy { $0.store.isMapped } }
}

/// `count` images of a store, the first at byte `offset`, one every `stride`
/// bytes (a CIFAR-10 record has a label byte before each image).
public struct ImageSegment: Sendable {
    public var store: ByteStore
    public var offset: Int
    public var stride: Int
    public var count: Int
    public init(store: ByteStore, offset: Int, stride: Int, count: Int) {
        self.store = store
        self.offset = offset
        self.stride = stride
        self.count = count
    }
}

public enum Dataset: Sendable {
    case images(ImageSet)
    case text(TextCorpus)

    /// The default directory of Debian's dataset-fashion-mnist.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    /// Loads the split that `spec` names (spec.split), from spec.path or the default place.
    public static func load(_ spec: DatasetSpec) throws(DataError) -> Dataset {
        switch spec.kind {
        case .fashionMNIST, .mnist: return .images(try IDX.load(spec))
        case .cifar10: return .images(try CIFAR10.load(spec))
        case .shapes: return .images(Shapes.images(spec.split))
        case .text: return .text(try TextCorpus.load(spec))
        }
    }

    /// What the dataset is, for messages: "fashion-mnist images", "text from PATH".
    var label: String {
        switch self {
        case let .images(set): return "\(set.name) images"
        case let .text(corpus): return "text from \(corpus.source)"
        }
    }
}
