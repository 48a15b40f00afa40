#if canImport(Glibc)
import Glibc
#endif
import GencIR
import GencLower
import GencPlan
import GencRuntime
import GencSpec
import GencSupport

/// Set by SIGINT or SIGTERM (to the signal's number); the loop checks it between steps.
nonisolated(unsafe) private var interruptRequested: sig_atomic_t = 0

/// The training loop of `genc run`: each step takes the next batch of every
/// data input, draws the noise inputs once (every objective of the step sees
/// the same draw, LANGUAGE.md §2) and runs the schedule's training programs
/// in order; the samples, the loss plot, the metrics and the checkpoint are
/// written as docs/training.md describes.
///
/// Reproducibility: step `s` of a run with seed `S` feeds batch
/// `s % batchesPerEpoch` of epoch `s / batchesPerEpoch`, noise from
/// `Seeds.derive(Seeds.derive(S, s), "noise")` and random ops from
/// `Seeds.derive(Seeds.derive(S, s), objective)`. Nothing else carries
/// from step to step but the parameter store, so a checkpoint (the store,
/// the step and the seed) resumes bit for bit.
public final class Trainer {
    /// One scheduled objective's training program and what feeds it.
    struct Step {
        let name: String
        let executable: Executable
        let loss: UnsafePointer<Float>
        /// (prefetch feed, destination, bytes)
        let data: [(feed: Int, to: UnsafeMutableRawPointer, bytes: Int)]
        let noise: [(name: String, distribution: RandomDistribution)]
    }

    public struct Summary: Sendable {
        public var steps: Int
        public var stepsThisRun: Int
        public var epochsDone: Double
        public var seconds: Double
        public var interrupted: Bool
        /// The signal that interrupted it (SIGINT or SIGTERM), 0 when not interrupted.
        public var signal: Int32
        /// Each objective's running loss at the end.
        public var losses: [(name: String, value: Double)]
        /// What the run wrote, as (what, path), for its last lines.
        public var files: [(what: String, path: String)]
        /// The text sample, for a language model.
        public var text: String?
    }

    public let spec: ModelSpec
    public let options: RunOptions
    public let store = ParameterStore()
    public let seed: UInt64
    public let batchesPerEpoch: Int
    public let totalSteps: Int
    public let schedule: [String]
    /// The schedule's entries as the records name them: the objective's
    /// name, with `#2`, `#3`… on its later entries when it is scheduled
    /// more than once (`[d_loss, g_loss, g_loss]` → d_loss, g_loss, g_loss#2).
    public let labels: [String]
    public private(set) var step = 0
    let hasData: Bool
    let steps: [Step]
    let prefetcher: Prefetcher
    public let sampler: Sampler
    var history: [String: [Float]]
    var log: UnsafeMutablePointer<FILE>?
    var wroteEpochSamples: [String] = []
    var lastRecords = -Double.infinity
    /// The newest checkpoint this run wrote or resumed from: (path, step).
    var lastCheckpoint: (path: String, step: Int)?

