#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Genc
import GencPlan
import GencLower
import GencRuntime
import GencSpec
import GencSupport

/// Where the CLI writes: people's output to stdout, diagnostics to stderr.
enum Output {
    static func stdout(_ s: String) {
        fputs(s, Glibc.stdout)
        fflush(Glibc.stdout)
    }

    static func stderr(_ s: String) {
        fputs(s, Glibc.stderr)
    }

    /// Prints a loaded model's diagnostics and returns its spec and
    /// programs; a model with errors ends the command (exit 1, or 64 when
    /// only the command line was wrong). With `json`, a failure also prints
    /// `{"file", "valid": false, "diagnostics": [...]}` on stdout, as
    /// `check --json` does.
    static func loaded(_ result: FrontEnd.Result, json: Bool = false) throws -> (ModelSpec, LoweredModel) {
        diagnostics(result.diagnostics)
        if result.hasErrors {
            if json { stdout(CheckOutput.json(result).serialized() + "\n") }
            throw ExitCode(result.isUsageError ? 64 : 1)
        }
        guard let spec = result.spec, let lowered = result.lowered else { throw ExitCode(1) }
        return (spec, lowered)
    }

    /// The compiled model of a YAML file (through the whole front end) or
    /// of a plan file from `genc compile -o` (its plans as written; the
    /// model's YAML, stored in the file, is validated again for its data,
    /// training and sampling sections). Diagnostics are printed as by
    /// `loaded`. `planOptions` re-plans a YAML model's programs (bench
    /// --unoptimized); `shareSchedule: false` compiles without
    /// `ScheduleSharing` (bench --no-schedule-sharing).
    static func compiled(file: String, dims: [String], json: Bool = false, planOptions: PlanOptions? = nil, shareSchedule: Bool = true) throws -> CompiledModel {
        if PlanFileLoader.isPlanFile(path: file) {
            if !dims.isEmpty { throw ValidationError("--dim applies when compiling: '\(file)' is a plan file; recompile the YAML with genc compile --dim") }
            if planOptions != nil { throw ValidationError("--unoptimized re-plans a model's programs; give the YAML file, not a plan file") }
            if !shareSchedule { throw ValidationError("--no-schedule-sharing recompiles a model; give the YAML file, not a plan file") }
            let r = PlanFileLoader.load(path: file)
            diagnostics(r.diagnostics)
            guard let c = r.compiled else {
                if json { stdout(failureJSON(file: file, r.diagnostics).serialized() + "\n") }
                throw ExitCode(1)
            }
            return c
        }
        let result = FrontEnd.load(path: file, options: ModelOptions.specOptions(dims), shareSchedule: shareSchedule)
        let (spec, _) = try loaded(result, json: json)
        if let o = planOptions, let m = result.optimized {
            do { return try CompiledModel(spec: spec, model: m, plans: [:], options: o) } catch { throw fail(error, file: file, json: json) }
        }
        guard let c = CompiledModel(result) else { throw ExitCode(1) }
        return c
    }

    static func compiled(_ m: ModelOptions, json: Bool = false) throws -> CompiledModel {
        try compiled(file: m.file, dims: m.dims, json: json)
    }

    /// Ends a verb that failed after loading (bad weights or inputs, not
    /// enough memory, a runtime error): the diagnostic on stderr, the same
    /// JSON as `check --json` on stdout with `json`, and exit 1.
    static func fail(_ error: Error, file: String, json: Bool) -> ExitCode {
        let d: Diagnostic
        switch error {
        case let e as Diagnostic: d = e
        case let e as RuntimeError: d = Diagnostic(id: "runtime", message: e.message, at: nil, path: file)
        case let e as SafeTensorsError: d = Diagnostic(id: "safetensors", message: e.description, at: nil, path: file)
        case let e as OutputError: d = Diagnostic(id: "output", message: e.message, at: nil, path: file)
        default: d = Diagnostic(id: "internal", message: "\(error)", at: nil, path: file)
        }
        diagnostics([d])
        if json { stdout(failureJSON(file: file, [d]).serialized() + "\n") }
        return ExitCode(1)
    }

    /// `--objective NAME` that the model does not define: a usage error
    /// (exit 64) with the closest name and every name, for every verb.
    static func unknownObjective(_ name: String, in spec: ModelSpec) -> ValidationError {
        let names = spec.objectives.map(\.name)
        let known = names.isEmpty ? "the model has none" : "the model's objectives: \(names.joined(separator: ", "))"
        return ValidationError("no objective '\(name)'\(Suggestions.suffix(for: name, among: names)); \(known)")
    }

    /// What `check --json` prints for a model that fails, for any failure:
    /// `{"file", "valid": false, "diagnostics": [...]}`.
    static func failureJSON(file: String?, _ ds: [Diagnostic]) -> JSONValue {
        .object([("file", file.map { .string($0) } ?? .null), ("valid", .bool(false)), ("diagnostics", DiagnosticRenderer().json(ds))])
    }

    /// Renders diagnostics, then a count line when there are errors.
    static func diagnostics(_ ds: [Diagnostic]) {
        guard !ds.isEmpty else { return }
        stderr(DiagnosticRenderer().render(ds))
        let errors = ds.filter { $0.severity == .error }.count
        if errors > 0 { stderr("\(errors) error\(errors == 1 ? "" : "s") generated.\n") }
    }
}

/// A verb with `--json`: every failure, usage errors included, is also
/// printed as JSON on stdout (`Output.failureJSON`).
protocol JSONReporting {
    var json: Bool { get }
    /// The model file, when the verb has one.
    var jsonFile: String? { get }
}

extension Check: JSONReporting { var jsonFile: String? { model.file } }
extension Eval: JSONReporting { var jsonFile: String? { model.file } }
extension Bench: JSONReporting { var jsonFile: String? { file } }
