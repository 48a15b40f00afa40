// The datasets a `train: data:` binding names (LANGUAGE.md §6), loaded whole
// into memory: images as bytes, text as token ids.

import GencSpec

/// Images as bytes 0...255, NCHW-contiguous per image (C*H*W bytes each).
public struct ImageSet: Sendable {
    /// The dataset's name in messages ("fashion-mnist", "cifar10", ...).
    public var name: String
    public var count: Int
    public var channels: Int, height: Int, width: Int
    /// count * channels * height * width bytes.
    public var pixels: [UInt8]
    public var elementCount: Int { channels * height * width }
    /// The file(s) read, for messages.
    public var source: String

    public init(name: String, count: Int, channels: Int, height: Int, width: Int, pixels: [UInt8], source: String) {
        self.name = name
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.source = source
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