    public init(spec: ModelSpec, plans: [String: Plan], options: RunOptions) throws {
        guard let train = spec.train else {
            throw Diagnostic(id: "no-train", message: "model '\(spec.name.value)' has no 'train:' section; nothing to train (sample it with --sample-only --weights FILE)", at: spec.name.range)
        }
        self.spec = spec
        self.options = options
        schedule = train.schedule.map(\.value)
        labels = Checkpoint.labels(schedule)

        // Data: one stream per binding.
        var streams: [DataStream] = []
        var feedOf: [String: Int] = [:]
        let resumeFile = try options.resume.map { try SafeTensors.read(path: $0) }
        let resumed = try resumeFile.map { try Checkpoint.read($0, path: options.resume ?? "") }
        seed = resumed?.seed ?? options.seed ?? UInt64(clamping: train.seed)
        for b in train.data {
            guard let input = spec.input(named: b.input.value) else { continue }
            let dataset: Dataset
            do {
                dataset = try Dataset.load(b.dataset)
            } catch {
                throw Diagnostic(id: "dataset", message: error.message, at: b.dataset.range, notes: error.hint.map { [Diagnostic.Note($0, at: nil)] } ?? [])
            }
            let shape = input.type.shape
            do throws(DataError) {
                let s = try DataStream(dataset: dataset, inputName: input.name, batch: shape.first ?? 1, sampleShape: Array(shape.dropFirst()),
                                       isInteger: input.type.dtype == .i32, scale: b.dataset.scale, seed: Seeds.derive(seed, "data"), shuffle: true)
                guard s.batchesPerEpoch >= 1 else {
                    throw DataError("the \(b.dataset.split.rawValue) split of '\(b.dataset.kind.rawValue)' has \(s.samples) samples for input '\(input.name)', fewer than one batch of \(s.batch)")
                }
                feedOf[input.name] = streams.count
                streams.append(s)
            } catch {
                throw Diagnostic(id: "dataset", message: error.message, at: b.dataset.range, notes: error.hint.map { [Diagnostic.Note($0, at: nil)] } ?? [])
            }
        }
        hasData = !streams.isEmpty
        // Without data an epoch has no meaning; it is one step.
        batchesPerEpoch = streams.map(\.batchesPerEpoch).min() ?? 1

        // The schedule's programs, sharing one parameter store.
        var built: [Step] = []
        for name in schedule {
            guard let plan = plans[Lowering.programName(.train, name)] else {
                throw RuntimeError("objective '\(name)' has no training program (it needs an optimizer)")
            }
            let exe = try Executable(plan: plan, store: store, threads: options.threads)
            exe.checkNumerics = options.checkNumerics
            guard let loss = exe.outputBuffer("loss") else { throw RuntimeError("the training program of '\(name)' has no loss output") }
            var data: [(Int, UnsafeMutableRawPointer, Int)] = []
            var noise: [(String, RandomDistribution)] = []
            for i in plan.inputs {
                guard let buffer = exe.inputBuffer(i.name) else { continue }
                if let f = feedOf[i.name] {
                    guard streams[f].elementsPerBatch == buffer.type.elementCount else {
                        throw RuntimeError("input '\(i.name)' is \(buffer.type) but its batches have \(streams[f].elementsPerBatch) values")
                    }
                    data.append((f, buffer.pointer, buffer.type.byteCount))
                } else if let n = spec.input(named: i.name)?.noise {
                    noise.append((i.name, n.distribution))
                } else {
                    throw Diagnostic(id: "unbound-input", message: "objective '\(name)' reads input '\(i.name)', which has no 'sample:' and no binding in train 'data'",
                                     at: spec.input(named: i.name)?.range)
                }
            }
            built.append(Step(name: name, executable: exe, loss: loss.pointer.assumingMemoryBound(to: Float.self), data: data, noise: noise))
        }
        steps = built
        sampler = try Sampler(spec: spec, plans: plans, store: store, threads: options.threads)

        // Length: --steps, --epochs, or the model's.
        let perEpoch = batchesPerEpoch
        func epochs(_ n: Int) throws -> Int {
            let (t, o) = n.multipliedReportingOverflow(by: perEpoch)
            guard !o, t <= 1 << 40 else { throw RuntimeError("\(n) epochs of \(perEpoch) steps is too many steps") }
            return t
        }
        var total: Int
        if let s = options.steps { total = s } else if let e = options.epochs { total = try epochs(e) } else {
            switch train.length {
            case let .steps(s): total = s
            case let .epochs(e): total = try epochs(e)
            }
        }
        totalSteps = total

        // The output directory now, so that a bad --out fails before training starts.
        try AtomicFile.createDirectory(options.outDirectory)

        // Weights: fresh, or the checkpoint's.
        store.initialize(seed: seed, threads: options.threads)
        history = Dictionary(uniqueKeysWithValues: labels.map { ($0, []) })
        // Room for the run's losses, within reason (--steps may say 2^40).
        for k in history.keys { history[k]?.reserveCapacity(min(max(totalSteps, 0), 1 << 20)) }
        if let file = resumeFile, let c = resumed, let path = options.resume {
            guard c.model == spec.name.value else {
                throw RuntimeError("'\(path)' is a checkpoint of model '\(c.model)', not '\(spec.name.value)'")
            }
            if let s = options.seed, s != c.seed {
                throw RuntimeError("--seed \(s) differs from the seed of the checkpoint (\(c.seed)); a resumed run continues the checkpoint's random streams (omit --seed)")
            }
            guard c.schedule == schedule else {
                throw RuntimeError("'\(path)' was written with the schedule [\(c.schedule.joined(separator: ", "))], the model's is [\(schedule.joined(separator: ", "))]")
            }
            guard c.batchesPerEpoch == batchesPerEpoch else {
                throw RuntimeError("'\(path)' was written with \(c.batchesPerEpoch) batches per epoch, the data now gives \(batchesPerEpoch) (a different dataset or batch size would change the data order)")
            }
            try Checkpoint.restore(store, from: file, path: path)
            step = c.step
            lastCheckpoint = (path, c.step)
            for (k, v) in c.history { history[k] = v }
        }
        // Last: its thread starts now, and nothing after it may throw (a
        // failed init runs no deinit to stop the thread).
        prefetcher = Prefetcher(streams: streams, batchesPerEpoch: batchesPerEpoch)
    }

