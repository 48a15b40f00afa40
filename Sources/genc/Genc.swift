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
            subcommands: [Check.self, Dump.self, Eval.self, Bench.self]
        )
    }

    static func main() {
        OpenBLASSetup.ensureFastKernel()
        main(nil)
    }
}
