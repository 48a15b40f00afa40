import GencIR
import GencLower
import GencPlan
import GencRuntime

/// From a lowered model to runnable plans: each program planned, each
/// parameter given PyTorch's default initialisation.
public enum Compiler {
    /// PyTorch's defaults (and so Keras users' expectations of a PyTorch
    /// model): dense, conv, conv_transpose and LSTM weights and biases
    /// U(±1/√fan_in); embedding N(0, 1); batchnorm/layernorm scale 1, bias 0;
    /// running mean 0, running variance 1. docs/runtime.md has the table.
    public static func initializer(_ info: ParameterInfo?) -> Initializer {
        guard let info else { return .constant(0) }
        switch info.role {
        case .scale: return .constant(1)
        case .runningMean: return .constant(0)
        case .runningVariance: return .constant(1)
        case .optimizerSlot, .stepCount: return .constant(0)
        case .embedding: return .normal(std: 1)
        case .bias where info.layerKind == "batchnorm" || info.layerKind == "layernorm": return .constant(0)
        case .weight, .bias, .recurrentWeight:
            return .uniform(bound: 1 / Double(max(info.fanIn, 1)).squareRoot())
        }
    }

    /// The plan of one program.
    public static func plan(_ program: Program, model: LoweredModel, options: PlanOptions = .optimized) throws -> Plan {
        let infos = Dictionary(model.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return try Planner.plan(program.graph, options: options) { name, _, _ in initializer(infos[name]) }
    }
}
