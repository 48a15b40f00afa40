import GencIR
import GencLower
import GencPlan
import GencSpec
import GencSupport

/// A model compiled to plans: its spec (data, training, sampling sections)
/// and one plan per program (`train.*`, `grad.*`, `eval.*`, `sample.*`),
/// whose persistent buffers name the parameters, optimizer slots and state
/// they share. `genc run`, `genc eval` and `genc bench` execute this value,
/// whether the front end compiled it in this process or it was read from a
/// plan file (`genc compile -o`), so the two run the same plans.
public struct CompiledModel: Sendable {
    public var spec: ModelSpec
    /// By program name.
    public var plans: [String: Plan]

    public init(spec: ModelSpec, plans: [String: Plan]) {
        self.spec = spec
        self.plans = plans
    }

    /// Every program of `model` planned, reusing `plans` (by name).
    public init(spec: ModelSpec, model: LoweredModel, plans: [String: Plan] = [:], options: PlanOptions = .optimized) throws {
        var all = plans
        for p in model.programs where all[p.name] == nil { all[p.name] = try Compiler.plan(p, model: model, options: options) }
        self.init(spec: spec, plans: all)
    }

    /// What the front end made, when the model is valid.
    public init?(_ r: FrontEnd.Result) {
        guard let spec = r.spec, !r.hasErrors, r.optimized != nil else { return nil }
        self.init(spec: spec, plans: r.plans)
    }

    /// The `mode` program of objective or sampler `name`.
    public func plan(_ mode: ProgramMode, _ name: String) -> Plan? { plans[Lowering.programName(mode, name)] }

    /// Every parameter and state buffer a plan binds, by name.
    public var persistentNames: Set<String> {
        var names = Set<String>()
        for p in plans.values { for b in p.persistent where b.kind.isModelState { names.insert(b.name) } }
        return names
    }

    /// Program names, sorted.
    public var programNames: [String] { plans.keys.sorted() }
}
