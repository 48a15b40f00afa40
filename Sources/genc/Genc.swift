import ArgumentParser
import Genc
import GencSupport

/// The `genc` command: one thin file per verb; the work is in the library.
@main
struct GencCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "genc",
            abstract: "A compiler for declarative generative models (GANs, VAEs, LSTMs) written in YAML.",
            version: "\(GencVersion.string)\n\(OpenBLASSetup.description)",
            subcommands: [Check.self, Dump.self, Compile.self, Eval.self, Bench.self, Run.self]
        )
    }

    /// Parses and runs a verb. Every failure is printed one way: a model's
    /// problems as `FILE:LINE:COL: error: ...` by the verb itself (which then
    /// exits 1), command-line mistakes as `genc: error: ...` with the usage
    /// (exit 64), never ArgumentParser's own `Error:` prefix. A verb given
    /// `--json` also prints its failure as JSON on stdout, whatever it was.
    static func main() {
        OpenBLASSetup.requireKernelInstructions()
        OpenBLASSetup.ensureFastKernel()
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            fail(error, message: fullMessage(for: error), json: asksForJSON(arguments), file: nil)
        }
        do {
            try command.run()
        } catch {
            // A verb's own usage error: the message alone (its usage is in --help).
            let reporting = command as? JSONReporting
            fail(error, message: message(for: error), json: reporting?.json ?? false, file: reporting?.jsonFile)
        }
    }

    /// The verbs that take `--json` (the parse failed, so there is no
    /// command value to ask).
    static let jsonVerbs: Set<String> = [Check.configuration.commandName ?? "check", Eval.configuration.commandName ?? "eval",
                                         Bench.configuration.commandName ?? "bench", Compile.configuration.commandName ?? "compile"]

    /// Whether a command line that did not parse asked for JSON: a verb
    /// with `--json`, and `--json` before any `--`.
    static func asksForJSON(_ arguments: [String]) -> Bool {
        let options = arguments.prefix { $0 != "--" }
        guard let verb = options.first, jsonVerbs.contains(verb) else { return false }
        return options.contains("--json")
    }

    static func fail(_ error: Error, message text: String, json: Bool, file: String?) -> Never {
        if let code = error as? ExitCode { exit(withError: code) }
        let status = exitCode(for: error)
        if status == .success {
            // --help, --version
            Output.stdout(text.isEmpty ? "" : text + "\n")
            exit(withError: status)
        }
        var lines = text.components(separatedBy: "\n")
        if lines[0].hasPrefix("Error: ") { lines[0] = String(lines[0].dropFirst("Error: ".count)) }
        if !text.isEmpty {
            Output.stderr("genc: error: " + lines.joined(separator: "\n") + "\n")
        }
        if json {
            let id = status == .validationFailure ? "usage" : "internal"
            Output.stdout(Output.failureJSON(file: file, [Diagnostic(id: id, message: lines[0], at: nil)]).serialized() + "\n")
        }
        exit(withError: status)
    }
}
