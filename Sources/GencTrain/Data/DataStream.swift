// One input's batches: which samples make batch b of epoch e, and writing
// them into the input's buffer. Everything is a pure function of (dataset,
// seed, epoch, batch index), so a run resumed from a checkpoint (which keeps
// only the global step and the seed) sees exactly the batches of an
// uninterrupted run.

import Foundation
import GencRuntime

/// One input's stream of batches. Everything is a pure function of (dataset, seed, epoch, batch index),
/// so a run resumed from a checkpoint (which stores only the global step and the seed) sees exactly the
/// same batches as an uninterrupted run.
///
/// Only complete batches are used: the `samples % batch` samples that the
/// epoch's order puts last are left out of that epoch (a different set each
/// epoch when shuffling).
public final class DataStream: @unchecked Sendable {
    private enum Source {
        /// Pixel bytes mapped through `table` (E values per sample).
        case images(ImageSet, table: [Float])
        /// Windows of `length` consecutive ids.
        case text(TextCorpus, length: Int)
    }

    public let batch: Int
    /// Complete batches in every epoch; the remainder is left out. May be 0 (the caller reports it).
    public let batchesPerEpoch: Int
    /// Samples (images, or text windows) in one epoch (epoch 0, for text).
    public let samples: Int
    public let elementsPerBatch: Int

    private let source: Source
    private let elementsPerSample: Int
    private let inputName: String
    private let seed: UInt64
    private let shuffle: Bool

    /// The permutations of the last epochs asked for (at most two: the
    /// prefetch thread may start epoch e + 1 while a batch of e is filled).
    private let lock = NSLock()
    private var cached: [(epoch: Int, order: [Int])] = []

    /// `sampleShape` is the input's shape without the batch dim; `isInteger` says the input is i32 (token ids).
    /// Image datasets: the sample's element count must equal the product of sampleShape (reshape), else DataError.
    /// Image data must feed an f32 input; text must feed an i32 input of rank 2 ([batch, length]).
    /// `shuffle`: training order (a fresh permutation every epoch, from Seeds.derive(seed, "data.\(inputName).epoch.\(epoch)"));
    /// false: dataset order (evaluation).
    public init(dataset: Dataset, inputName: String, batch: Int, sampleShape: [Int], isInteger: Bool,
                scale: (low: Double, high: Double), seed: UInt64, shuffle: Bool) throws(DataError)
    {
        let shapeText = "[\(([batch] + sampleShape).map(String.init).joined(separator: ", "))]"
        guard batch >= 1 else { throw DataError("input '\(inputName)' has batch size \(batch): it must be at least 1") }
        var perSample = 1
        for d in sampleShape {
            let (p, overflow) = perSample.multipliedReportingOverflow(by: d)
            guard d >= 1, !overflow else {
                throw DataError("input '\(inputName)' is \(shapeText): every dimension must be at least 1")
            }
            perSample = p
        }
        let (perBatch, overflow) = perSample.multipliedReportingOverflow(by: batch)
        guard !overflow else { throw DataError("input '\(inputName)' is \(shapeText): too many values per batch") }

        self.batch = batch
        self.inputName = inputName
        self.seed = seed
        self.shuffle = shuffle
        elementsPerSample = perSample
        elementsPerBatch = perBatch

        switch dataset {
        case let .images(set):
            guard !isInteger else {
                throw DataError("input '\(inputName)' is i32 but \(dataset.label) feed an f32 input")
            }
            guard perSample == set.elementCount else {
                throw DataError(
                    "input '\(inputName)' is \(shapeText) (\(perSample) values per sample) but \(dataset.label) have \(set.elementCount) values")
            }
            if let problem = set.inconsistency { throw DataError("\(set.source): \(problem)") }
            let (low, high) = scale
            let table = (0...255).map { v in Float(low + (high - low) * Double(v) / 255) }
            source = .images(set, table: table)
            samples = set.count
            batchesPerEpoch = set.count / batch

        case let .text(corpus):
            guard isInteger, sampleShape.count == 1 else {
                throw DataError(
                    "input '\(inputName)' is \(isInteger ? "i32" : "f32") \(shapeText) but \(dataset.label) feeds token ids: an i32 input of shape [batch, length]")
            }
            let length = sampleShape[0]
            source = .text(corpus, length: length)
            let n = corpus.count
            samples = Self.windows(n, length, phase: shuffle ? Self.phase(seed, inputName, epoch: 0, length: length) : 0)
            // Shuffled epochs start at a phase in 0..<length, and a later phase
            // can fit one window fewer; counting with the worst phase (length - 1)
            // gives every epoch the same number of batches.
            batchesPerEpoch = Self.windows(n, length, phase: shuffle ? length - 1 : 0) / batch
        }
    }

