import GencIR
import GencLower
import GencSpec

/// Turns each objective's forward program into its training programs:
///
/// - `train.OBJECTIVE`: forward + backward + optimizer update, one step;
///   the loss as output; the parameters, the optimizer's slots and step
///   count, and batchnorm's running statistics updated in place.
/// - `grad.OBJECTIVE`: forward + backward; the loss and each `update:`
///   parameter's gradient (`grad.NAME`) as outputs; nothing updated.
///
/// Only the parameters of the networks an objective's `update:` names are
/// differentiated, and each program is pruned to what its outputs and
/// updates need. `eval.*` and `sample.*` programs pass through unchanged.
public enum TrainingSteps {
    /// The output name of a parameter's gradient in a `grad.*` program.
    public static func gradientOutput(_ parameter: String) -> String { "grad.\(parameter)" }
    public static func parameter(ofGradientOutput name: String) -> String? {
        name.hasPrefix("grad.") ? String(name.dropFirst(5)) : nil
    }

    /// Node counts, for reports and docs: the forward program, the
    /// differentiated one before pruning, and the two programs made.
    public struct Counts: Sendable {
        public var objective: String
        public var forward: Int
        public var appended: Int
        public var grad: Int
        public var train: Int?
    }

    public struct Output: Sendable {
        public var model: LoweredModel
        public var counts: [Counts]
    }

    public static func build(_ model: LoweredModel, spec: ModelSpec) throws -> Output {
        var programs: [Program] = []
        var parameters = model.parameters
        var counts: [Counts] = []
        let infos = Dictionary(model.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for program in model.programs {
            guard program.mode == .train, let name = program.objective, let objective = spec.objective(named: name) else {
                programs.append(program)
                continue
            }
            let forward = program.graph
            guard let loss = forward.outputs.first(where: { $0.name == "loss" })?.value else {
                throw AutodiffError("internal error: program '\(program.name)' has no loss", at: nil)
            }
            let networks = Set(objective.update.map(\.value))
            let trained = forward.parameters.map(\.name).filter { infos[$0].map { networks.contains($0.network) && $0.isTrainable } ?? false }
            let d = try Autodiff.differentiate(forward, loss: loss, parameters: trained)

            var grad = d.graph
            grad.name = forward.name.replacingSuffix(program.name, with: Lowering.programName(.grad, name))
            grad.outputs = [NamedValue("loss", loss)] + d.gradients.map { NamedValue(gradientOutput($0.name), $0.value) }
            grad.updates = []
            let gradProgram = Program(name: Lowering.programName(.grad, name), mode: .grad, objective: name, graph: Pruning.prune(grad))

            var count = Counts(objective: name, forward: forward.nodes.count, appended: d.appended, grad: gradProgram.graph.nodes.count)
            if let optimizer = objective.optimizer ?? spec.train?.optimizer {
                var e = Emitter(graph: d.graph, limit: Autodiff.maxNodes)
                let (updates, slots) = try OptimizerIR.append(optimizer, objective: name, gradients: d.gradients, to: &e)
                var step = e.graph
                step.outputs = [NamedValue("loss", loss)]
                step.updates = forward.updates + updates
                let train = Program(name: program.name, mode: .train, objective: name, graph: Pruning.prune(step))
                programs.append(train)
                count.train = train.graph.nodes.count
                for s in slots where !parameters.contains(where: { $0.name == s.name }) {
                    let owner = s.parameter.flatMap { infos[$0] }
                    parameters.append(ParameterInfo(name: s.name, type: s.type, role: s.parameter == nil ? .stepCount : .optimizerSlot,
                                                    layerKind: owner?.layerKind ?? "optimizer", fanIn: 0, fanOut: 0, network: owner?.network ?? ""))
                }
            }
            programs.append(gradProgram)
            counts.append(count)
        }
        var out = model
        out.programs = programs
        out.parameters = parameters
        return Output(model: out, counts: counts)
    }
}

extension String {
    /// `dcgan.train.d_loss` → `dcgan.grad.d_loss`.
    func replacingSuffix(_ suffix: String, with other: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + other : self + "." + other
    }
}
