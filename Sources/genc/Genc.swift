import ArgumentParser
import Genc

/// The `genc` command: one thin file per verb; the work is in the library.
@main
struct GencCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genc",
        abstract: "A compiler for declarative generative models (GANs, VAEs, LSTMs) written in YAML.",
        version: GencVersion.string,
        subcommands: [Check.self, Dump.self]
    )
}
