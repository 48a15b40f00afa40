import GencAutodiff
import GencIR
import GencLower
import GencPlan
import GencRuntime
import GencSpec
import GencSupport
import GencTrain

/// `genc eval`: each objective evaluated once, exactly as a training step
/// computes it (batchnorm on batch statistics), updating nothing.
public struct Evaluator {
    public var compiled: CompiledModel
    public var spec: ModelSpec { compiled.spec }
    public var threads: Int
    public var seed: UInt64
    /// When set, a model whose programs need more memory is refused (a
    /// `Diagnostic` is thrown) before anything is allocated.
    public var memoryLimit: MemoryEstimate.Limit?

    public init(compiled: CompiledModel, threads: Int = 1, seed: UInt64 = 0, memoryLimit: MemoryEstimate.Limit? = nil) {
        self.compiled = compiled
        self.threads = threads
        self.seed = seed
        self.memoryLimit = memoryLimit
    }

    /// Every program of `model` planned (reusing `plans`, by name).
    public init(spec: ModelSpec, model: LoweredModel, threads: Int = 1, seed: UInt64 = 0, memoryLimit: MemoryEstimate.Limit? = nil,
                plans: [String: Plan] = [:]) throws {
        self.init(compiled: try CompiledModel(spec: spec, model: model, plans: plans), threads: threads, seed: seed, memoryLimit: memoryLimit)
    }

    /// Loads weights into the store (all parameters and state must be
    /// there; optimizer slots and a checkpoint's `run.` history are
    /// ignored); without weights, initialises.
    public func prepare(_ store: ParameterStore, weights: SafeTensors?) throws {
        guard let weights else {
            store.initialize(seed: seed, threads: threads)
            return
        }
        store.initialize(seed: seed, threads: threads)
        var missing: [String] = []
        for e in store.entries where e.kind.isModelState {
            guard let t = weights[e.name] else {
                if e.kind == .parameter { missing.append(e.name) }
                continue
            }
            guard t.dtype == .f32, let floats = t.floats else { throw RuntimeError("weights: '\(e.name)' must be F32, got \(t.dtype.rawValue)") }
            guard t.shape == e.type.shape else {
                throw RuntimeError("weights: '\(e.name)' has shape \(t.shape), the model needs \(e.type.shape)")
            }
            try store.set(e.name, kind: e.kind, floats: floats)
        }
        if !missing.isEmpty {
            throw RuntimeError("weights: \(missing.count) parameter\(missing.count == 1 ? " is" : "s are") missing: \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", ..." : "")")
        }
        let known = compiled.persistentNames
        if let unknown = weights.tensors.map(\.name).first(where: { !known.contains($0) && !$0.hasPrefix("optimizer.") && !$0.hasPrefix("run.") }) {
            throw RuntimeError("weights: '\(unknown)' is not a parameter or state of model '\(spec.name.value)'")
        }
    }

    /// `--inputs` is as strict as `--weights`: every tensor names an input
    /// of an evaluated program and has exactly its shape and element type,
    /// so a misspelled noise name is an error rather than silently sampled.
    /// A tensor for an input the chosen objectives do not read is allowed
    /// (one inputs file serves every objective) but must still fit.
    func check(_ inputs: SafeTensors, against executables: [Executable]) throws {
        var types: [String: TensorType] = [:]
        for i in spec.inputs { types[i.name] = TensorType(i.type.dtype == .i32 ? .i32 : .f32, i.type.shape) }
        for exe in executables {
            for i in exe.plan.inputs { types[i.name] = exe.plan.slots[i.slot].type }
        }
        for (name, t) in inputs.tensors {
            guard let want = types[name] else {
                let known = types.keys.sorted()
                throw RuntimeError("inputs: '\(name)' is not an input of model '\(spec.name.value)' (its inputs: \(known.joined(separator: ", ")))\(Suggestions.suffix(for: name, among: known))")
            }
            let dtype: GencIR.DType = t.dtype == .i32 ? .i32 : .f32
            guard dtype == want.dtype else {
                throw RuntimeError("inputs: '\(name)' must be \(want.dtype == .f32 ? "F32" : "I32"), got \(t.dtype.rawValue)")
            }
            guard t.shape == want.shape else {
                throw RuntimeError("inputs: '\(name)' has shape \(t.shape), the model needs \(want.shape)")
            }
        }
    }

