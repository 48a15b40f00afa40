import GencPlan
import GencRuntime

/// A training checkpoint: a safetensors file (LANGUAGE.md §8) with every
/// parameter and state tensor of the store by name — batchnorm statistics,
/// optimizer slots `optimizer.<objective>.<param>.<slot>` and step counts
/// `optimizer.<objective>.step` included — the loss history under
/// `run.loss.<objective>`, and metadata with the model, the global step and
/// the seed. Data order and random streams are pure functions of (seed,
/// step), so these are all a resumed run needs to continue bit for bit.
public struct Checkpoint: Sendable {
    public static let format = "genc-checkpoint-1"
    static let historyPrefix = "run.loss."

    public var model: String
    /// Steps done: the next step to run.
    public var step: Int
    public var seed: UInt64
    /// Batches in one epoch when it was written (a different dataset or
    /// batch size would change the data order).
    public var batchesPerEpoch: Int
    public var schedule: [String]
    /// Each schedule entry's loss at every step so far, by `labels(schedule)`.
    public var history: [String: [Float]]

    public init(model: String, step: Int, seed: UInt64, batchesPerEpoch: Int, schedule: [String], history: [String: [Float]]) {
        self.model = model
        self.step = step
        self.seed = seed
        self.batchesPerEpoch = batchesPerEpoch
        self.schedule = schedule
        self.history = history
    }

    /// The name of each schedule entry in the records: the objective, with
    /// `#k` on its k-th entry (k ≥ 2) when it is scheduled more than once.
    public static func labels(_ schedule: [String]) -> [String] {
        var seen: [String: Int] = [:]
        return schedule.map { name in
            let k = (seen[name] ?? 0) + 1
            seen[name] = k
            return k == 1 ? name : "\(name)#\(k)"
        }
    }

    /// Every parameter and state tensor of `store`, with this checkpoint's
    /// metadata and history, written atomically to `path`.
    public func write(store: ParameterStore, to path: String) throws {
        var tensors: [(String, SafeTensors.Tensor)] = []
        for e in store.entries where e.kind.isModelState {
            let floats = UnsafeBufferPointer(start: e.pointer.assumingMemoryBound(to: Float.self), count: e.type.elementCount)
            tensors.append((e.name, SafeTensors.Tensor(f32: Array(floats), shape: e.type.shape)))
        }
        for name in Self.labels(schedule) {
            let h = history[name] ?? []
            tensors.append((Self.historyPrefix + name, SafeTensors.Tensor(f32: h, shape: [h.count])))
        }
        let metadata = ["format": Self.format, "model": model, "step": String(step), "seed": String(seed),
                        "batches_per_epoch": String(batchesPerEpoch), "schedule": schedule.joined(separator: ",")]
        try SafeTensors(tensors: tensors, metadata: metadata).write(path: path)
    }

    /// Reads a checkpoint's metadata and history; `file` keeps the tensors
    /// for `restore`.
    public static func read(_ file: SafeTensors, path: String) throws -> Checkpoint {
        func field(_ key: String) throws -> String {
            guard let v = file.metadata[key] else {
                throw RuntimeError("'\(path)' is not a genc training checkpoint: its metadata has no '\(key)' (a file of weights only can be sampled with --sample-only --weights, not resumed)")
            }
            return v
        }
        guard try field("format") == format else {
            throw RuntimeError("'\(path)' is a checkpoint of format '\(file.metadata["format"] ?? "")'; this genc reads '\(format)'")
        }
        guard let step = Int(try field("step")), step >= 0, let seed = UInt64(try field("seed")),
              let perEpoch = Int(try field("batches_per_epoch")), perEpoch >= 1 else {
            throw RuntimeError("'\(path)': malformed checkpoint metadata (step, seed or batches_per_epoch)")
        }
        let schedule = try field("schedule").split(separator: ",").map(String.init)
        var history: [String: [Float]] = [:]
        for name in labels(schedule) {
            guard let t = file[historyPrefix + name], let floats = t.floats, floats.count == step else {
                throw RuntimeError("'\(path)': the loss history of '\(name)' is missing or does not have \(step) values")
            }
            history[name] = floats
        }
        return Checkpoint(model: try field("model"), step: step, seed: seed, batchesPerEpoch: perEpoch, schedule: schedule, history: history)
    }

    /// Copies every parameter and state tensor of `file` into `store`, which
    /// must hold exactly the same names and shapes (a training checkpoint
    /// restores everything or nothing).
    public static func restore(_ store: ParameterStore, from file: SafeTensors, path: String) throws {
        var problems: [String] = []
        for e in store.entries where e.kind.isModelState {
            guard let t = file[e.name] else { problems.append("'\(e.name)' is missing"); continue }
            guard t.dtype == .f32, t.shape == e.type.shape else {
                problems.append("'\(e.name)' is \(t.dtype.rawValue) \(t.shape), the model has f32 \(e.type.shape)")
                continue
            }
        }
        let known = Set(store.entries.filter { $0.kind.isModelState }.map(\.name))
        for (name, _) in file.tensors where !known.contains(name) && !name.hasPrefix(historyPrefix) {
            problems.append("'\(name)' is not a parameter or state of this model")
        }
        guard problems.isEmpty else {
            throw RuntimeError("'\(path)' does not fit this model: \(problems.prefix(4).joined(separator: "; "))\(problems.count > 4 ? "; and \(problems.count - 4) more" : "")")
        }
        for e in store.entries where e.kind.isModelState {
            if let floats = file[e.name]?.floats { try store.set(e.name, kind: e.kind, floats: floats) }
        }
    }
}
