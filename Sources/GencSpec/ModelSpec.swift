import GencSupport
import GencSyntax

/// A value with the place in the model file it was written.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var range: SourceRange
    public init(_ value: Value, _ range: SourceRange) {
        self.value = value
        self.range = range
    }
}

/// The typed, validated model description (LANGUAGE.md): what a model file
/// says, with every name resolved, every dim evaluated and every value in
/// range. Shapes of intermediate values are not known here (GencLower infers
/// them); the shapes written in the file are.
public struct ModelSpec: Sendable {
    public var file: SourceFile
    public var version: Int
    public var name: Located<String>
    public var description: String?
    /// In file order; values after `--dim` overrides.
    public var dims: [DimSpec]
    public var inputs: [InputSpec]
    public var networks: [NetworkSpec]
    public var objectives: [ObjectiveSpec]
    public var train: TrainSpec?
    public var sample: SampleSpec?

    public func network(named n: String) -> NetworkSpec? { networks.first { $0.name == n } }
    public func input(named n: String) -> InputSpec? { inputs.first { $0.name == n } }
    public func objective(named n: String) -> ObjectiveSpec? { objectives.first { $0.name == n } }
    public func dim(named n: String) -> DimSpec? { dims.first { $0.name == n } }
}

public struct DimSpec: Sendable {
    public var name: String
    public var value: Int
    /// The key in `dims:`.
    public var range: SourceRange
    /// Whether `--dim` replaced the file's value.
    public var isOverridden: Bool
}

public enum DType: String, Sendable, CaseIterable {
    case f32, i32
}

/// A static shape and element type, as written (`[batch, steps + 1]`).
public struct TensorTypeSpec: Sendable {
    public var shape: [Int]
    public var dtype: DType
    /// The shape list in the file.
    public var range: SourceRange
    public var elementCount: Int { shape.reduce(1, *) }
}

public enum NoiseSpec: Sendable, Equatable {
    case normal(mean: Double, std: Double)
    case uniform(low: Double, high: Double)
}

/// An entry of `inputs:`: data, noise or targets fed to the programs.
public struct InputSpec: Sendable {
    public var name: String
    public var range: SourceRange
    public var type: TensorTypeSpec
    /// Fresh noise each step, or nil for data.
    public var noise: NoiseSpec?
}

/// An argument of a network (`in:`).
public struct ArgumentSpec: Sendable {
    public var name: String
    public var range: SourceRange
    public var type: TensorTypeSpec
}

public struct NetworkSpec: Sendable {
    public var name: String
    public var range: SourceRange
    public var arguments: [ArgumentSpec]
    public var body: NetworkBody
    /// The `out:` names (a `layers:` stack has none: its last layer is the output).
    public var outputs: [Located<String>]
    /// Whether `out:` was a list, so a call returns a record (`encoder(x).mu`).
    public var returnsRecord: Bool
    /// Networks called from this one's expressions.
    public var callees: [String]

    /// Every layer, in file order.
    public var layers: [LayerSpec] {
        switch body {
        case let .layers(ls): return ls
        case let .graph(nodes): return nodes.compactMap { if case let .layer(l, _) = $0.kind { return l } else { return nil } }
        }
    }
    /// Whether any layer owns parameters.
    public var hasParameters: Bool { layers.contains { $0.kind.ownsParameters } }
}

public enum NetworkBody: Sendable {
    case layers([LayerSpec])
    case graph([GraphNodeSpec])
}

/// A node of a network's `graph:`.
public struct GraphNodeSpec: Sendable {
    public enum Kind: Sendable {
        case layer(LayerSpec, from: [Located<String>])
        case expression(Expr)
    }
    public var name: String
    public var range: SourceRange
    public var kind: Kind
}

/// A node of an objective's `graph:`.
public struct ExpressionNodeSpec: Sendable {
    public var name: String
    public var range: SourceRange
    public var expression: Expr
}

public struct ObjectiveSpec: Sendable {
    public var name: String
    public var range: SourceRange
    public var graph: [ExpressionNodeSpec]
    public var minimize: Expr
    public var update: [Located<String>]
    public var optimizer: OptimizerSpec?
    /// Networks this objective calls, directly or through other networks.
    public var calledNetworks: [String]
    /// Inputs this objective reads.
    public var usedInputs: [String]
}

public enum OptimizerSpec: Sendable, Equatable {
    case adam(lr: Double, beta1: Double, beta2: Double, eps: Double)
    case sgd(lr: Double, momentum: Double)
}

public struct TrainSpec: Sendable {
    public enum Length: Sendable, Equatable {
        case epochs(Int)
        case steps(Int)
    }
    public var data: [DataBinding]
    public var optimizer: OptimizerSpec?
    public var schedule: [Located<String>]
    public var length: Length
    public var seed: Int
    public var range: SourceRange
}

public struct DataBinding: Sendable {
    public var input: Located<String>
    public var dataset: DatasetSpec
}

public struct DatasetSpec: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case fashionMNIST = "fashion-mnist", mnist, cifar10, text, shapes
    }
    public enum Split: String, Sendable, CaseIterable { case train, test }
    public enum TextEncoding: String, Sendable, CaseIterable { case ascii98, bytes }

    public var kind: Kind
    public var split: Split
    public var scale: (low: Double, high: Double)
    public var path: String?
    public var encoding: TextEncoding
    public var range: SourceRange

    /// Elements in one sample (image datasets), or nil (text).
    public var sampleElementCount: Int? {
        switch kind {
        case .fashionMNIST, .mnist, .shapes: return 784
        case .cifar10: return 3072
        case .text: return nil
        }
    }
    /// The vocabulary size a text encoding needs.
    public var vocabulary: Int? {
        guard kind == .text else { return nil }
        return encoding == .ascii98 ? 98 : 256
    }
}

public struct SampleSpec: Sendable {
    public struct Images: Sendable {
        public var from: Expr
        public var grid: (rows: Int, columns: Int)
        public var to: String
        public var range: SourceRange
    }
    public struct Text: Sendable {
        public var network: Located<String>
        public var from: Located<String>
        public var prime: String
        public var length: Int
        public var temperature: Double
        public var to: String?
        public var range: SourceRange
    }
    /// Reconstructions of test images (an autoencoder): `from` reads one
    /// data input, fed with the first test images of its dataset.
    public struct Reconstructions: Sendable {
        public var from: Expr
        public var input: Located<String>
        public var grid: (rows: Int, columns: Int)
        public var to: String
        public var range: SourceRange
    }
    public var images: Images?
    public var reconstructions: Reconstructions?
    public var text: Text?
}
