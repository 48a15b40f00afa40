/// One node: an op, its operands, its result type, and where it came from.
public struct Node: Hashable, Sendable {
    public var op: Op
    public var operands: [Value]
    public var type: TensorType
    public var location: IRLocation?
    public init(op: Op, operands: [Value], type: TensorType, location: IRLocation?) {
        self.op = op
        self.operands = operands
        self.type = type
        self.location = location
    }
}

/// A named result of a program.
public struct NamedValue: Hashable, Sendable {
    public var name: String
    public var value: Value
    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }
}

/// A program: an SSA tensor graph whose nodes are in topological order
/// (every operand precedes its user), with every type static.
///
/// Built through `add`, which checks the op's shape rule, so a `Graph` that
/// exists is well-typed; `Verifier` re-checks that for graphs from elsewhere
/// (the text parser, passes).
public struct Graph: Hashable, Sendable {
    public var name: String
    public private(set) var nodes: [Node] = []
    /// Results: losses, samples.
    public var outputs: [NamedValue] = []
    /// New values for persistent leaves, by the leaf's name: `state`
    /// (batchnorm running statistics, optimizer slots, step counts) and
    /// `parameter` (an optimizer step). The leaf must be in the graph; each
    /// is written once, after every read of its old value (`Verifier`,
    /// `PlanVerifier`).
    public var updates: [NamedValue] = []
    /// Leaves already added, so a parameter or input used twice is one node
    /// (constants are keyed with their type too).
    private var leaves: [LeafKey: Value] = [:]

    private struct LeafKey: Hashable {
        var op: Op
        var type: TensorType?
    }

    private static func key(_ op: Op, _ type: TensorType?) -> LeafKey {
        if case .constant = op { return LeafKey(op: op, type: type) }
        return LeafKey(op: op, type: nil)
    }

    public init(name: String) { self.name = name }

    public static func == (a: Graph, b: Graph) -> Bool {
        a.name == b.name && a.nodes == b.nodes && a.outputs == b.outputs && a.updates == b.updates
    }
    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(nodes)
    }

    public func node(_ v: Value) -> Node { nodes[v.id] }
    public func type(_ v: Value) -> TensorType { nodes[v.id].type }
    public var values: [Value] { nodes.indices.map(Value.init) }

    /// Appends an op, inferring its type (leaves take `type`). Leaves are
    /// deduplicated: the same parameter twice is the same value.
    @discardableResult
    public mutating func add(_ op: Op, _ operands: [Value] = [], type given: TensorType? = nil, at location: IRLocation? = nil) throws -> Value {
        if op.isLeaf, let v = leaves[Self.key(op, given)], !isRandom(op) {
            guard given == nil || nodes[v.id].type == given else {
                throw ShapeError("\(op.name) '\(Self.leafName(op) ?? "")' is used with types \(nodes[v.id].type) and \(given.map(\.description) ?? "")")
            }
            return v
        }
        for o in operands where o.id < 0 || o.id >= nodes.count { throw ShapeError("operand \(o) is not defined") }
        let t = try op.resultType(operands.map { nodes[$0.id].type }, given: given)
        // Every tensor is bounded, so element and byte counts never overflow later.
        _ = try Size.elements(t.shape)
        guard t.shape.allSatisfy({ $0 >= 0 }) else { throw ShapeError("\(op.name) has a negative extent in \(t)") }
        nodes.append(Node(op: op, operands: operands, type: t, location: location))
        let v = Value(nodes.count - 1)
        if op.isLeaf, !isRandom(op) { leaves[Self.key(op, t)] = v }
        return v
    }

    private func isRandom(_ op: Op) -> Bool {
        if case .random = op { return true }
        return false
    }

    static func leafName(_ op: Op) -> String? {
        switch op {
        case let .input(n), let .parameter(n), let .state(n), let .carried(n): return n
        default: return nil
        }
    }

    /// Parameters, inputs, state leaves: name and type, in node order.
    public var parameters: [(name: String, type: TensorType)] { leafList { if case let .parameter(n) = $0 { return n } else { return nil } } }
    public var inputs: [(name: String, type: TensorType)] { leafList { if case let .input(n) = $0 { return n } else { return nil } } }
    public var states: [(name: String, type: TensorType)] { leafList { if case let .state(n) = $0 { return n } else { return nil } } }
    public var carried: [(name: String, type: TensorType)] { leafList { if case let .carried(n) = $0 { return n } else { return nil } } }

    private func leafList(_ f: (Op) -> String?) -> [(name: String, type: TensorType)] {
        nodes.compactMap { n in f(n.op).map { ($0, n.type) } }
    }

    /// Appends a node as is (for the text parser and passes); the verifier checks it.
    public mutating func appendUnchecked(_ node: Node) {
        nodes.append(node)
        if node.op.isLeaf, !isRandom(node.op) { leaves[Self.key(node.op, node.type)] = Value(nodes.count - 1) }
    }
}
