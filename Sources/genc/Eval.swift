import ArgumentParser
import Genc
import GencRuntime
import GencSpec
import GencSupport

/// `genc eval FILE`: evaluate objectives once on given weights and inputs.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate objectives once, exactly as a training step computes them, updating nothing.",
        discussion: """
        Without --weights, parameters are freshly initialised from --seed. Inputs come from --inputs \
        (a safetensors file with one tensor per input name, each of exactly the input's shape and \
        type; a name that is not an input is an error); noise inputs that are not given are sampled \
        from --seed; a data input that is not given is an error. A model that needs more memory than \
        --max-memory (default: what is available) is refused before anything is allocated.
        """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Weights (a safetensors checkpoint: parameters and state by name).")
    var weights: String?

    @Option(help: "Inputs (a safetensors file: one tensor per input name).")
    var inputs: String?

    @Option(help: ArgumentHelp("Average every objective over the whole train or test split of its datasets (complete batches, in dataset order).", valueName: "train|test"))
    var split: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --split: only the first N batches of the split.", valueName: "N"))
    var batches: Int?

    @Option(help: "The objective to evaluate (repeatable; default: all).")
    var objective: [String] = []

    @Option(parsing: .unconditional, help: "Seed for initialisation, noise and random ops.")
    var seed: UInt64 = 0

    @OptionGroup var threading: ThreadOptions
    @OptionGroup var memory: MemoryOptions

    @Option(help: ArgumentHelp("Write the gradients of the objective (one --objective, or the model's only one) with respect to its update: parameters to this safetensors file, keyed like the weights.", valueName: "OUT.safetensors"))
    var grads: String?

    @Flag(help: "Print {\"objectives\": {NAME: value}} as JSON (on failure, the diagnostics as `check --json` prints them).")
    var json = false

    func validate() throws {
        if let n = batches {
            guard split != nil else { throw ValidationError("--batches applies to --split") }
            guard n >= 1 else { throw ValidationError("--batches must be at least 1, got \(n)") }
        }
        if let s = split {
            guard DatasetSpec.Split(rawValue: s) != nil else { throw ValidationError("--split must be train or test, got '\(s)'") }
            if inputs != nil { throw ValidationError("--split reads the inputs from the model's datasets; --inputs does not apply") }
            if grads != nil { throw ValidationError("--grads evaluates one batch (--inputs); it does not combine with --split") }
        }
    }

    func run() throws {
        let compiled = try Output.compiled(model, json: json)
        let spec = compiled.spec
        for o in objective where spec.objective(named: o) == nil {
            throw Output.unknownObjective(o, in: spec)
        }
        var gradObjective: String?
        if grads != nil {
            guard objective.count <= 1, let name = objective.first ?? (spec.objectives.count == 1 ? spec.objectives.first?.name : nil) else {
                throw ValidationError("--grads writes the gradients of one objective: name it with --objective (the model has \(spec.objectives.map(\.name).joined(separator: ", ")))")
            }
            gradObjective = name
        }
        let threads = threading.threads
        do {
            Threads.configure(threads)
            let w = try weights.map { try SafeTensors.read(path: $0) }
            let i = try inputs.map { try SafeTensors.read(path: $0) }
            let evaluator = Evaluator(compiled: compiled, threads: threads, seed: seed, memoryLimit: memory.limit)
            var values: [(name: String, value: Double)]
            if let s = split.flatMap(DatasetSpec.Split.init(rawValue:)) {
                let results = try evaluator.evaluate(split: s, objectives: objective, weights: w, maxBatches: batches)
                values = results.map { ($0.name, $0.value) }
                if !json {
                    for r in results {
                        Output.stdout("\(r.name): \(r.value)\n")
                        let which = r.batches < r.available ? "the first \(r.batches) of \(r.available) batches" : "\(r.batches) batch\(r.batches == 1 ? "" : "es")"
                        let rest = r.batches == r.available && r.leftOut > 0 ? " (\(r.leftOut) left out: fewer than one batch)" : ""
                        Output.stderr("\(r.name): mean over the \(s.rawValue) split: \(which), \(r.samples) samples\(rest)\n")
                    }
                    return
                }
            } else if let grads, let name = gradObjective {
                let (loss, tensors) = try evaluator.gradients(objective: name, weights: w, inputs: i)
                let file = SafeTensors(tensors: tensors.map { ($0.name, SafeTensors.Tensor(f32: $0.floats, shape: $0.type.shape)) },
                                       metadata: ["objective": name, "loss": "\(loss)"])
                try file.write(path: grads)
                values = [(name, loss)]
            } else {
                values = try evaluator.evaluate(objectives: objective, weights: w, inputs: i)
            }
            if json {
                Output.stdout(JSONValue.object([("objectives", .object(values.map { ($0.name, .double($0.value)) }))]).serialized() + "\n")
            } else {
                for (name, v) in values { Output.stdout("\(name): \(v)\n") }
            }
        } catch {
            throw Output.fail(error, file: model.file, json: json)
        }
    }
}
