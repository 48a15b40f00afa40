import GencIR
import GencSpec
import GencSupport

/// What a program computes; decides batchnorm and dropout behaviour.
public enum ProgramMode: String, Sendable, CaseIterable {
    /// A training step: batch statistics, running statistics updated for the
    /// networks the objective trains, dropout active.
    case train
    /// The numbers a training step computes (batch statistics, dropout
    /// active), with nothing updated (`genc eval`).
    case eval
    /// Sampling: running statistics, dropout off.
    case sample
    /// A training step's forward and backward passes with nothing updated:
    /// the loss and the gradients of the `update:` parameters (made by
    /// autodiff from the train program, `genc eval --grads`).
    case grad
}

/// One row of a network's summary table (`genc check`).
public struct LayerSummary: Sendable {
    public var name: String
    public var kind: String
    public var output: TensorType
    /// Trainable scalars this layer owns.
    public var parameters: Int
    /// Non-trainable scalars (running statistics).
    public var state: Int
}

public struct NetworkSummary: Sendable {
    public var name: String
    public var inputs: [(name: String, type: TensorType)]
    public var outputs: [(name: String, type: TensorType)]
    /// The network's own layers (a called network's layers are in its own summary).
    public var layers: [LayerSummary]
    /// Networks this one calls, directly or through others, in call order:
    /// their parameters are theirs, shared with every caller.
    public var calls: [String] = []
    /// Trainable scalars of the network's own layers.
    public var parameters: Int { layers.reduce(0) { $0 + $1.parameters } }
    public var state: Int { layers.reduce(0) { $0 + $1.state } }
}

/// What a parameter is, for initialisation and for people.
public struct ParameterInfo: Sendable, Equatable {
    public enum Role: String, Sendable {
        case weight, bias, scale, embedding, recurrentWeight = "recurrent_weight"
        case runningMean = "running_mean", runningVariance = "running_var"
        /// An optimizer's per-parameter slot (Adam's moments, SGD's momentum buffer).
        case optimizerSlot = "optimizer_slot"
        /// An optimizer's step count (a scalar).
        case stepCount = "step_count"
    }
    /// Whether an optimizer trains it.
    public var isTrainable: Bool {
        switch role {
        case .weight, .bias, .scale, .embedding, .recurrentWeight: return true
        case .runningMean, .runningVariance, .optimizerSlot, .stepCount: return false
        }
    }
    public var name: String
    public var type: TensorType
    public var role: Role
    public var layerKind: String
    /// Inputs feeding one output unit (PyTorch's fan-in).
    public var fanIn: Int
    public var fanOut: Int
    public var network: String
    public init(name: String, type: TensorType, role: Role, layerKind: String, fanIn: Int, fanOut: Int, network: String) {
        self.name = name
        self.type = type
        self.role = role
        self.layerKind = layerKind
        self.fanIn = fanIn
        self.fanOut = fanOut
        self.network = network
    }
}

/// A compiled program: its graph and what it is for.
public struct Program: Sendable {
    public var name: String
    public var mode: ProgramMode
    /// The objective it evaluates, if any.
    public var objective: String?
    public var graph: Graph
    public init(name: String, mode: ProgramMode, objective: String?, graph: Graph) {
        self.name = name
        self.mode = mode
        self.objective = objective
        self.graph = graph
    }
}

/// The model lowered to graph IR: per-network summaries, every parameter, and
/// the programs (each objective's training step forward graph and eval graph,
/// and the sampling graph).
public struct LoweredModel: Sendable {
    public var networks: [NetworkSummary]
    public var parameters: [ParameterInfo]
    public var programs: [Program]

    public func program(_ name: String) -> Program? { programs.first { $0.name == name } }
    public func network(_ name: String) -> NetworkSummary? { networks.first { $0.name == name } }
    /// Trainable scalars of the networks an objective updates.
    public func parameterCount(updating networks: [String]) -> Int {
        self.networks.filter { networks.contains($0.name) }.reduce(0) { $0 + $1.parameters }
    }
}

/// Spec → IR. Every network is lowered alone (for its summary and to report
/// its shape errors once), then each objective and the sampler as programs,
/// networks inlined at every call site with their parameters shared.
public enum Lowering {
    public static func lower(_ spec: ModelSpec) -> (LoweredModel?, [Diagnostic]) {
        var l = Lowerer(spec: spec)
        let model = l.lowerModel()
        var bag = DiagnosticBag()
        bag.append(contentsOf: l.diagnostics)
        return (bag.hasErrors ? nil : model, bag.sorted)
    }

    /// Program names: `train.OBJECTIVE`, `grad.OBJECTIVE`, `eval.OBJECTIVE`, `sample.images`, `sample.text`.
    public static func programName(_ mode: ProgramMode, _ what: String) -> String { "\(mode.rawValue).\(what)" }
}