    /// Evaluates `objectives` (all, in file order, when empty).
    public func evaluate(objectives requested: [String], weights: SafeTensors?, inputs: SafeTensors?) throws -> [(name: String, value: Double)] {
        try run(.eval, objectives: requested, weights: weights, inputs: inputs).map { ($0.name, $0.loss) }
    }

    /// The loss of one objective and the gradient of each of its `update:`
    /// parameters (the `grad.` program: the same forward pass as `eval`,
    /// then the backward pass), keyed by parameter name.
    public func gradients(objective: String, weights: SafeTensors?, inputs: SafeTensors?) throws -> (loss: Double, gradients: [(name: String, type: TensorType, floats: [Float])]) {
        guard let (_, exe, loss) = try run(.grad, objectives: [objective], weights: weights, inputs: inputs).first else {
            throw RuntimeError("the model has no objective '\(objective)'")
        }
        var out: [(String, TensorType, [Float])] = []
        for o in exe.plan.outputs {
            guard let name = TrainingSteps.parameter(ofGradientOutput: o.name), let (t, floats) = exe.output(o.name) else { continue }
            out.append((name, t, floats))
        }
        return (loss, out)
    }

    /// One objective's loss averaged over a whole split of its data.
    public struct SplitResult: Sendable {
        public var name: String
        public var value: Double
        /// Complete batches evaluated (of `available` in the split), and samples they hold.
        public var batches: Int
        public var available: Int
        public var samples: Int
        /// Samples of the split left out because they do not fill a batch.
        public var leftOut: Int
    }

    /// `genc eval --split`: each objective's `eval.` program over every
    /// complete batch of the chosen split of its datasets, in dataset order,
    /// and the mean of the batch losses. Noise inputs and random ops draw
    /// fresh values each batch (from `seed` and the batch number). A
    /// remainder smaller than one batch is left out (reported in
    /// `leftOut`); `--dim batch=N` with N dividing the split covers it all.
    /// `maxBatches` stops after that many batches (the first ones, in dataset order).
    public func evaluate(split: DatasetSpec.Split, objectives requested: [String], weights: SafeTensors?, maxBatches: Int? = nil) throws -> [SplitResult] {
        let names = requested.isEmpty ? spec.objectives.map(\.name) : requested
        let bindings = spec.train?.data ?? []
        var results: [SplitResult] = []
        var loaded: [String: Dataset] = [:]
        for name in names {
            guard let plan = compiled.plan(.eval, name) else {
                throw RuntimeError("the model has no objective '\(name)'")
            }
            if let memoryLimit {
                let estimate = try MemoryEstimate(plans: [plan])
                if let d = estimate.check(memoryLimit, doing: "evaluating '\(name)'", file: spec.file) { throw d }
            }
            let store = ParameterStore()
            let exe = try Executable(plan: plan, store: store, threads: threads)
            try prepare(store, weights: weights)
            var feeds: [(stream: DataStream, to: UnsafeMutableRawPointer)] = []
            var noise: [(String, RandomDistribution)] = []
            for i in plan.inputs {
                guard let input = spec.input(named: i.name), let buffer = exe.inputBuffer(i.name) else { continue }
                if let b = bindings.first(where: { $0.input.value == i.name }) {
                    var d = b.dataset
                    d.split = split
                    let key = "\(d.kind.rawValue)|\(d.path ?? "")|\(split.rawValue)|\(d.encoding.rawValue)"
                    let dataset: Dataset
                    do {
                        if let cached = loaded[key] { dataset = cached } else {
                            dataset = try Dataset.load(d)
                            loaded[key] = dataset
                        }
                        let stream = try DataStream(dataset: dataset, inputName: i.name, batch: input.type.shape.first ?? 1,
                                                    sampleShape: Array(input.type.shape.dropFirst()), isInteger: input.type.dtype == .i32,
                                                    scale: d.scale, seed: seed, shuffle: false)
                        feeds.append((stream, buffer.pointer))
                    } catch {
                        throw Diagnostic(id: "dataset", message: error.message, at: b.dataset.range, notes: error.hint.map { [Diagnostic.Note($0, at: nil)] } ?? [])
                    }
                } else if let n = input.noise {
                    switch n {
                    case let .normal(m, sd): noise.append((i.name, .normal(mean: m, std: sd)))
                    case let .uniform(l, h): noise.append((i.name, .uniform(low: l, high: h)))
                    }
                } else {
                    throw RuntimeError("objective '\(name)' reads input '\(i.name)', which is not bound to data in train 'data' and has no 'sample:'")
                }
            }
            guard let loss = exe.outputBuffer("loss") else { throw RuntimeError("objective '\(name)' produced no loss") }
            let available = feeds.map(\.stream.batchesPerEpoch).min() ?? 1
            let batches = min(available, maxBatches ?? available)
            guard batches >= 1 else {
                throw RuntimeError("the \(split.rawValue) split has fewer samples than one batch of '\(name)' (\(feeds.first?.stream.batch ?? 0)); choose a smaller --dim batch")
            }
            var total = 0.0
            for k in 0..<batches {
                for f in feeds { f.stream.fill(epoch: 0, batch: k, into: f.to) }
                let s = Seeds.derive(Seeds.derive(seed, "eval.\(split.rawValue)"), k)
                for (n, dist) in noise { try exe.sampleInput(n, dist, seed: s) }
                try exe.run(seed: Seeds.derive(s, name))
                total += Double(loss.pointer.load(as: Float.self))
            }
            let perBatch = feeds.first?.stream.batch ?? 1
            let samples = feeds.first?.stream.samples ?? batches
            results.append(SplitResult(name: name, value: total / Double(batches), batches: batches, available: available, samples: batches * perBatch,
                                       leftOut: max(0, samples - available * perBatch)))
        }
        return results
    }

