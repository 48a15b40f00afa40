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
    public enum Kind: String, Hashable, Sendable { case parameter, state, constant }
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

/// One kernel call: the op, the slots it reads and the slot it writes.
public struct Step: Hashable, Sendable {
    public var op: Op
    public var inputs: [Int]
    public var output: Int
    public var location: IRLocation?
    public init(op: Op, inputs: [Int], output: Int, location: IRLocation?) {
        self.op = op
        self.inputs = inputs
        self.output = output
        self.location = location
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
}
