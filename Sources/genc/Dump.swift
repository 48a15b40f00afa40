import ArgumentParser
import Genc
import GencIR
import GencLower
import GencSupport

/// `genc dump FILE`: print one stage of the compiler.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one stage of the compiler for a model.",
        discussion: """
        Stages: spec (the validated model, defaults filled in), ir (the graph of one program). \
        Programs: train (an objective's training-step forward graph), eval (the same, updating nothing), \
        sample (the sampling graph). Formats: text (stable, parseable), dot (Graphviz), json.
        Example: genc dump --stage ir --format dot models/dcgan.yaml | dot -Tsvg > dcgan.svg
        """)

    enum Stage: String, ExpressibleByArgument, CaseIterable { case spec, ir }
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, dot, json }
    enum ProgramKind: String, ExpressibleByArgument, CaseIterable { case train, eval, sample }

    @OptionGroup var model: ModelOptions

    @Option(help: "The stage to print: \(Stage.allCases.map(\.rawValue).joined(separator: ", ")).")
    var stage: Stage = .ir

    @Option(help: "Which program: \(ProgramKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var program: ProgramKind = .train

    @Option(help: "The objective whose program to print (default: the first scheduled).")
    var objective: String?

    @Option(help: "Output format: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: Format = .text

    func run() throws {
        let result = FrontEnd.load(path: model.file, options: model.specOptions)
        let (spec, lowered) = try Output.loaded(result)
        // An objective named on the command line must exist, whatever the program.
        if let o = objective, spec.objective(named: o) == nil {
            throw ValidationError("no objective '\(o)'\(Suggestions.suffix(for: o, among: spec.objectives.map(\.name)))")
        }
        if let o = objective, program == .sample || stage == .spec {
            throw ValidationError("--objective \(o) selects a train or eval program; it does not apply to \(stage == .spec ? "--stage spec" : "--program sample")")
        }
        switch stage {
        case .spec:
            switch format {
            case .text: Output.stdout(SpecDump.text(spec))
            case .json:
                guard case let .object(pairs) = CheckReport(spec: spec, lowered: lowered).json else { return }
                Output.stdout(JSONValue.object(pairs).serialized() + "\n")
            case .dot:
                throw ValidationError("--format dot prints graphs; use it with --stage ir")
            }
        case .ir:
            let name: String
            switch program {
            case .sample:
                guard let p = lowered.programs.first(where: { $0.mode == .sample }) else {
                    throw ValidationError("the model has no 'sample:' section, so no sampling program")
                }
                name = p.name
            case .train, .eval:
                let objectives = spec.train?.schedule.map(\.value) ?? spec.objectives.map(\.name)
                guard let o = objective ?? objectives.first ?? spec.objectives.first?.name else {
                    throw ValidationError("the model has no objectives, so no \(program.rawValue) program")
                }
                guard spec.objective(named: o) != nil else {
                    throw ValidationError("no objective '\(o)'\(Suggestions.suffix(for: o, among: spec.objectives.map(\.name)))")
                }
                name = Lowering.programName(program == .train ? .train : .eval, o)
            }
            guard let p = lowered.program(name) else { throw ValidationError("no program '\(name)'") }
            switch format {
            case .text: Output.stdout(IRText.print(p.graph))
            case .dot: Output.stdout(IRDot.print(p.graph))
            case .json: Output.stdout(IRJSON.value(p.graph).serialized() + "\n")
            }
        }
    }
}
