import ArgumentParser
import Genc

/// The `genc` command: one thin file per verb; the work is in the library.
@main
struct GencCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "genc",
            abstract: "A compiler for declarative generative models (GANs, VAEs, LSTMs) written in YAML.",
            version: "\(GencVersion.string)\n\(OpenBLASSetup.description)",
            subcommands: [Check.self, Dump.self, Eval.self, Bench.self, Run.self]
        )
    }

    /// Parses and runs a verb. Every failure is printed one way: a model's
    /// problems as `FILE:LINE:COL: error: ...` by the verb itself (which then
    /// exits 1), command-line mistakes as `genc: error: ...` with the usage
    /// (exit 64), never ArgumentParser's own `Error:` prefix.
    static func main() {
        OpenBLASSetup.ensureFastKernel()
        var command: ParsableCommand
        do {
            command = try parseAsRoot(nil)
        } catch {
            fail(error, message: fullMessage(for: error))
        }
        do {
            try command.run()
        } catch {
            // A verb's own usage error: the message alone (its usage is in --help).
            fail(error, message: message(for: error))
        }
    }

    static func fail(_ error: Error, message text: String) -> Never {
        if let code = error as? ExitCode { exit(withError: code) }
        let status = exitCode(for: error)
        if status == .success {
            // --help, --version
            Output.stdout(text.isEmpty ? "" : text + "\n")
        } else if !text.isEmpty {
            var lines = text.components(separatedBy: "\n")
            if lines[0].hasPrefix("Error: ") { lines[0] = String(lines[0].dropFirst("Error: ".count)) }
            Output.stderr("genc: error: " + lines.joined(separator: "\n") + "\n")
        }
        exit(withError: status)
    }
}
