import GencAutodiff
import GencIR
import GencLower
import GencPasses
import GencPlan
import GencRuntime
import GencSpec
import GencSupport
import GencSyntax

/// The library's front door for the first stage: file → YAML tree → spec.
///
/// Everything the CLI does goes through here, so a Swift program can do the
/// same by importing `Genc`.
public enum FrontEnd {
    /// What loading a model produced: the spec when valid, and every diagnostic.
    public struct Result {
        public var file: SourceFile?
        public var spec: ModelSpec?
        /// The graph IR (networks' summaries and programs), when the spec is
        /// valid and every shape checks: `train.*` programs are whole
        /// training steps (forward, backward, optimizer update), `grad.*`
        /// their forward and backward passes (autodiff).
        public var lowered: LoweredModel?
        /// The programs as lowering made them, before autodiff: `train.*` is
        /// the forward pass of a training step (`genc dump --stage ir`).
        public var forward: LoweredModel?
        /// The programs after the optimizing passes (`GencPasses`), which
        /// are what gets planned and run (`genc dump --stage optimized`).
        public var optimized: LoweredModel?
        /// What each pass did, per program.
        public var passRecords: [String: [Pipeline.Record]] = [:]
        /// Node counts of autodiff, per objective.
        public var autodiffCounts: [TrainingSteps.Counts] = []
        public var diagnostics: [Diagnostic]
        /// Each program's plan, by program name (made to check that the
        /// runtime can run it; reused for the memory summary).
        public var plans: [String: Plan] = [:]
        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
        /// Whether the only problems are in how the command line was used.
        public var isUsageError: Bool {
            hasErrors && diagnostics.filter { $0.severity == .error }.allSatisfy { $0.id == "unknown-dim-override" }
        }
    }

    /// Reads and validates the model file at `path`. `shareSchedule: false`
    /// leaves out `ScheduleSharing` (every training program computes all it
    /// reads; for A/B measurements and tests).
    public static func load(path: String, options: SpecOptions = SpecOptions(), shareSchedule: Bool = true) -> Result {
        switch SourceLoader.load(path: path) {
        case let .failure(d):
            return Result(file: nil, spec: nil, lowered: nil, diagnostics: [d])
        case let .success(file):
            return load(file: file, options: options, shareSchedule: shareSchedule)
        }
    }

    /// Validates an in-memory model file.
    public static func load(file: SourceFile, options: SpecOptions = SpecOptions(), shareSchedule: Bool = true) -> Result {
        let (root, yamlProblems) = YAMLReader().read(file)
        guard let root else { return Result(file: file, spec: nil, lowered: nil, diagnostics: yamlProblems) }
        let (spec, problems) = SpecValidator.validate(root, file: file, options: options)
        let all = yamlProblems + problems
        guard let spec, !all.contains(where: { $0.severity == .error }) else {
            return Result(file: file, spec: nil, lowered: nil, diagnostics: all)
        }
        // Shapes: lower every network and program; shape errors are diagnostics too.
        let (forward, shapeProblems) = Lowering.lower(spec)
        var lowered: LoweredModel?
        var autodiffProblems: [Diagnostic] = []
        var counts: [TrainingSteps.Counts] = []
        if let forward {
            do {
                let steps = try TrainingSteps.build(forward, spec: spec)
                lowered = steps.model
                counts = steps.counts
            } catch let e as AutodiffError {
                autodiffProblems.append(Diagnostic(id: "autodiff", message: e.message, at: e.location?.range(in: file), path: file.path))
            } catch {
                autodiffProblems.append(Diagnostic(id: "autodiff", message: "\(error)", at: nil, path: file.path))
            }
        }
        var verified = lowered.map(verify) ?? []
        var optimized: LoweredModel?
        var passRecords: [String: [Pipeline.Record]] = [:]
        if verified.isEmpty, let lowered {
            do {
                // The verifier after every pass in debug builds (and so in the tests).
                #if DEBUG
                let each = true
                #else
                let each = false
                #endif
                let r = try ModelOptimizer.optimize(lowered, schedule: shareSchedule ? spec.train?.schedule.map(\.value) ?? [] : [], verify: each)
                optimized = r.model
                passRecords = r.records
                verified = verify(r.model)
            } catch {
                verified.append(Diagnostic(id: "internal-passes", message: "internal error: \(error)", at: nil, path: file.path))
            }
        }
        var plans: [String: Plan] = [:]
        var runnable: [Diagnostic] = []
        if verified.isEmpty, let optimized {
            for p in optimized.programs {
                do {
                    plans[p.name] = try Compiler.plan(p, model: optimized)
                } catch {
                    runnable.append(Diagnostic(id: "internal-planner", message: "internal error: program '\(p.name)' cannot be planned: \(error)", at: nil, path: file.path))
                }
            }
            runnable += supported(plans, file: file)
        }
        var result = Result(file: file, spec: spec, lowered: lowered, diagnostics: all + shapeProblems + autodiffProblems + verified + runnable)
        result.forward = forward
        result.optimized = optimized
        result.passRecords = passRecords
        result.autodiffCounts = counts
        result.plans = plans
        return result
    }

    /// The spec of a model file and its diagnostics, without lowering it
    /// (a plan file's stored YAML: its plans are already made).
    public static func spec(file: SourceFile, options: SpecOptions = SpecOptions()) -> (ModelSpec?, [Diagnostic]) {
        let (root, yamlProblems) = YAMLReader().read(file)
        guard let root else { return (nil, yamlProblems) }
        let (spec, problems) = SpecValidator.validate(root, file: file, options: options)
        return (spec, yamlProblems + problems)
    }

    /// What the runtime would refuse to load, found now and reported at the
    /// op's YAML line, so that a model `check` accepts always loads.
    static func supported(_ plans: [String: Plan], file: SourceFile) -> [Diagnostic] {
        var bag = DiagnosticBag()
        for (_, plan) in plans.sorted(by: { $0.key < $1.key }) {
            for u in Executable.unsupported(plan) {
                bag.append(Diagnostic(id: "unsupported-by-runtime", message: u.message, at: u.location?.range(in: file), path: file.path))
            }
        }
        return bag.sorted
    }

    /// The IR verifier on every program; a failure here is a compiler bug,
    /// reported as an error rather than hidden.
    static func verify(_ m: LoweredModel) -> [Diagnostic] {
        m.programs.flatMap { p in
            Verifier.verify(p.graph).map {
                Diagnostic(id: "internal-verifier", message: "internal error: program '\(p.name)' fails verification: \($0)", at: nil, path: p.graph.name)
            }
        }
    }

    /// Parses `NAME=VALUE` (`--dim batch=16`); nil when malformed.
    public static func parseDimOverride(_ text: String) -> (name: String, value: Int)? {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let v = Int(parts[1].trimmingCharacters(in: " ")), v >= 1 else { return nil }
        return (String(parts[0]).trimmingCharacters(in: " "), v)
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String { String(self).trimmingCharacters(in: set) }
}
