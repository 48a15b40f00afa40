import GencIR

/// A rule that cannot be applied: reported at the forward op's location.
public struct AutodiffError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var location: IRLocation?
    public init(_ message: String, at location: IRLocation?) {
        self.message = message
        self.location = location
    }
    public var description: String { message }
}

/// Appends backward-pass nodes to the graph being differentiated, each at
/// the location of the forward op whose rule made it (so a diagnostic or a
/// profile of the backward pass points at the YAML line it comes from).
struct Emitter {
    var graph: Graph
    var location: IRLocation?
    /// Nodes appended so far (leaves found already present are not counted).
    var appended = 0
    /// The most nodes the differentiated program may have.
    let limit: Int

    init(graph: Graph, limit: Int) {
        self.graph = graph
        self.limit = limit
    }

    func type(_ v: Value) -> TensorType { graph.type(v) }
    func shape(_ v: Value) -> [Int] { graph.type(v).shape }

    mutating func add(_ op: Op, _ operands: [Value], type: TensorType? = nil) throws -> Value {
        guard graph.nodes.count < limit else {
            throw AutodiffError("the differentiated program passes the limit of \(limit) IR nodes; the model is too large to compile", at: location)
        }
        let before = graph.nodes.count
        do {
            let v = try graph.add(op, operands, type: type, at: location)
            appended += graph.nodes.count - before
            return v
        } catch let e as ShapeError {
            throw AutodiffError("internal error: a gradient rule built an ill-typed \(op.name): \(e.message)", at: location)
        }
    }

    mutating func constant(_ v: Double, _ shape: [Int] = []) throws -> Value { try add(.constant(v), [], type: .f32(shape)) }
    mutating func unary(_ f: UnaryFunction, _ x: Value) throws -> Value { try add(.unary(f), [x]) }
    mutating func binary(_ f: BinaryFunction, _ a: Value, _ b: Value) throws -> Value { try add(.binary(f), [a, b]) }
    mutating func add(_ a: Value, _ b: Value) throws -> Value { try binary(.add, a, b) }
    mutating func subtract(_ a: Value, _ b: Value) throws -> Value { try binary(.subtract, a, b) }
    mutating func multiply(_ a: Value, _ b: Value) throws -> Value { try binary(.multiply, a, b) }
    mutating func divide(_ a: Value, _ b: Value) throws -> Value { try binary(.divide, a, b) }
    mutating func multiply(_ a: Value, by c: Double) throws -> Value { try multiply(a, try constant(c)) }
    mutating func negate(_ a: Value) throws -> Value { try unary(.negate, a) }
    mutating func reshape(_ x: Value, _ shape: [Int]) throws -> Value {
        self.shape(x) == shape ? x : try add(.reshape(shape), [x])
    }

    /// 1 where x > y, else 0.
    mutating func greater(_ x: Value, _ y: Value) throws -> Value { try binary(.greater, x, y) }

    /// The sum of `g` over the axes NumPy broadcasting added or stretched to
    /// reach `g`'s shape from `shape`: the adjoint of broadcasting.
    mutating func sumTo(_ g: Value, _ shape: [Int]) throws -> Value {
        let from = self.shape(g)
        if from == shape { return g }
        let lead = from.count - shape.count
        var axes = Array(0..<max(lead, 0))
        for i in max(lead, 0)..<from.count where shape[i - lead] == 1 && from[i] != 1 { axes.append(i) }
        let summed = axes.isEmpty ? g : try add(.reduce(.sum, axes: axes, keepDims: false), [g])
        return try reshape(summed, shape)
    }

    /// `x`'s reduced result brought back to `full` (keepdims, then broadcast).
    mutating func expand(_ y: Value, axes: [Int], to full: [Int]) throws -> Value {
        var kept = full
        for a in axes { kept[a] = 1 }
        let r = try reshape(y, kept)
        return kept == full ? r : try add(.broadcast(full), [r])
    }

    /// Zeros of a type.
    mutating func zeros(_ t: TensorType) throws -> Value { try add(.constant(0), [], type: .f32(t.shape)) }
}
