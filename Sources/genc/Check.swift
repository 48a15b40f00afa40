import ArgumentParser
import Genc
import GencSupport

/// `genc check FILE`: validate a model and summarise it.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a model file and print a summary of it.",
        discussion: "Exit status: 0 valid, 1 the model is wrong (every problem is printed), 64 bad usage.")

    @OptionGroup var model: ModelOptions

    @Flag(help: "Print the summary (or the diagnostics) as JSON on standard output.")
    var json = false

    func run() throws {
        let result = FrontEnd.load(path: model.file, options: model.specOptions)
        Output.diagnostics(result.diagnostics)
        if json {
            Output.stdout(CheckOutput.json(result).serialized() + "\n")
        }
        if result.hasErrors { throw ExitCode(result.isUsageError ? 64 : 1) }
        if !json, let spec = result.spec, let lowered = result.lowered {
            Output.stdout(CheckReport(spec: spec, lowered: lowered, plans: result.plans).text)
        }
    }
}
