import GencIR

/// How a persistent buffer gets its first value.
public enum Initializer: Hashable, Sendable {
    /// U(-bound, bound) (PyTorch's default for dense, conv and LSTM weights and biases).
    case uniform(bound: Double)
    /// N(0, std²) (PyTorch's embedding).
    case normal(std: Double)
    /// Every element equal (batchnorm scale 1, bias 0, running_var 1).
    case constant(Double)
}

/// A tensor that lives across steps: a parameter, a state, or a constant
/// materialised once at load.
public struct PersistentBuffer: Hashable, Sendable {
    /// `carried`: a value one program of a training step writes and a later
    /// one reads (`ScheduleSharing`); not model state, never saved.
    public enum Kind: String, Hashable, Sendable {
        case parameter, state, constant, carried
        /// Parameters and state: what checkpoints save and load, what
        /// initialisation and export are about.
        public var isModelState: Bool {
            switch self {
            case .parameter, .state: return true
            case .constant, .carried: return false
            }
        }
    }
    public var name: String
    public var kind: Kind
    public var type: TensorType
    public var initializer: Initializer
    public init(name: String, kind: Kind, type: TensorType, initializer: Initializer) {
        self.name = name
        self.kind = kind
        self.type = type
        self.initializer = initializer
    }
}

/// Where a value lives while a program runs.
public enum Storage: Hashable, Sendable {
    /// In the program's arena, at this byte offset.
    case arena(offset: Int)
    /// A persistent buffer (by index into `Plan.persistent`).
    case persistent(Int)
    /// The very bytes of slot `of` under another type of the same byte
    /// count (a reshape): no kernel writes it. `of` is never a view itself.
    case view(of: Int)
    /// Computed inside a fused loop and never stored: no step reads it.
    case fused
}

/// A value's buffer: where, and its type.
public struct Slot: Hashable, Sendable {
    public var storage: Storage
    public var type: TensorType
    public init(storage: Storage, type: TensorType) {
        self.storage = storage
        self.type = type
    }
}

/// An IR op a kernel holds, for reports and `genc dump --stage plan`.
public struct SourceOp: Hashable, Sendable {
    /// The node's index in the program's graph (and so its slot).
    public var node: Int
    public var op: String
    public var location: IRLocation?
    public init(node: Int, op: String, location: IRLocation?) {
        self.node = node
        self.op = op
        self.location = location
    }
}

/// What one step runs.
public enum Kernel: Hashable, Sendable {
    /// One IR op: `inputs` are its operands, `outputs` its one result.
    case op(Op)
    /// A fused loop, after an optional contraction (a GEMM or convolution
    /// with an epilogue).
    case fused(FusedLoop)
}

/// One loop over `shape` that computes a tree of elementwise functions
/// tile by tile: every input is read once per element, every output
/// written once. With a `head`, a contraction (or a softmax) first writes
/// the step's first output from its first `headInputs` inputs; the body
/// then reads that result (`.head`) while it is in cache. `reductions`
/// are sinks: sums, means and maxima of body values over some of the
/// loop's axes, accumulated tile by tile into outputs of their own, so the
/// value reduced is never stored.
public struct FusedLoop: Hashable, Sendable {
    public var head: Op?
    public var headInputs: Int
    public var shape: [Int]
    /// How the body reads each of the step's inputs after the head's:
    /// `reads[k]` for `inputs[headInputs + k]`.
    public var reads: [AffineRead]
    /// Register `r` is the value of `body[r]`.
    public var body: [FusedInstruction]
    /// The register stored in each output after the head's:
    /// `results[k]` goes to `outputs[(head == nil ? 0 : 1) + k]`.
    public var results: [Int]
    /// `reductions[k]` goes to `outputs[firstReductionOutput + k]`.
    public var reductions: [FusedReduction]

    public init(head: Op?, headInputs: Int, shape: [Int], reads: [AffineRead], body: [FusedInstruction], results: [Int],
                reductions: [FusedReduction] = []) {
        self.head = head
        self.headInputs = headInputs
        self.shape = shape
        self.reads = reads
        self.body = body
        self.results = results
        self.reductions = reductions
    }

