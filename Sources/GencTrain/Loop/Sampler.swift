import Foundation
import GencIR
import GencLower
import GencPlan
import GencRuntime
import GencSpec
import GencSupport

/// What `sample:` asks for, run on the model's current weights: the image
/// program (batchnorm on running statistics, dropout off) tiled into a PNG
/// grid or written as N single images, and the one-step text program
/// carrying each LSTM's state from one character to the next.
public final class Sampler {
    let spec: ModelSpec
    let threads: Int
    let images: Executable?
    let reconstructions: Executable?
    let text: Executable?
    /// Pixel range of the images: the inverse of the data's `scale:`.
    public let range: (low: Double, high: Double)
    let encoding: DatasetSpec.TextEncoding

    /// Binds the sampling programs to `store` (the trainer's, or one loaded from weights).
    public init(spec: ModelSpec, plans: [String: Plan], store: ParameterStore, threads: Int) throws {
        self.spec = spec
        self.threads = threads
        func load(_ mode: String) throws -> Executable? {
            let name = Lowering.programName(.sample, mode)
            guard let plan = plans[name] else { return nil }
            return try Executable(plan: plan, store: store, threads: threads)
        }
        images = spec.sample?.images == nil ? nil : try load("images")
        reconstructions = spec.sample?.reconstructions == nil ? nil : try load("reconstructions")
        text = spec.sample?.text == nil ? nil : try load("text")
        let imageData = spec.train?.data.first { $0.dataset.kind != .text }
        range = imageData.map { $0.dataset.scale } ?? (0, 1)
        let textFrom = spec.sample?.text?.from.value
        encoding = spec.train?.data.first { $0.input.value == textFrom }?.dataset.encoding ?? .ascii98
    }

    public var hasImages: Bool { images != nil }
    public var hasReconstructions: Bool { reconstructions != nil }
    public var hasText: Bool { text != nil }

    /// The shape of one sampled image (channels, height, width) and the
    /// images each run of the program makes.
    public var imageGeometry: (batch: Int, channels: Int, height: Int, width: Int)? {
        guard let exe = images, let out = exe.outputBuffer("images") else { return nil }
        let s = out.type.shape
        if s.count == 4 { return (s[0], s[1], s[2], s[3]) }
        let side = Int(Double(s[1]).squareRoot().rounded())
        return (s[0], 1, side, side)
    }

    /// Runs the image program until `count` images are made; run `k` draws
    /// its noise from `Seeds.derive(seed, "sample.k")`.
    func sampleImages(count: Int, seed: UInt64, _ consume: (UnsafeBufferPointer<Float>, Int) throws -> Void) throws {
        guard let exe = images, let g = imageGeometry, let out = exe.outputBuffer("images") else { return }
        let per = g.channels * g.height * g.width
        var made = 0, run = 0
        while made < count {
            let s = Seeds.derive(seed, "sample.\(run)")
            try feedNoise(exe, seed: s)
            try exe.run(seed: Seeds.derive(s, "random"))
            let n = min(g.batch, count - made)
            try consume(UnsafeBufferPointer(start: out.pointer.assumingMemoryBound(to: Float.self), count: n * per), n)
            made += n
            run += 1
        }
    }

    func feedNoise(_ exe: Executable, seed: UInt64) throws {
        for i in exe.plan.inputs {
            guard let noise = spec.input(named: i.name)?.noise else {
                throw RuntimeError("sampling reads input '\(i.name)', which is not noise")
            }
            try exe.sampleInput(i.name, noise.distribution, seed: seed)
        }
    }

    /// The grid `sample.images` asks for (rows × columns cells), as PNG, to `path`.
    public func writeGrid(to path: String, seed: UInt64) throws {
        guard let g = imageGeometry, let grid = spec.sample?.images?.grid else { return }
        let cells = grid.rows * grid.columns
        let per = g.channels * g.height * g.width
        var all = [Float](repeating: 0, count: cells * per)
        var at = 0
        try sampleImages(count: cells, seed: Seeds.derive(seed, "grid")) { b, n in
            for k in 0..<(n * per) { all[at + k] = b[k] }
            at += n * per
        }
        let image = all.withUnsafeBufferPointer {
            ImageGrid.compose($0, count: cells, channels: g.channels, height: g.height, width: g.width,
                              rows: grid.rows, columns: grid.columns, range: range)
        }
        try AtomicFile.write(try PNG.encode(pixels: image.pixels, width: image.width, height: image.height, channels: image.channels), to: path)
    }

