import ArgumentParser
import Genc
import GencSpec

/// Options shared by every verb that reads a model.
struct ModelOptions: ParsableArguments {
    @Argument(help: "The model file (YAML).")
    var file: String

    @Option(name: .customLong("dim"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Override a dim: NAME=VALUE (repeatable).", valueName: "NAME=VALUE"))
    var dims: [String] = []

    func validate() throws { try Self.validate(dims: dims) }

    /// One rule for every verb: each `--dim` is NAME=VALUE with VALUE a positive integer.
    static func validate(dims: [String]) throws {
        for d in dims where FrontEnd.parseDimOverride(d) == nil {
            throw ValidationError("--dim expects NAME=VALUE with a positive integer VALUE, got '\(d)'")
        }
    }

    var specOptions: SpecOptions { Self.specOptions(dims) }

    static func specOptions(_ dims: [String]) -> SpecOptions {
        SpecOptions(dimOverrides: dims.compactMap(FrontEnd.parseDimOverride))
    }
}