    /// Index of the first body output in the step's outputs.
    public var firstResultOutput: Int { head == nil ? 0 : 1 }
    /// Index of the first reduction's output in the step's outputs.
    public var firstReductionOutput: Int { firstResultOutput + results.count }
}

/// A reduction a fused loop ends in: `function` of `operand` over the
/// loop's axes whose output stride is 0. Element `index` of the loop adds
/// into (or takes the max with) output element `Σ index[a]·strides[a]`.
public struct FusedReduction: Hashable, Sendable {
    public var function: ReduceFunction
    public var operand: FusedInstruction.Operand
    /// Row-major strides of the output over the loop's axes, 0 on reduced ones.
    public var strides: [Int]
    /// The IR node it computes.
    public var node: Int
    public init(function: ReduceFunction, operand: FusedInstruction.Operand, strides: [Int], node: Int) {
        self.function = function
        self.operand = operand
        self.strides = strides
        self.node = node
    }

    /// Output elements: the loop's extents on the kept axes.
    public func outputCount(over shape: [Int]) -> Int {
        shape.indices.reduce(1) { strides[$1] == 0 ? $0 : $0 * shape[$1] }
    }

    /// Loop elements per output element (the divisor of a mean).
    public func reducedCount(over shape: [Int]) -> Int {
        shape.indices.reduce(1) { strides[$1] == 0 ? $0 * shape[$1] : $0 }
    }
}

/// Element `index` of the loop reads element `offset + Σ index[a]·strides[a]`
/// of its input: contiguous, broadcast (stride 0), sliced or transposed.
public struct AffineRead: Hashable, Sendable {
    public var offset: Int
    public var strides: [Int]
    public init(offset: Int, strides: [Int]) {
        self.offset = offset
        self.strides = strides
    }

    /// Row-major strides of `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for a in shape.indices.reversed() {
            s[a] = acc
            acc *= shape[a]
        }
        return s
    }

    /// Whether this read is the loop's own index into a buffer of the loop's
    /// shape (strides of extent-1 axes do not matter).
    public func isIdentity(over shape: [Int]) -> Bool {
        guard offset == 0, strides.count == shape.count else { return false }
        let c = Self.contiguousStrides(shape)
        for a in shape.indices where shape[a] > 1 && strides[a] != c[a] { return false }
        return true
    }
}

/// One function of a fused loop's body.
public struct FusedInstruction: Hashable, Sendable {
    public enum Function: Hashable, Sendable {
        case unary(UnaryFunction)
        case binary(BinaryFunction)
        /// A counter-based draw: element i of the loop is element i of the op's stream.
        case random(RandomDistribution, stream: Int)
        /// The operand itself (a slice, transpose or broadcast read).
        case copy
        /// 1 where the operand (an i32 class id, read with stride 0 on the
        /// loop's last axis) equals the loop's index on that axis, else 0.
        case oneHot(depth: Int)
    }
    public enum Operand: Hashable, Sendable {
        /// The step's input `headInputs + k`, through `reads[k]`.
        case input(Int)
        /// The head's result, at the loop's index.
        case head
        case register(Int)
        case scalar(Double)
    }
    public var function: Function
    public var operands: [Operand]
    /// The IR node it computes.
    public var node: Int
    public init(function: Function, operands: [Operand], node: Int) {
        self.function = function
        self.operands = operands
        self.node = node
    }
}

/// One kernel call: what it runs, the slots it reads and the slots it writes.
public struct Step: Hashable, Sendable {
    public var kernel: Kernel
    public var inputs: [Int]
    public var outputs: [Int]
    public var location: IRLocation?
    /// The IR ops it holds, in order.
    public var sources: [SourceOp]
    public init(kernel: Kernel, inputs: [Int], outputs: [Int], location: IRLocation?, sources: [SourceOp]) {
        self.kernel = kernel
        self.inputs = inputs
        self.outputs = outputs
        self.location = location
        self.sources = sources
    }

    /// A step of one op.
    public init(op: Op, inputs: [Int], output: Int, location: IRLocation?) {
        self.init(kernel: .op(op), inputs: inputs, outputs: [output], location: location,
                  sources: [SourceOp(node: output, op: op.name, location: location)])
    }