    /// Writes batch `index` (0..<batchesPerEpoch) of `epoch` into `destination`
    /// (elementsPerBatch Floats, or Int32s when the input is an integer input).
    /// Thread-safe; it allocates only the first time it meets an epoch (the
    /// epoch's permutation, when shuffling).
    public func fill(epoch: Int, batch index: Int, into destination: UnsafeMutableRawPointer) {
        precondition(epoch >= 0 && (0..<batchesPerEpoch).contains(index),
                     "DataStream.fill: batch \(index) of epoch \(epoch) is out of range (\(batchesPerEpoch) batches per epoch)")
        let order = shuffle ? permutation(epoch) : []
        let e = elementsPerSample
        switch source {
        case let .images(set, table):
            let out = destination.assumingMemoryBound(to: Float.self)
            table.withUnsafeBufferPointer { t in
                for b in 0..<batch {
                    let j = index * batch + b
                    let px = set.image(shuffle ? order[j] : j)
                    let dst = out + b * e
                    for k in 0..<e { dst[k] = t[Int(px[k])] }
                }
            }
        case let .text(corpus, length):
            let out = destination.assumingMemoryBound(to: Int32.self)
            let phase = shuffle ? Self.phase(seed, inputName, epoch: epoch, length: length) : 0
            for b in 0..<batch {
                let j = index * batch + b
                let window = shuffle ? order[j] : j
                corpus.ids(from: phase + window * length, count: length, into: out + b * length)
            }
        }
    }

    // MARK: - Order

    /// Windows of `length` that fit in `n` ids when the first starts at `phase`.
    private static func windows(_ n: Int, _ length: Int, phase: Int) -> Int {
        n > phase ? (n - phase) / length : 0
    }

    private static func phase(_ seed: UInt64, _ inputName: String, epoch: Int, length: Int) -> Int {
        Int(Seeds.derive(seed, "data.\(inputName).phase.\(epoch)") % UInt64(length))
    }

    /// The samples (or windows) of `epoch` in training order.
    private func permutation(_ epoch: Int) -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        if let hit = cached.first(where: { $0.epoch == epoch }) { return hit.order }
        let count: Int
        switch source {
        case .images: count = samples
        case let .text(corpus, length):
            count = Self.windows(corpus.count, length, phase: Self.phase(seed, inputName, epoch: epoch, length: length))
        }
        let order = Self.shuffled(count, seed: Seeds.derive(seed, "data.\(inputName).epoch.\(epoch)"))
        if cached.count >= 2 { cached.removeFirst() }
        cached.append((epoch, order))
        return order
    }

    /// A permutation of 0..<count: Fisher–Yates driven by SplitMix64.
    /// One allocation of exactly `count` Ints, written in place (a debug
    /// build's `Array(0..<count)` grows its buffer, and under ASan the freed
    /// buffers stay resident in the quarantine: 485 MiB for 6.8 M samples).
    static func shuffled(_ count: Int, seed: UInt64) -> [Int] {
        [Int](unsafeUninitializedCapacity: count) { order, initialized in
            for k in 0..<count { order[k] = k }
            var rng = SplitMix64(seed)
            var i = count - 1
            while i > 0 {
                let j = rng.next(below: i + 1)
                order.swapAt(i, j)
                i -= 1
            }
            initialized = count
        }
    }
}
