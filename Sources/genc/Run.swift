#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import Genc
import GencLower
import GencRuntime
import GencSpec
import GencSupport
import GencTrain

/// `genc run FILE`: the model's main job — train as `train:` says, then
/// sample as `sample:` says (docs/training.md).
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on its data, then sample it.",
        discussion: """
        Trains as the model's train: section says (its data, optimizer, schedule, epochs or steps, seed), \
        showing progress on stderr, then samples as sample: says. Everything goes to --out (default \
        runs/<model>/): the final checkpoint, a sample grid at the end of every epoch and at the end, \
        loss.svg, metrics.jsonl. Ctrl-C writes a checkpoint and stops; --resume continues it exactly. \
        --sample-only --weights FILE samples a trained model without training (with --count N: N single \
        PNG files in <out>/samples/ and the tensor in <out>/samples.safetensors).
        """)

    @OptionGroup var model: ModelOptions

    @Option(parsing: .unconditional, help: "Train this many epochs (instead of the model's).") var epochs: Int?
    @Option(parsing: .unconditional, help: "End training at this global step (counting steps done before a resume).") var steps: Int?
    @Option(parsing: .unconditional, help: "Seed for initialisation, data order and noise (default: the model's train.seed).") var seed: UInt64?
    @OptionGroup var threading: ThreadOptions
    @Option(help: ArgumentHelp("Output directory (default: runs/<model name>).", valueName: "DIR")) var out: String?
    @Option(help: ArgumentHelp("Checkpoint file (default: <out>/checkpoint.safetensors).", valueName: "FILE")) var checkpoint: String?
    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: ArgumentHelp("Also write the checkpoint every N steps.", valueName: "N"))
    var checkpointEvery: Int?
    @Option(help: ArgumentHelp("Continue from this checkpoint.", valueName: "FILE")) var resume: String?
    @Flag(name: .customLong("sample-only"), help: "Only sample (needs --weights).") var sampleOnly = false
    @Option(help: ArgumentHelp("Weights to sample (a checkpoint, or any safetensors with every parameter and state).", valueName: "FILE")) var weights: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("With --sample-only: write N samples as single PNG files and one safetensors tensor.", valueName: "N"))
    var count: Int?
    @Option(help: ArgumentHelp("Text sampling: the prime (default: the model's).", valueName: "TEXT")) var prime: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Text sampling: characters to generate (default: the model's).", valueName: "N")) var length: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Text sampling: temperature, 0 for the most likely character (default: the model's).", valueName: "T"))
    var temperature: Double?
    @Option(help: ArgumentHelp("Also write metrics as JSON lines to this file as the run goes.", valueName: "FILE")) var log: String?
    @Option(help: ArgumentHelp("Progress on stderr: auto (a bar on a terminal, lines otherwise), bar, lines, none.", valueName: "STYLE"))
    var progress: String = "auto"
    @Flag(name: .customLong("check-numerics"), help: "Check every kernel's results for NaN and infinity; the first stops training, naming the op and its line (slower).")
    var checkNumerics = false
    @OptionGroup var memory: MemoryOptions

    func validate() throws {
        if let e = epochs, e < 1 || e > 1_000_000 { throw ValidationError("--epochs must be from 1 to 1000000, got \(e)") }
        if let s = steps, s < 0 || s > 1 << 40 { throw ValidationError("--steps must be from 0 to 2^40, got \(s)") }
        if epochs != nil && steps != nil { throw ValidationError("give --epochs or --steps, not both") }
        if let n = checkpointEvery, n < 1 { throw ValidationError("--checkpoint-every must be at least 1, got \(n)") }
        if let n = count, n < 1 || n > 1_000_000 { throw ValidationError("--count must be from 1 to 1000000, got \(n)") }
        if let n = length, n < 0 || n > 10_000_000 { throw ValidationError("--length must be from 0 to 10000000, got \(n)") }
        if let t = temperature, !(t >= 0 && t <= 100) { throw ValidationError("--temperature must be from 0 to 100, got \(t)") }
        guard ["auto", "bar", "lines", "none"].contains(progress) else { throw ValidationError("--progress must be auto, bar, lines or none, got '\(progress)'") }
        if sampleOnly {
            guard weights != nil else { throw ValidationError("--sample-only needs --weights FILE (the weights to sample)") }
            if resume != nil || epochs != nil || steps != nil || checkpointEvery != nil || checkpoint != nil {
                throw ValidationError("--sample-only samples and does not train: --resume, --epochs, --steps, --checkpoint and --checkpoint-every do not apply")
            }
        } else {
            if weights != nil { throw ValidationError("--weights is for --sample-only; to continue training give --resume CHECKPOINT") }
            if count != nil { throw ValidationError("--count applies to --sample-only") }
        }
    }

    var progressStyle: RunOptions.ProgressStyle {
        switch progress {
        case "bar": return .bar
        case "lines": return .lines
        case "none": return .quiet
        default: return isatty(2) != 0 ? .bar : .lines
        }
    }

    func run() throws {
        let compiled = try Output.compiled(model)
        let spec = compiled.spec
        let threads = threading.threads
        Threads.configure(threads)
        var options = RunOptions(outDirectory: out ?? RunFiles.join("runs", spec.name.value))
        options.steps = steps
        options.epochs = epochs
        options.seed = seed
        options.threads = threads
        options.checkpoint = checkpoint
        options.checkpointEvery = checkpointEvery
        options.resume = resume
        options.log = log
        options.progress = progressStyle
        options.prime = prime
        options.length = length
        options.temperature = temperature
        options.checkNumerics = checkNumerics
        do {
            let scheduled = Set((spec.train?.schedule ?? []).map { Lowering.programName(.train, $0.value) })
            let plans = compiled.plans.values.filter { p in
                p.name.hasPrefix("sample.") || (!sampleOnly && scheduled.contains(p.name))
            }.sorted { $0.name < $1.name }
            let estimate = try MemoryEstimate(plans: plans)
            if let d = estimate.check(memory.limit, doing: sampleOnly ? "sampling" : "training", file: spec.file) { throw d }
            if sampleOnly {
                try sample(compiled, options: options)
            } else {
                try train(compiled, options: options)
            }
        } catch let e as ExitCode {
            throw e
        } catch let e as Diagnostic {
            throw Output.fail(e, file: model.file, json: false)
        } catch let e as TrainingFault {
            throw Output.fail(Self.diagnostic(Self.locate(e, compiled: compiled, options: options), spec: spec), file: model.file, json: false)
        } catch {
            throw Output.fail(error, file: model.file, json: false)
        }
    }

    /// The most steps `locate` runs again.
    static let replayLimit = 2_000

    /// Without --check-numerics a non-finite loss or weight is seen only
    /// after its step. Training is deterministic (same seed, same threads),
    /// so the steps from the last good checkpoint (or from the start, or the
    /// checkpoint this run resumed from) are run again with every kernel
    /// checked, in a scratch directory that is removed after: the run's own
    /// files are not touched. That names the op and its line, as
    /// --check-numerics would have. Up to `replayLimit` steps; past that, or
    /// when the replay finds nothing, the fault is reported as it was.
    static func locate(_ e: TrainingFault, compiled: CompiledModel, options: RunOptions) -> TrainingFault {
        guard e.fault == nil, !options.checkNumerics else { return e }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("genc-replay-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var o = options
        o.outDirectory = scratch
        o.checkpoint = nil
        o.checkpointEvery = nil
        o.log = nil
        o.epochs = nil
        o.steps = e.step
        o.progress = .quiet
        o.checkNumerics = true
        if let last = e.lastCheckpoint { o.resume = last.path }
        var from = 0
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let trainer = try Trainer(spec: compiled.spec, plans: compiled.plans, options: o)
            guard trainer.step < e.step, e.step - trainer.step <= replayLimit else { return e }
            from = trainer.step + 1
            Output.stderr("\(compiled.spec.name.value): the first non-finite value came at step \(e.step); running steps \(from)–\(e.step) again with every kernel checked to find the op\n")
            _ = try trainer.run()
        } catch var found as TrainingFault where found.fault != nil && found.step == e.step {
            found.lastCheckpoint = e.lastCheckpoint
            found.replayed = from...found.step
            return found
        } catch {}
        return e
    }

    /// A training fault as a diagnostic: at the op's YAML line when a kernel was found.
    static func diagnostic(_ e: TrainingFault, spec: ModelSpec) -> Diagnostic {
        guard let f = e.fault else { return Diagnostic(id: "non-finite", message: e.description, at: nil, path: spec.file.path) }
        let range = f.location?.range(in: spec.file)
        // The location is in the message only when the excerpt cannot show it.
        var message = e.description
        if range != nil, let l = f.location { message = message.replacingOccurrences(of: "\(l.path):\(l.line):\(l.column): ", with: "") }
        return Diagnostic(id: "non-finite", message: message, at: range, path: spec.file.path)
    }

    func train(_ compiled: CompiledModel, options: RunOptions) throws {
        let spec = compiled.spec
        let trainer = try Trainer(spec: spec, plans: compiled.plans, options: options)
        let what = trainer.step > 0 ? "resuming at step \(trainer.step) of \(trainer.totalSteps)" : "training \(trainer.totalSteps) steps"
        Output.stderr("\(spec.name.value): \(what) (\(trainer.batchesPerEpoch) batches per epoch, schedule [\(trainer.schedule.joined(separator: ", "))], seed \(trainer.seed), \(options.threads) thread\(options.threads == 1 ? "" : "s"))\n")
        let s = try trainer.run()
        let losses = s.losses.map { "\($0.name) \(Self.short($0.value))" }.joined(separator: ", ")
        let epochs = Self.short(s.epochsDone)
        if s.interrupted {
            let by = s.signal == SIGTERM ? " by SIGTERM" : ""
            Output.stdout("interrupted\(by) at step \(s.steps) of \(trainer.totalSteps) (epoch \(epochs)); running loss \(losses)\n")
            Output.stdout("checkpoint: \(options.checkpointPath)\ncontinue with: \(resumeCommand(options))\n")
            // The shell's convention: 128 + the signal (130 for Ctrl-C, 143 for SIGTERM).
            throw ExitCode(128 + (s.signal == 0 ? SIGINT : s.signal))
        }
        Output.stdout("\(spec.name.value): \(s.steps) steps (\(epochs) epochs) in \(Self.duration(s.seconds)); running loss \(losses)\n")
        if let text = s.text { Output.stdout("--- sample ---\n\(text)\n--------------\n") }
        for (what, path) in s.files { Output.stdout("\(what): \(path)\n") }
    }

    func sample(_ compiled: CompiledModel, options: RunOptions) throws {
        let spec = compiled.spec
        guard spec.sample != nil else {
            throw Diagnostic(id: "no-sample", message: "model '\(spec.name.value)' has no 'sample:' section; nothing to sample", at: spec.name.range)
        }
        let store = ParameterStore()
        let sampler = try Sampler(spec: spec, plans: compiled.plans, store: store, threads: options.threads)
        let w = try weights.map { try SafeTensors.read(path: $0) }
        let seedValue = seed ?? UInt64(clamping: spec.train?.seed ?? 0)
        try Evaluator(compiled: compiled, threads: options.threads, seed: seedValue).prepare(store, weights: w)
        try AtomicFile.createDirectory(options.outDirectory)
        if let n = count {
            guard sampler.hasImages else { throw RuntimeError("--count writes image samples; model '\(spec.name.value)' samples text") }
            let dir = RunFiles.join(options.outDirectory, "samples"), tensor = RunFiles.join(options.outDirectory, "samples.safetensors")
            try sampler.writeSamples(count: n, directory: dir, tensorPath: tensor, seed: seedValue)
            Output.stdout("\(n) samples: \(dir)/ (PNG files)\ntensor: \(tensor)\n")
            return
        }
        if sampler.hasImages, let to = spec.sample?.images?.to {
            let path = RunFiles.join(options.outDirectory, to)
            try sampler.writeGrid(to: path, seed: seedValue)
            Output.stdout("samples: \(path)\n")
        }
        if sampler.hasReconstructions, let to = spec.sample?.reconstructions?.to {
            let path = RunFiles.join(options.outDirectory, to)
            try sampler.writeReconstructions(to: path, seed: seedValue)
            Output.stdout("reconstructions: \(path)\n")
        }
        if sampler.hasText {
            let text = try sampler.sampleText(seed: seedValue, prime: prime, length: length, temperature: temperature)
            let path = RunFiles.join(options.outDirectory, spec.sample?.text?.to ?? "samples.txt")
            try AtomicFile.write(text + "\n", to: path)
            Output.stdout("\(text)\n")
            Output.stderr("text sample: \(path)\n")
        }
    }

    /// The command that continues an interrupted run as it was started.
    func resumeCommand(_ o: RunOptions) -> String {
        var words = ["genc", "run", model.file] + model.dims.flatMap { ["--dim", $0] }
        words += ["--out", o.outDirectory, "--resume", o.checkpointPath]
        if let s = steps { words += ["--steps", String(s)] } else if let e = epochs { words += ["--epochs", String(e)] }
        words += ["--threads", String(o.threads)]
        if let c = checkpoint { words += ["--checkpoint", c] }
        if let n = checkpointEvery { words += ["--checkpoint-every", String(n)] }
        if let l = log { words += ["--log", l] }
        return words.map(Self.shellQuoted).joined(separator: " ")
    }

    /// A word as a POSIX shell reads it back: as is when it is plain, else in single quotes.
    static func shellQuoted(_ w: String) -> String {
        let plain = !w.isEmpty && w.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-_./=:,+@%".unicodeScalars.contains(c)
        }
        return plain ? w : "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func short(_ v: Double) -> String {
        guard v.isFinite, abs(v) < 1e15 else { return "\(v)" }
        let r = (v * 1000).rounded() / 1000
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0, s < 1e12 else { return "?" }
        let t = Int(s.rounded())
        return t < 60 ? "\(String(format1(s)))s" : "\(t / 60)m\(t % 60 < 10 ? "0" : "")\(t % 60)s"
    }

    static func format1(_ v: Double) -> String { String((v * 10).rounded() / 10) }
}