    /// The op of a one-op step, or the head of a fused one.
    public var op: Op? {
        switch kernel {
        case let .op(o): return o
        case let .fused(f): return f.head
        }
    }

    /// The one IR op this step runs as a library kernel (its op, or its
    /// fused loop's head), with the slots that op reads and writes.
    public var opCall: (op: Op, inputs: [Int], output: Int)? {
        switch kernel {
        case let .op(o): return outputs.first.map { (o, inputs, $0) }
        case let .fused(f):
            guard let h = f.head, let out = outputs.first else { return nil }
            return (h, Array(inputs.prefix(f.headInputs)), out)
        }
    }

    /// A short name: the op, `fused`, or `matmul+fused`.
    public var name: String {
        switch kernel {
        case let .op(o): return o.name
        case let .fused(f): return f.head.map { "\($0.name)+fused" } ?? "fused"
        }
    }
}

/// A compiled program ready to run: an ordered list of kernel calls over
/// slots in one arena and a set of persistent buffers. Everything about
/// shapes is decided here; the runtime only executes.
///
/// The format is the same whatever the planner: the first planner gives each
/// value its own slot; an optimizing planner shares arena bytes between
/// values whose lifetimes do not overlap, with no change to this type.
public struct Plan: Hashable, Sendable {
    public var name: String
    public var steps: [Step]
    public var slots: [Slot]
    /// Bytes of the arena (aligned to 64).
    public var arenaBytes: Int
    public var persistent: [PersistentBuffer]
    /// Values fed before each run, by name.
    public var inputs: [NamedSlot]
    /// Results, by name.
    public var outputs: [NamedSlot]
    /// New values of persistent buffers (optimizer steps, running statistics).
    public var updates: [PersistentUpdate]
    public var report: PlanReport

    public struct NamedSlot: Hashable, Sendable {
        public var name: String
        public var slot: Int
    }
    /// Persistent buffer `buffer` takes the value of `slot`.
    ///
    /// In place: `slot` *is* the buffer (its storage is `.persistent(buffer)`),
    /// written by the one step that computes it, and no later step reads
    /// the old value (`PlanVerifier` proves it). Otherwise `slot` is copied
    /// into the buffer at the end of the run, after every read.
    public struct PersistentUpdate: Hashable, Sendable {
        public var buffer: Int
        public var slot: Int
        public var inPlace: Bool
        public init(buffer: Int, slot: Int, inPlace: Bool) {
            self.buffer = buffer
            self.slot = slot
            self.inPlace = inPlace
        }
    }

    /// The updates copied at the end of a run.
    public var copiedUpdates: [PersistentUpdate] { updates.filter { !$0.inPlace } }
}

/// A graph the planner cannot turn into a valid plan (a compiler bug, or a
/// hand-written graph): reported, never silently dropped.
public struct PlanError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Memory facts about a plan (planning is an analysis that reports).
public struct PlanReport: Hashable, Sendable {
    /// The arena actually reserved.
    public var arenaBytes: Int
    /// What giving every intermediate its own buffer takes.
    public var naiveBytes: Int
    /// The largest sum of bytes live at any one point of the schedule.
    public var lowerBoundBytes: Int
    /// Parameters, state and constants.
    public var persistentBytes: Int
    /// Floating-point operations of one run in GEMMs and convolutions
    /// (2 per multiply-add), the work GFLOP/s is quoted against.
    public var flops: Int
    /// IR ops that compute (not leaves) the plan was made from (after the
    /// simplification passes, before fusion), and kernels after fusion.
    public var ops: Int = 0
    public var kernels: Int = 0
    public var fusedGroups: Int = 0
    /// The largest values live at the peak, largest first (at most 8).
    public var peak: [PeakValue] = []
    /// The peak's step.
    public var peakStep: Int = 0

    public struct PeakValue: Hashable, Sendable {
        public var slot: Int
        public var bytes: Int
        public var op: String
        public var location: IRLocation?
    }

    /// 1 − lower bound / arena: the share of the arena no value uses at the peak.
    public var fragmentation: Double { arenaBytes == 0 ? 0 : 1 - Double(lowerBoundBytes) / Double(arenaBytes) }
}
