import GencIR

/// A set of a program's nodes that runs as one kernel of the plan. Fusion
/// makes the groups, scheduling orders them, and the planner turns each
/// into a plan step.
public struct KernelGroup: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// One op, its own kernel (reductions, pooling, gather, unslice, ...).
        case single
        /// Elementwise, broadcast and affine-read (slice, transpose,
        /// broadcast) nodes over one loop shape: one loop that reads each
        /// input once and writes each output once.
        case fused
        /// A contraction (`nodes[0]`: matmul or convolution) and the
        /// elementwise nodes that consume its result, run over its output
        /// while it is in cache (bias-add, activation, an optimizer update).
        case epilogue
        /// A reshape: no kernel; its result is a view of its operand's bytes.
        case view
    }

    public var kind: Kind
    /// The nodes, ascending (a topological order within the group).
    public var nodes: [Int]
    /// The loop shape of a fused or epilogue group (every member's shape).
    public var shape: [Int]

    public init(kind: Kind, nodes: [Int], shape: [Int]) {
        self.kind = kind
        self.nodes = nodes
        self.shape = shape
    }
}