    /// The first rows × columns images of the test split of the input that
    /// `sample: reconstructions:` reads, each row of them above a row of
    /// their reconstructions, as PNG to `path` (2 × rows rows in all).
    public func writeReconstructions(to path: String, seed: UInt64) throws {
        guard let exe = reconstructions, let r = spec.sample?.reconstructions, let out = exe.outputBuffer("images"),
              let input = exe.inputBuffer(r.input.value), let binding = spec.train?.data.first(where: { $0.input.value == r.input.value }) else { return }
        var test = binding.dataset
        test.split = .test
        let stream: DataStream
        do {
            let shape = input.type.shape
            stream = try DataStream(dataset: try Dataset.load(test), inputName: r.input.value, batch: shape.first ?? 1,
                                    sampleShape: Array(shape.dropFirst()), isInteger: false, scale: test.scale, seed: seed, shuffle: false)
        } catch {
            throw Diagnostic(id: "dataset", message: error.message, at: binding.dataset.range, notes: error.hint.map { [Diagnostic.Note($0, at: nil)] } ?? [])
        }
        let s = out.type.shape
        let (channels, height, width) = s.count == 4 ? (s[1], s[2], s[3]) : (1, Int(Double(s[1]).squareRoot().rounded()), Int(Double(s[1]).squareRoot().rounded()))
        let per = channels * height * width
        guard stream.batchesPerEpoch >= 1 else {
            throw Diagnostic(id: "dataset", message: "reconstructions need one batch of \(stream.batch) test images, but the test split has \(stream.samples)", at: r.range)
        }
        let wanted = min(r.grid.rows * r.grid.columns, stream.batchesPerEpoch * stream.batch)
        var originals = [Float](), made = [Float]()
        originals.reserveCapacity(wanted * per)
        made.reserveCapacity(wanted * per)
        var batch = 0
        while originals.count < wanted * per {
            stream.fill(epoch: 0, batch: batch, into: input.pointer)
            let bs = Seeds.derive(seed, "reconstructions.\(batch)")
            for i in exe.plan.inputs where i.name != r.input.value {
                guard let noise = spec.input(named: i.name)?.noise else { throw RuntimeError("reconstructions read input '\(i.name)', which is not noise") }
                try exe.sampleInput(i.name, noise.distribution, seed: bs)
            }
            try exe.run(seed: Seeds.derive(bs, "random"))
            let n = min(stream.batch, wanted - originals.count / per)
            originals += UnsafeBufferPointer(start: input.pointer.assumingMemoryBound(to: Float.self), count: n * per)
            made += UnsafeBufferPointer(start: out.pointer.assumingMemoryBound(to: Float.self), count: n * per)
            batch += 1
        }
        let columns = r.grid.columns
        var tiles = [Float](repeating: .nan, count: 2 * r.grid.rows * columns * per)
        for k in 0..<wanted {
            let row = k / columns, col = k % columns
            for j in 0..<per {
                tiles[((2 * row) * columns + col) * per + j] = originals[k * per + j]
                tiles[((2 * row + 1) * columns + col) * per + j] = made[k * per + j]
            }
        }
        let image = tiles.withUnsafeBufferPointer {
            ImageGrid.compose($0, count: 2 * r.grid.rows * columns, channels: channels, height: height, width: width,
                              rows: 2 * r.grid.rows, columns: columns, range: range)
        }
        try AtomicFile.write(try PNG.encode(pixels: image.pixels, width: image.width, height: image.height, channels: image.channels), to: path)
    }

