import ArgumentParser
import Genc
import GencIR
import GencPlan
import GencSpec
import GencSupport

/// `genc compile FILE [-o OUT.gencplan]`: every program through the whole
/// pipeline, a summary of what fusion and buffer planning did, and the plan
/// file that `run`, `eval` and `bench` load without recompiling.
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a model's programs; with -o, write the plan file that run, eval and bench load.",
        discussion: """
        Prints per program: IR ops before fusion, kernels after it (and how many are fused groups), \
        the arena (bytes of activations), what giving every value its own buffer would take (naive), \
        the lower bound (the most bytes live at once in the schedule), the persistent bytes (parameters, \
        optimizer slots, state, constants) and the FLOPs of its GEMMs and convolutions. \
        The plan file holds every program's plan and the model's YAML; a plan file from another format \
        version, or a corrupt one, is refused with a message. docs/passes.md describes both.
        """)

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the plan file here (written atomically).", valueName: "OUT.gencplan"))
    var output: String?

    @Flag(help: "Print {\"programs\": {NAME: {...}}} as JSON (on failure, the diagnostics as `check --json` prints them).")
    var json = false

    func run() throws {
        guard !PlanFileLoader.isPlanFile(path: model.file) else {
            throw ValidationError("'\(model.file)' is already a plan file; compile the model's YAML")
        }
        let result = FrontEnd.load(path: model.file, options: model.specOptions)
        _ = try Output.loaded(result, json: json)
        guard let compiled = CompiledModel(result), let file = result.file else { throw ExitCode(1) }
        if let out = output {
            do {
                let bytes = PlanFileLoader.planFile(compiled, source: file, dims: model.specOptions.dimOverrides).encoded()
                try AtomicFile.write(bytes, to: out)
            } catch {
                throw Output.fail(error, file: model.file, json: json)
            }
        }
        let rows = compiled.programNames.compactMap { n in compiled.plans[n].map { (n, $0) } }
        // Ops as autodiff made them, before the optimizing passes.
        var before: [String: Int] = [:]
        for p in result.lowered?.programs ?? [] { before[p.name] = p.graph.nodes.filter { !$0.op.isLeaf }.count }

        if json {
            var programs: [(String, JSONValue)] = []
            for (name, p) in rows {
                let r = p.report
                programs.append((name, .object([
                    ("ops_before", .int(before[name] ?? r.ops)), ("ops_after", .int(r.ops)), ("kernels", .int(r.kernels)),
                    ("fused_groups", .int(r.fusedGroups)), ("arena_bytes", .int(r.arenaBytes)), ("naive_bytes", .int(r.naiveBytes)),
                    ("lower_bound_bytes", .int(r.lowerBoundBytes)), ("persistent_bytes", .int(r.persistentBytes)), ("flops", .int(r.flops)),
                ])))
            }
            var top: [(String, JSONValue)] = [("file", .string(model.file)), ("model", .string(compiled.spec.name.value)), ("programs", .object(programs))]
            if let out = output { top.append(("plan_file", .string(out))) }
            Output.stdout(JSONValue.object(top).serialized() + "\n")
            return
        }
        Output.stdout(Self.table(rows, before: before))

        if let out = output { Output.stdout("plan file: \(out)\n") }
    }

    static func table(_ plans: [(String, Plan)], before: [String: Int]) -> String {
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            s.count >= n ? s : left ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count)
        }
        let f = MemoryEstimate.format
        var out = pad("program", 26) + pad("ops", 7, left: true) + pad("passes", 8, left: true) + pad("kernels", 9, left: true) + pad("fused", 7, left: true)
            + pad("arena", 11, left: true) + pad("naive", 11, left: true) + pad("lower bd", 11, left: true) + pad("persist.", 11, left: true)
            + pad("GFLOP", 9, left: true) + "\n"
        for (name, p) in plans {
            let r = p.report
            let gflop = Double(r.flops) / 1e9
            out += pad(name, 26) + pad("\(before[name] ?? r.ops)", 7, left: true) + pad("\(r.ops)", 8, left: true) + pad("\(r.kernels)", 9, left: true) + pad("\(r.fusedGroups)", 7, left: true)
                + pad(f(r.arenaBytes), 11, left: true) + pad(f(r.naiveBytes), 11, left: true) + pad(f(r.lowerBoundBytes), 11, left: true)
                + pad(f(r.persistentBytes), 11, left: true) + pad(String(format: "%.3f", gflop), 9, left: true) + "\n"
        }
        return out
    }
}

extension Compile: JSONReporting { var jsonFile: String? { model.file } }