    /// Runs the `mode` program of each objective once and returns each with its loss.
    func run(_ mode: ProgramMode, objectives requested: [String], weights: SafeTensors?, inputs: SafeTensors?) throws -> [(name: String, executable: Executable, loss: Double)] {
        let names = requested.isEmpty ? spec.objectives.map(\.name) : requested
        var programs: [(String, Plan)] = []
        for name in names {
            guard let plan = compiled.plan(mode, name) else {
                throw RuntimeError("the model has no objective '\(name)'")
            }
            programs.append((name, plan))
        }
        if let memoryLimit {
            let estimate = try MemoryEstimate(plans: programs.map(\.1))
            if let d = estimate.check(memoryLimit, doing: "evaluating \(names.map { "'\($0)'" }.joined(separator: ", "))", file: spec.file) { throw d }
        }
        let store = ParameterStore()
        var executables: [(String, Executable)] = []
        for (name, plan) in programs {
            executables.append((name, try Executable(plan: plan, store: store, threads: threads)))
        }
        try prepare(store, weights: weights)
        if let inputs { try check(inputs, against: executables.map(\.1)) }
        var results: [(String, Executable, Double)] = []
        for (name, exe) in executables {
            for i in exe.plan.inputs {
                if let t = inputs?[i.name] {
                    switch t.dtype {
                    case .f32: try exe.setInput(i.name, floats: t.floats ?? [])
                    case .i32: try exe.setInput(i.name, ints: t.ints ?? [])
                    }
                } else if let noise = spec.input(named: i.name)?.noise {
                    let dist: RandomDistribution
                    switch noise {
                    case let .normal(m, s): dist = .normal(mean: m, std: s)
                    case let .uniform(l, h): dist = .uniform(low: l, high: h)
                    }
                    try exe.sampleInput(i.name, dist, seed: seed)
                } else {
                    throw RuntimeError("objective '\(name)' reads input '\(i.name)', which is data: give it with --inputs (a safetensors file with a tensor '\(i.name)' of type \(exe.plan.slots[i.slot].type))")
                }
            }
            try exe.run(seed: Seeds.derive(seed, "eval.\(name)"))
            guard let (_, v) = exe.output("loss"), let x = v.first else { throw RuntimeError("objective '\(name)' produced no loss") }
            results.append((name, exe, Double(x)))
        }
        return results
    }
}