    deinit {
        prefetcher.stop()
        if let log { fclose(log) }
    }

    public var epoch: Int { step / batchesPerEpoch }

    /// Runs from the current step to `totalSteps` (or until Ctrl-C), writing
    /// what docs/training.md lists.
    public func run() throws -> Summary {
        let out = options.outDirectory
        try AtomicFile.createDirectory(out)
        if let path = options.log {
            // A resumed run's log starts as the checkpoint's history, so
            // steps replayed after a kill are not listed twice.
            var text = ""
            let count = history[labels.first ?? ""]?.count ?? 0
            for s in 0..<count { text += metricsLine(step: s, losses: labels.map { history[$0]?[s] ?? .nan }) + "\n" }
            try AtomicFile.write(text, to: path)
            guard let f = fopen(path, "a") else {
                throw RuntimeError("cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
            log = f
        }
        let first = step
        var progress = Progress(style: options.progress, names: labels, start: first, total: totalSteps)
        var losses = [Float](repeating: 0, count: steps.count)
        interruptRequested = 0
        // SIGINT (Ctrl-C) and SIGTERM (kill, a scheduler's stop) end the run
        // after the current step with a checkpoint; a second one of either
        // ends the process at once (the default action; files are only ever
        // renamed into place, so none is left half-written).
        let handled = [SIGINT, SIGTERM]
        func address(_ h: __sighandler_t?) -> Int { h.map { unsafeBitCast($0, to: Int.self) } ?? 0 }
        var previous: [__sighandler_t?] = []
        for sig in handled {
            let old = signal(sig) { n in
                interruptRequested = n
                signal(SIGINT, SIG_DFL)
                signal(SIGTERM, SIG_DFL)
            }
            // A job started with the signal ignored (`cmd &` in a non-interactive shell ignores SIGINT) keeps ignoring it.
            if address(old) == address(SIG_IGN) { signal(sig, SIG_IGN) }
            previous.append(old)
        }
        var restored = false
        func restoreSignal() {
            if !restored { for (sig, old) in zip(handled, previous) { signal(sig, old) } }
            restored = true
        }
        defer { restoreSignal() }
        var interrupted = false
        if step < totalSteps { prefetcher.request(step) }
        while step < totalSteps {
            prefetcher.wait()
            for s in steps {
                for d in s.data { d.to.copyMemory(from: prefetcher.feeds[d.feed].buffer, byteCount: d.bytes) }
            }
            if step + 1 < totalSteps { prefetcher.request(step + 1) }
            let stepSeed = Seeds.derive(seed, step)
            let noiseSeed = Seeds.derive(stepSeed, "noise")
            for (k, s) in steps.enumerated() {
                for n in s.noise { try s.executable.sampleInput(n.name, n.distribution, seed: noiseSeed) }
                do {
                    try s.executable.run(seed: Seeds.derive(stepSeed, s.name))
                } catch let fault as NumericFault {
                    progress.clear()
                    try writeRecords()
                    throw TrainingFault(.kernel(fault), objective: labels[k], step: step + 1, lastCheckpoint: lastCheckpoint)
                }
                losses[k] = s.loss.pointee
            }
            if let bad = losses.firstIndex(where: { !$0.isFinite }) {
                progress.clear()
                try writeRecords()
                throw TrainingFault(.loss(losses[bad]), objective: labels[bad], step: step + 1, lastCheckpoint: lastCheckpoint)
            }
            for (k, name) in labels.enumerated() { history[name]?.append(losses[k]) }
            logLine(step: step, losses: losses)
            step += 1
            progress.record(step: step - 1, losses: losses)
            if hasData, step % batchesPerEpoch == 0 {
                try endOfEpoch(step / batchesPerEpoch, progress: progress)
            }
            if let every = options.checkpointEvery, step % every == 0, step < totalSteps {
                try writeCheckpoint(final: false)
            }
            if interruptRequested != 0 && step < totalSteps {
                interrupted = true
                break
            }
        }
        // Ctrl-C during the final sampling ends the process as usual.
        restoreSignal()
        progress.clear()
        if let log { fflush(log) }
        try writeCheckpoint()
        var files: [(String, String)] = [("checkpoint", options.checkpointPath)]
        var sampledText: String?
        if !interrupted, sampler.hasImages, let to = spec.sample?.images?.to {
            let path = RunFiles.join(out, to)
            try sampler.writeGrid(to: path, seed: seed)
            files.append(("samples", path))
        }
        if !interrupted, sampler.hasReconstructions, let to = spec.sample?.reconstructions?.to {
            let path = RunFiles.join(out, to)
            try sampler.writeReconstructions(to: path, seed: seed)
            files.append(("reconstructions", path))
        }
        if let first = wroteEpochSamples.first, let last = wroteEpochSamples.last {
            files.append(("samples per epoch", first == last ? first : "\(first) ... \(last)"))
        }
        if !interrupted, sampler.hasText, let t = spec.sample?.text {
            let text = try sampler.sampleText(seed: seed, prime: options.prime, length: options.length, temperature: options.temperature)
            sampledText = text
            let path = RunFiles.join(out, t.to ?? "samples.txt")
            try AtomicFile.write(text + "\n", to: path)
            files.append(("text sample", path))
        }
        files.append(("loss plot", RunFiles.join(out, RunFiles.lossPlot)))
        files.append(("metrics", RunFiles.join(out, RunFiles.metrics)))
        if let l = options.log { files.append(("log", l)) }
        return Summary(steps: step, stepsThisRun: step - first, epochsDone: Double(step) / Double(batchesPerEpoch),
                       seconds: Progress.now() - progress.startTime, interrupted: interrupted, signal: interrupted ? Int32(interruptRequested) : 0,
                       losses: zip(labels, progress.running).map { ($0, $1) }, files: files, text: sampledText)
    }

    func endOfEpoch(_ epoch: Int, progress: Progress) throws {
        guard sampler.hasImages else { return }
        let path = RunFiles.join(options.outDirectory, RunFiles.epochSamples(epoch))
        try sampler.writeGrid(to: path, seed: seed)
        wroteEpochSamples.append(path)
        if options.progress != .quiet {
            progress.clear()
            fputs("epoch \(epoch) done: samples in \(path)\n", stderr)
        }
    }

    /// The checkpoint, then the metrics file and the plot. Those two are
    /// made from the whole history, so between checkpoints they are
    /// rewritten at most every 30 s (`--checkpoint-every 1` stays linear in
    /// the steps); the last checkpoint of a run always rewrites them, and
    /// the checkpoint itself always holds the whole history.
    public func writeCheckpoint(final: Bool = true) throws {
        // Weights that went non-finite in the last update (its loss was
        // still finite) must not replace the last good checkpoint.
        if let bad = store.firstNonFinite() {
            try writeRecords()
            throw TrainingFault(.buffer("\(bad.kind.rawValue) '\(bad.name)'", element: bad.element, value: bad.value),
                                objective: nil, step: step, lastCheckpoint: lastCheckpoint)
        }
        let c = Checkpoint(model: spec.name.value, step: step, seed: seed, batchesPerEpoch: batchesPerEpoch, schedule: schedule, history: history)
        let path = options.checkpointPath
        let slash = path.lastIndex(of: "/")
        if let slash, slash != path.startIndex { try AtomicFile.createDirectory(String(path[..<slash])) }
        try c.write(store: store, to: path)
        lastCheckpoint = (path, step)
        let now = Progress.now()
        if final || now - lastRecords >= 30 {
            try writeRecords()
            lastRecords = now
        }
    }

    /// `metrics.jsonl` and `loss.svg` from the history.
    func writeRecords() throws {
        var text = ""
        let count = history[labels.first ?? ""]?.count ?? 0
        for s in 0..<count { text += metricsLine(step: s, losses: labels.map { history[$0]?[s] ?? .nan }) + "\n" }
        try AtomicFile.write(text, to: RunFiles.join(options.outDirectory, RunFiles.metrics))
        let series = labels.map { name -> LossPlot.Series in
            let h = history[name] ?? []
            return LossPlot.Series(name: name, steps: Array(stride(from: 1, through: h.count, by: 1)), values: h.map(Double.init))
        }
        try AtomicFile.write(LossPlot.svg(series, title: "\(spec.name.value): loss per step"), to: RunFiles.join(options.outDirectory, RunFiles.lossPlot))
    }

    /// `{"step": 12, "epoch": 1, "loss": {"d_loss": 0.61, "g_loss": 1.2}}`;
    /// `step` counts steps done (from 1), `epoch` the epoch the step is in (from 1).
    func metricsLine(step s: Int, losses: [Float]) -> String {
        let values = zip(labels, losses).map { ($0, $1.isFinite ? JSONValue.double(Double($1)) : .null) }
        return JSONValue.object([("step", .int(s + 1)), ("epoch", .int(s / batchesPerEpoch + 1)), ("loss", .object(values))]).serialized(pretty: false)
    }

    func logLine(step s: Int, losses: [Float]) {
        guard let log else { return }
        fputs(metricsLine(step: s, losses: losses) + "\n", log)
    }
}

/// Training stopped on a NaN or ±∞: a loss that became non-finite, a
/// parameter that did (found before a checkpoint is written), or, with
/// `--check-numerics`, the first kernel result that did. No checkpoint is
/// written after it; one written earlier is left as it was.
public struct TrainingFault: Error, CustomStringConvertible, Sendable {
    public enum Cause: Sendable {
        /// The kernel that made it, under `--check-numerics`.
        case kernel(NumericFault)
        /// The objective's loss.
        case loss(Float)
        /// A parameter or state buffer, with the element and its value.
        case buffer(String, element: Int, value: Float)
    }
    public var cause: Cause
    public var objective: String?
    /// The global step (from 1) where it was found.
    public var step: Int
    /// The newest good checkpoint, left as it was: (path, step), or nil when none was written.
    public var lastCheckpoint: (path: String, step: Int)?
    /// The steps run again with every kernel checked that found `.kernel`
    /// (`genc run` does this when the loss or a weight went non-finite).
    public var replayed: ClosedRange<Int>?

    public init(_ cause: Cause, objective: String?, step: Int, lastCheckpoint: (path: String, step: Int)?) {
        self.cause = cause
        self.objective = objective
        self.step = step
        self.lastCheckpoint = lastCheckpoint
    }

    public var fault: NumericFault? {
        if case let .kernel(f) = cause { return f }
        return nil
    }

    public var description: String {
        let kept = "training stopped without writing a checkpoint"
            + (lastCheckpoint.map { "; the last good one, '\($0.path)' (step \($0.step)), is left as it was" } ?? " (none had been written)")
            + "; metrics.jsonl and loss.svg show the steps up to here"
        let find = "Rerun with --check-numerics to find the first op that made a NaN or infinity (it names the op and its line), or try a lower learning rate."
        switch cause {
        case let .kernel(f):
            let found = replayed.map { " (found by running steps \($0.lowerBound)–\($0.upperBound) again with every kernel checked)" } ?? ""
            return "\(f) at step \(step)\(objective.map { ", objective '\($0)'" } ?? "")\(found); \(kept). Try a lower learning rate, or look at what feeds that op."
        case let .loss(v):
            return "the loss of '\(objective ?? "?")' is \(v) at step \(step); \(kept). \(find)"
        case let .buffer(name, element, v):
            return "\(name) holds \(v) at element \(element) after step \(step); \(kept). \(find)"
        }
    }
}
