import GencIR
import GencSpec
import GencSupport
import GencSyntax

/// Thrown after a diagnostic has been reported, to abandon the unit being
/// lowered (a network or a program) without reporting follow-on errors.
struct Abandoned: Error {}

/// What an expression or a network call evaluates to.
enum Lowered {
    case tensor(Value)
    /// A call of a network whose `out:` is a list.
    case record(network: String, fields: [String: Value])
}

/// The state of lowering one model.
struct Lowerer {
    let spec: ModelSpec
    var diagnostics: [Diagnostic] = []

    // The program being built.
    var graph = Graph(name: "")
    var mode = ProgramMode.train
    /// Networks whose batchnorm running statistics this program updates.
    var updating: Set<String> = []
    /// The latest value of each state leaf in this program (updates chain
    /// when a network is called twice).
    var currentState: [String: Value] = [:]
    var stateOrder: [String] = []
    /// Where each value came from, for "comes from ... here" notes.
    var producers: [Value: (range: SourceRange, what: String)] = [:]
    var randomStream = 0
    /// When lowering a network alone: its name, its own layers' rows, and
    /// the networks it calls.
    var summarizing: String?
    var rows: [LayerSummary]?
    var calledNetworks: [String] = []
    /// Layers' parameter totals while lowering standalone.
    var parameterInfo: [String: ParameterInfo] = [:]
    /// Networks whose bodies failed alone; programs calling them are skipped.
    var failedNetworks: Set<String> = []
    /// Call stack of networks (recursion is ruled out by the spec; this
    /// bounds depth anyway).
    var callDepth = 0
    /// Sampling text: network arguments take the shapes given, not `in:`'s,
    /// and each LSTM's state is an input and an output of the program.
    var relaxedSignatures = false
    var carryRecurrentState = false
    /// i32 values known to hold token ids from a text dataset: the number
    /// of ids its encoding uses, and where they come from (for messages).
    var tokenBounds: [Value: (count: Int, source: String)] = [:]

    init(spec: ModelSpec) { self.spec = spec }

    /// The most nodes one program may have: bounds the work and memory of
    /// lowering (an LSTM stack unrolls to layers × steps × ~20 nodes) and of
    /// every stage after it. char-lstm's training program has about 4,000.
    static let maxNodes = 500_000
    /// The most nodes all programs of a model may have together (many
    /// objectives, or networks that call each other twice at every level,
    /// would otherwise multiply the per-program budget).
    static let maxModelNodes = 2_000_000
    var emitted = 0

    // MARK: - Emitting

    func location(_ r: SourceRange) -> IRLocation {
        IRLocation(path: r.file.path, line: r.start.line, column: r.start.column)
    }

    /// Adds an op; a shape error becomes a diagnostic at `range` (prefixed
    /// with `context`) with a note at the offending operand's producer.
    mutating func emit(_ op: Op, _ operands: [Value], type: TensorType? = nil, at range: SourceRange, context: String? = nil) throws -> Value {
        if graph.nodes.count >= Self.maxNodes {
            throw fail(LowerDiagnostics.tooLarge("program '\(graph.name)' passes the limit of \(Self.maxNodes) IR nodes here (docs/language.md §14); the model is too large to compile", range))
        }
        emitted += 1
        if emitted > Self.maxModelNodes {
            // Said once; every later program stops at its first node.
            if emitted > Self.maxModelNodes + 1 { throw Abandoned() }
            throw fail(LowerDiagnostics.tooLarge("the model's programs pass the limit of \(Self.maxModelNodes) IR nodes in all here (docs/language.md §14); the model is too large to compile", range))
        }
        do {
            let v = try graph.add(op, operands, type: type, at: location(range))
            // Token ids keep their bound through data movement.
            if op.fusionKind == .injective, let first = operands.first, let bound = tokenBounds[first], graph.type(v).dtype == .i32 {
                tokenBounds[v] = bound
            }
            return v
        } catch let e as ShapeError {
            var d = LowerDiagnostics.shape(context.map { "\($0): \(e.message)" } ?? e.message, range)
            if let k = e.operand, k < operands.count { d = noteProducer(d, operands[k]) }
            diagnostics.append(d)
            throw Abandoned()
        }
    }

    mutating func constant(_ v: Double, _ shape: [Int] = [], at range: SourceRange) throws -> Value {
        try emit(.constant(v), [], type: .f32(shape), at: range)
    }