    /// `count` samples as single PNG files `000000.png`... in `directory`
    /// (made anew: written next to it, then renamed into place) and as one
    /// tensor `samples` [count, C, H, W] in the safetensors file `tensorPath`.
    public func writeSamples(count: Int, directory: String, tensorPath: String, seed: UInt64) throws {
        guard let g = imageGeometry else { throw RuntimeError("the model has no image sampler ('sample: images:')") }
        let per = g.channels * g.height * g.width
        let (total, overflow) = count.multipliedReportingOverflow(by: per)
        guard !overflow, total <= 1 << 31 else { throw RuntimeError("--count \(count) images of \(per) values is more than genc writes at once (2^31 values)") }
        let fm = FileManager.default
        let parent = (directory as NSString).deletingLastPathComponent
        try AtomicFile.createDirectory(parent.isEmpty ? "." : parent)
        let staging = RunFiles.join(parent, ".\((directory as NSString).lastPathComponent).tmp-\(getpid())")
        try? fm.removeItem(atPath: staging)
        try AtomicFile.createDirectory(staging)
        let digits = max(6, String(count - 1).count)
        var all = [Float](repeating: 0, count: total)
        var index = 0
        do {
            try sampleImages(count: count, seed: Seeds.derive(seed, "count")) { b, n in
                for k in 0..<n {
                    let one = UnsafeBufferPointer(rebasing: b[(k * per)..<((k + 1) * per)])
                    for j in 0..<per { all[index * per + j] = one[j] }
                    let pixels = ImageGrid.single(one, channels: g.channels, height: g.height, width: g.width, range: range)
                    let name = String(index)
                    let file = RunFiles.join(staging, String(repeating: "0", count: max(0, digits - name.count)) + name + ".png")
                    try AtomicFile.write(try PNG.encode(pixels: pixels, width: g.width, height: g.height, channels: g.channels), to: file)
                    index += 1
                }
            }
            try SafeTensors(tensors: [("samples", SafeTensors.Tensor(f32: all, shape: [count, g.channels, g.height, g.width]))],
                            metadata: ["model": spec.name.value, "range": "\(range.low),\(range.high)"]).write(path: tensorPath)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        try? fm.removeItem(atPath: directory)
        guard rename(staging, directory) == 0 else {
            try? fm.removeItem(atPath: staging)
            throw RuntimeError("cannot move the samples into '\(directory)': \(String(cString: strerror(errno)))")
        }
    }

    /// Text from the model: the prime fed one character at a time, then
    /// `length` characters each drawn from softmax(logits / temperature)
    /// (the most likely one when temperature is 0). Returns prime + text.
    public func sampleText(seed: UInt64, prime: String?, length: Int?, temperature: Double?) throws -> String {
        guard let exe = text, let t = spec.sample?.text, let logits = exe.outputBuffer("logits"),
              let token = exe.inputBuffer("tokens") else { throw RuntimeError("the model has no text sampler ('sample: text:')") }
        let primeText = prime ?? t.prime, n = length ?? t.length, temp = temperature ?? t.temperature
        // Each recurrent state is an input and an output of the same name.
        var carried: [(from: UnsafeRawPointer, to: UnsafeMutableRawPointer, bytes: Int)] = []
        for i in exe.plan.inputs where i.name != "tokens" {
            guard let inp = exe.inputBuffer(i.name), let out = exe.outputBuffer(i.name) else {
                throw RuntimeError("the text sampler's input '\(i.name)' is not carried state")
            }
            inp.pointer.initializeMemory(as: UInt8.self, repeating: 0, count: inp.type.byteCount)
            carried.append((out.pointer, inp.pointer, inp.type.byteCount))
        }
        let vocab = logits.type.shape.last ?? 1
        var rng = SplitMix64(Seeds.derive(seed, "text"))
        // An empty prime starts the text as if after a newline (not printed).
        let primeIDs = Dataset.encode(Array(primeText.utf8), encoding)
        let fed = primeIDs.isEmpty ? Dataset.encode([10], encoding) : primeIDs
        let tokenPointer = token.pointer.assumingMemoryBound(to: Int32.self)
        let l = logits.pointer.assumingMemoryBound(to: Float.self)
        func step(_ id: Int32, _ k: Int) throws {
            tokenPointer.pointee = id
            try exe.run(seed: Seeds.derive(seed, k))
            for c in carried { c.to.copyMemory(from: c.from, byteCount: c.bytes) }
        }
        var k = 0
        for id in fed {
            try step(id, k)
            k += 1
        }
        var generated: [Int32] = []
        generated.reserveCapacity(n)
        var p = [Double](repeating: 0, count: vocab)
        for _ in 0..<n {
            var next = 0
            if temp <= 0 {
                for v in 1..<max(vocab, 1) where l[v] > l[next] { next = v }
            } else {
                var most = -Double.infinity
                for v in 0..<vocab { p[v] = Double(l[v]) / temp; most = max(most, p[v]) }
                var sum = 0.0
                for v in 0..<vocab { p[v] = exp(p[v] - most); sum += p[v] }
                var u = rng.nextUniform() * sum
                next = vocab - 1
                for v in 0..<vocab {
                    u -= p[v]
                    if u < 0 { next = v; break }
                }
            }
            generated.append(Int32(next))
            try step(Int32(next), k)
            k += 1
        }
        let bytes = Dataset.decode(primeIDs + generated, encoding)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension NoiseSpec {
    var distribution: RandomDistribution {
        switch self {
        case let .normal(m, s): return .normal(mean: m, std: s)
        case let .uniform(l, h): return .uniform(low: l, high: h)
        }
    }
}
