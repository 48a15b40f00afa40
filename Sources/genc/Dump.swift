import ArgumentParser
import Genc
import GencIR
import GencLower
import GencPasses
import GencPlan
import GencSpec
import GencSupport

/// `genc dump FILE`: print one stage of the compiler.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one stage of the compiler for a model.",
        discussion: """
        Stages: spec (the validated model, defaults filled in), ir (the graph of one program as lowering makes it), \
        grad (after autodiff: the whole training step), optimized (after the simplification passes), \
        plan (the kernels after fusion and scheduling, each with the IR ops it holds and their YAML lines, \
        its slots in the arena, and the memory report; text only). \
        Programs: train (with --stage ir, an objective's training-step forward graph; with --stage grad, \
        forward + backward + optimizer update), grad (forward + backward, what eval --grads runs), \
        eval (the forward graph, updating nothing), sample (the sampling graph). \
        Formats: text (stable, parseable), dot (Graphviz), json.
        Example: genc dump --stage ir --format dot models/dcgan.yaml | dot -Tsvg > dcgan.svg
        A DOT graph of more than \(IRDot.collapseThreshold) ops is collapsed to one box per layer \
        (op counts inside, the types crossing on the edges), which Graphviz draws in seconds; \
        --collapse none draws every op, --collapse layers collapses a small graph too.
        """)

    enum Stage: String, ExpressibleByArgument, CaseIterable { case spec, ir, grad, optimized, plan }
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, dot, json }
    enum ProgramKind: String, ExpressibleByArgument, CaseIterable { case train, grad, eval, sample }
    enum Collapse: String, ExpressibleByArgument, CaseIterable { case auto, layers, none }

    @OptionGroup var model: ModelOptions

    @Option(help: "The stage to print: \(Stage.allCases.map(\.rawValue).joined(separator: ", ")).")
    var stage: Stage = .ir

    @Option(help: "Which program: \(ProgramKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var program: ProgramKind = .train

    @Option(help: "The objective whose program to print (default: the first scheduled).")
    var objective: String?

    @Option(help: ArgumentHelp("With --program sample: which sampler (default: the first the model has).", valueName: "images|reconstructions|text"))
    var sampler: String?

    @Option(name: .customLong("print-after"), help: ArgumentHelp("Print the program after this pass of the optimizing pipeline (\(Pipeline.standard.names.joined(separator: ", "))); implies --stage optimized.", valueName: "PASS"))
    var printAfter: String?

    @Flag(help: "With --stage optimized or plan: compile without schedule sharing (each training program computes everything it reads; the generator forward of a GAN in both objectives).")
    var noScheduleSharing = false

    @Option(help: "Output format: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: Format = .text

    @Option(help: ArgumentHelp("For --format dot: one box per layer (layers), one per op (none), or layers above \(IRDot.collapseThreshold) ops (auto, the default).",
                               valueName: Collapse.allCases.map(\.rawValue).joined(separator: "|")))
    var collapse: Collapse?

    func validate() throws {
        if let c = collapse, format != .dot {
            throw ValidationError("--collapse \(c.rawValue) applies to --format dot, not --format \(format.rawValue)")
        }
        if let p = printAfter {
            guard Pipeline.standard.names.contains(p) else {
                throw ValidationError("--print-after takes a pass of the pipeline (\(Pipeline.standard.names.joined(separator: ", "))), got '\(p)'\(Suggestions.suffix(for: p, among: Pipeline.standard.names))")
            }
            guard stage == .optimized || stage == .ir else { throw ValidationError("--print-after prints a stage of the optimizing pipeline; it does not apply to --stage \(stage.rawValue)") }
        }
        if let s = sampler {
            guard ["images", "reconstructions", "text"].contains(s) else { throw ValidationError("--sampler must be images, reconstructions or text, got '\(s)'") }
            guard program == .sample else { throw ValidationError("--sampler applies to --program sample") }
        }
    }

    func run() throws {
        let result = FrontEnd.load(path: model.file, options: model.specOptions, shareSchedule: !noScheduleSharing)
        let (spec, lowered) = try Output.loaded(result)
        // An objective named on the command line must exist, whatever the program.
        if let o = objective, spec.objective(named: o) == nil {
            throw Output.unknownObjective(o, in: spec)
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
                throw ValidationError("--format dot prints graphs; use it with --stage ir or grad")
            }
        case .ir, .grad, .optimized, .plan:
            // ir: as lowered (train is the step's forward pass); grad: after
            // autodiff; optimized: after the passes (what is planned and run).
            let stage = printAfter == nil ? stage : .optimized
            guard let models = stage == .ir ? result.forward : stage == .grad ? lowered : printAfter == nil ? result.optimized : lowered else { return }
            if stage == .plan, format != .text { throw ValidationError("--stage plan prints text; --format \(format.rawValue) applies to the graph stages") }
            if stage == .ir, program == .grad {
                throw ValidationError("grad programs are made by autodiff: use --stage grad --program grad")
            }
            if stage == .grad, program == .eval || program == .sample {
                throw ValidationError("--stage grad prints the train program (forward, backward, update) or the grad program (forward, backward); \(program.rawValue) programs are not differentiated, see --stage ir")
            }
            let name: String
            switch program {
            case .sample:
                let samplers = models.programs.filter { $0.mode == .sample }
                guard let first = samplers.first else {
                    throw ValidationError("the model has no 'sample:' section, so no sampling program")
                }
                if let s = sampler {
                    let wanted = Lowering.programName(.sample, s)
                    guard samplers.contains(where: { $0.name == wanted }) else {
                        throw ValidationError("the model has no '\(s)' sampler; it has \(samplers.map { String($0.name.dropFirst("sample.".count)) }.joined(separator: ", "))")
                    }
                    name = wanted
                } else {
                    name = first.name
                }
            case .train, .grad, .eval:
                let objectives = spec.train?.schedule.map(\.value) ?? spec.objectives.map(\.name)
                guard let o = objective ?? objectives.first ?? spec.objectives.first?.name else {
                    throw ValidationError("the model has no objectives, so no \(program.rawValue) program")
                }
                guard spec.objective(named: o) != nil else {
                    throw Output.unknownObjective(o, in: spec)
                }
                name = Lowering.programName(program == .train ? .train : program == .grad ? .grad : .eval, o)
            }
            guard let p = models.program(name) else {
                if program == .train, stage == .grad {
                    throw ValidationError("objective has no optimizer (neither its own 'optimizer:' nor train's), so there is no training step '\(name)'; --program grad prints its gradients")
                }
                throw ValidationError("no program '\(name)'")
            }
            if stage == .plan {
                guard let plan = result.plans[name] else { throw ValidationError("no plan for program '\(name)'") }
                Output.stdout(PlanText.print(plan))
                return
            }
            var graph = p.graph
            if let pass = printAfter {
                // The pipeline again on this program, stopping after PASS.
                var g = p.graph
                for q in Pipeline.standard.passes {
                    _ = try q.run(&g)
                    if q.name == pass { break }
                }
                graph = g
            }
            switch format {
            case .text: Output.stdout(IRText.print(graph))
            case .dot: Output.stdout(dot(graph, spec: spec))
            case .json: Output.stdout(IRJSON.value(graph).serialized() + "\n")
            }
        }
    }

    /// The DOT of a graph, collapsed when asked or when it is too big for
    /// Graphviz to draw op by op (then saying so on stderr).
    func dot(_ g: Graph, spec: ModelSpec) -> String {
        let n = g.nodes.count
        switch collapse ?? .auto {
        case .none: return IRDot.print(g)
        case .layers: break
        case .auto:
            guard n > IRDot.collapseThreshold else { return IRDot.print(g) }
            Output.stderr("genc: note: '\(g.name)' has \(n) ops, more than Graphviz draws quickly, so it is drawn one box per layer; --collapse none draws every op\n")
        }
        return IRDot.printCollapsed(g) { DotSource.text(at: $0, in: spec.file) }
    }
}