    mutating func unary(_ f: UnaryFunction, _ x: Value, at r: SourceRange) throws -> Value { try emit(.unary(f), [x], at: r) }
    mutating func binary(_ f: BinaryFunction, _ a: Value, _ b: Value, at r: SourceRange) throws -> Value { try emit(.binary(f), [a, b], at: r) }
    mutating func reshape(_ x: Value, _ shape: [Int], at r: SourceRange) throws -> Value {
        graph.type(x).shape == shape ? x : try emit(.reshape(shape), [x], at: r)
    }

    func type(_ v: Value) -> TensorType { graph.type(v) }

    // MARK: - Diagnostics

    /// Reports and abandons.
    mutating func fail(_ d: Diagnostic, notes values: [Value] = []) -> Abandoned {
        var d = d
        for v in values { d = noteProducer(d, v) }
        diagnostics.append(d)
        return Abandoned()
    }

    func noteProducer(_ d: Diagnostic, _ v: Value) -> Diagnostic {
        guard let p = producers[v] else { return d }
        return d.note("\(graph.type(v).shapeDescription) comes from \(p.what) here", at: p.range)
    }

    mutating func produced(_ v: Value, by what: String, at r: SourceRange) -> Value {
        if producers[v] == nil { producers[v] = (r, what) }
        return v
    }

    /// Starts a new program.
    mutating func begin(_ name: String, mode: ProgramMode, updating: Set<String>) {
        graph = Graph(name: name)
        self.mode = mode
        self.updating = updating
        currentState = [:]
        stateOrder = []
        producers = [:]
        randomStream = 0
        tokenBounds = [:]
    }

    /// Records the final value of every state the program changed.
    mutating func finishStateUpdates() {
        for name in stateOrder {
            if let v = currentState[name], case .state = graph.node(v).op {} else if let v = currentState[name] {
                graph.updates.append(NamedValue(name, v))
            }
        }
    }

    // MARK: - Parameters and state

    mutating func parameter(_ name: String, _ shape: [Int], role: ParameterInfo.Role, layer: LayerSpec, fanIn: Int, fanOut: Int,
                            network: String) throws -> Value {
        let t = TensorType.f32(shape)
        if parameterInfo[name] == nil {
            parameterInfo[name] = ParameterInfo(name: name, type: t, role: role, layerKind: layer.kind.rawValue, fanIn: fanIn, fanOut: fanOut, network: network)
        }
        return try emit(.parameter(name), [], type: t, at: layer.kindRange, context: "\(layer.kind.rawValue) '\(layer.qualifiedName)' parameter '\(name)'")
    }

    /// The current value of a state leaf.
    mutating func state(_ name: String, _ shape: [Int], role: ParameterInfo.Role, layer: LayerSpec, network: String) throws -> Value {
        if let v = currentState[name] { return v }
        let t = TensorType.f32(shape)
        if parameterInfo[name] == nil {
            parameterInfo[name] = ParameterInfo(name: name, type: t, role: role, layerKind: layer.kind.rawValue, fanIn: 0, fanOut: 0, network: network)
        }
        let v = try emit(.state(name), [], type: t, at: layer.kindRange)
        currentState[name] = v
        return v
    }

    mutating func setState(_ name: String, _ v: Value) {
        if !stateOrder.contains(name) { stateOrder.append(name) }
        currentState[name] = v
    }

    /// A program input (data or noise), added once.
    mutating func input(_ spec: InputSpec) throws -> Value {
        let v = try emit(.input(spec.name), [], type: TensorType(spec.type.dtype == .i32 ? .i32 : .f32, spec.type.shape), at: spec.range)
        if let binding = self.spec.train?.data.first(where: { $0.input.value == spec.name }), let vocab = binding.dataset.vocabulary {
            tokenBounds[v] = (vocab, "input '\(spec.name)' (the \(binding.dataset.encoding.rawValue) text encoding uses ids 0...\(vocab - 1))")
        }
        return produced(v, by: "input '\(spec.name)'", at: spec.range)
    }

    /// Token ids from a text dataset must fit the table or classes they index.
    mutating func checkTokenBound(_ ids: Value, classes: Int, what: String, at r: SourceRange) throws {
        guard let bound = tokenBounds[ids], bound.count > classes else { return }
        throw fail(LowerDiagnostics.shape("\(what), but its ids come from \(bound.source)", r), notes: [ids])
    }
}
