import ArgumentParser
import Genc
import GencRuntime
import GencSupport

/// `genc eval FILE`: evaluate objectives once on given weights and inputs.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate objectives once, exactly as a training step computes them, updating nothing.",
        discussion: """
        Without --weights, parameters are freshly initialised from --seed. Inputs come from --inputs \
        (a safetensors file with one tensor per input name); noise inputs that are not given are \
        sampled from --seed; a data input that is not given is an error.
        """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Weights (a safetensors checkpoint: parameters and state by name).")
    var weights: String?

    @Option(help: "Inputs (a safetensors file: one tensor per input name).")
    var inputs: String?

    @Option(help: "The objective to evaluate (repeatable; default: all).")
    var objective: [String] = []

    @Option(help: "Seed for initialisation, noise and random ops.")
    var seed: UInt64 = 0

    @Option(help: "Threads for BLAS and parallel loops (default: all cores).")
    var threads: Int = Threads.available

    @Flag(help: "Print {\"objectives\": {NAME: value}} as JSON.")
    var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let result = FrontEnd.load(path: model.file, options: model.specOptions)
        let (spec, lowered) = try Output.loaded(result)
        for o in objective where spec.objective(named: o) == nil {
            throw ValidationError("no objective '\(o)'\(Suggestions.suffix(for: o, among: spec.objectives.map(\.name)))")
        }
        do {
            Threads.configure(threads)
            let w = try weights.map { try SafeTensors.read(path: $0) }
            let i = try inputs.map { try SafeTensors.read(path: $0) }
            let values = try Evaluator(spec: spec, model: lowered, threads: threads, seed: seed).evaluate(objectives: objective, weights: w, inputs: i)
            if json {
                Output.stdout(JSONValue.object([("objectives", .object(values.map { ($0.name, .double($0.value)) }))]).serialized() + "\n")
            } else {
                for (name, v) in values { Output.stdout("\(name): \(v)\n") }
            }
        } catch let e as RuntimeError {
            Output.stderr("\(model.file): error: \(e.message)\n")
            throw ExitCode(1)
        } catch let e as SafeTensorsError {
            Output.stderr("\(model.file): error: \(e.description)\n")
            throw ExitCode(1)
        }
    }
}
