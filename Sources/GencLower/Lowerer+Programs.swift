import GencIR
import GencSpec
import GencSupport
import GencSyntax

// MARK: - Programs: objectives and samplers

extension Lowerer {
    mutating func lowerModel() -> LoweredModel {
        var summaries: [NetworkSummary] = []
        for net in spec.networks {
            if let s = summarize(net) { summaries.append(s) }
        }
        var programs: [Program] = []
        for o in spec.objectives where !o.calledNetworks.contains(where: failedNetworks.contains) {
            guard let train = objective(o, mode: .train) else { continue }
            programs.append(train)
            programs.append(evalProgram(pruning: train))
        }
        if let images = spec.sample?.images, let p = imageSampler(images) { programs.append(p) }
        if let r = spec.sample?.reconstructions, let p = reconstructionSampler(r) { programs.append(p) }
        if let text = spec.sample?.text, let p = textSampler(text) { programs.append(p) }
        let params = spec.networks.flatMap { net in parameterInfo.values.filter { $0.network == net.name }.sorted { $0.name < $1.name } }
        return LoweredModel(networks: summaries, parameters: params, programs: programs)
    }

    /// An objective's forward program: inputs → loss (and, in training, the
    /// new running statistics of the networks it trains).
    mutating func objective(_ o: ObjectiveSpec, mode: ProgramMode) -> Program? {
        let name = Lowering.programName(mode, o.name)
        begin("\(spec.name.value).\(name)", mode: mode, updating: mode == .train ? Set(o.update.map(\.value)) : [])
        do {
            var scope = Scope(values: [:], records: [:], inputsVisible: true)
            for node in Self.expressionOrder(o.graph) {
                let l = try expression(node.expression, scope: scope)
                switch l {
                case let .tensor(v): scope.values[node.name] = produced(v, by: "'\(node.name)'", at: node.range)
                case .record: scope.records[node.name] = l
                }
            }
            let loss = try value(o.minimize, scope: scope)
            try requireFloat(loss, o.minimize, "an objective")
            guard type(loss).rank == 0 else {
                throw fail(LowerDiagnostics.notScalar(o.name, type(loss).shapeDescription, o.minimize.range), notes: [loss])
            }
            graph.outputs.append(NamedValue("loss", loss))
            finishStateUpdates()
            return Program(name: name, mode: mode, objective: o.name, graph: graph)
        } catch {
            return nil
        }
    }

    /// An objective's eval program, derived from its training forward graph
    /// rather than lowered a second time: the two modes differ only in the
    /// state updates training makes (batchnorm's running statistics), so
    /// dropping those and pruning what only they needed leaves exactly the
    /// eval graph (batch statistics, dropout active, nothing updated).
    func evalProgram(pruning train: Program) -> Program {
        let name = Lowering.programName(.eval, train.objective ?? "")
        var g = train.graph
        g.name = "\(spec.name.value).\(name)"
        g.updates = []
        var eval = Pruning.prune(g)
        // The running statistics stay bound, unread, as when eval was lowered
        // on its own: weights that hold them load into eval programs too.
        var kept = Set<String>()
        for n in eval.nodes { if case let .state(s) = n.op { kept.insert(s) } }
        for n in train.graph.nodes {
            if case let .state(s) = n.op, kept.insert(s).inserted { eval.appendUnchecked(n) }
        }
        return Program(name: name, mode: .eval, objective: train.objective, graph: eval)
    }

    /// An objective's graph nodes ordered so every node follows the nodes it reads.
    static func expressionOrder(_ nodes: [ExpressionNodeSpec]) -> [ExpressionNodeSpec] {
        DependencyOrder.sorted(nodes, name: \.name) { $0.expression.names }
    }

    /// The image sampler: the `from:` expression with batchnorm on running
    /// statistics and dropout off; output `images`.
    mutating func imageSampler(_ s: SampleSpec.Images) -> Program? {
        let name = Lowering.programName(.sample, "images")
        begin("\(spec.name.value).\(name)", mode: .sample, updating: [])
        do {
            let v = try value(s.from, scope: Scope(values: [:], records: [:], inputsVisible: true))
            let t = type(v)
            let ok = t.dtype == .f32 && ((t.rank == 4 && (t.shape[1] == 1 || t.shape[1] == 3)) || (t.rank == 2 && Self.isSquare(t.shape[1])))
            guard ok else {
                throw fail(LowerDiagnostics.shape("sample 'images' needs images [N, 1 or 3, H, W] or flat square images [N, H·W], got \(t)", s.from.range), notes: [v])
            }
            graph.outputs.append(NamedValue("images", v))
            return Program(name: name, mode: .sample, objective: nil, graph: graph)
        } catch {
            return nil
        }
    }

    /// The reconstruction sampler: `from:` on the data input it reads (fed
    /// with test images), batchnorm on running statistics; output `images`,
    /// one reconstruction per input image, with as many values as it.
    mutating func reconstructionSampler(_ s: SampleSpec.Reconstructions) -> Program? {
        let name = Lowering.programName(.sample, "reconstructions")
        begin("\(spec.name.value).\(name)", mode: .sample, updating: [])
        do {
            guard let binding = spec.train?.data.first(where: { $0.input.value == s.input.value }), binding.dataset.kind != .text,
                  let input = spec.input(named: s.input.value) else {
                throw fail(LowerDiagnostics.shape("reconstructions read input '\(s.input.value)', which train 'data' does not bind to an image dataset", s.input.range))
            }
            let v = try value(s.from, scope: Scope(values: [:], records: [:], inputsVisible: true))
            let t = type(v)
            let ok = t.dtype == .f32 && ((t.rank == 4 && (t.shape[1] == 1 || t.shape[1] == 3)) || (t.rank == 2 && Self.isSquare(t.shape[1])))
            let perInput = input.type.shape.dropFirst().reduce(1, *)
            guard ok, t.shape[0] == input.type.shape.first, t.shape.dropFirst().reduce(1, *) == perInput else {
                throw fail(LowerDiagnostics.shape("reconstructions need one image per input image, [N, 1 or 3, H, W] or flat square [N, H·W] with the \(perInput) values of a sample of '\(input.name)' \(input.type.shape), got \(t)", s.from.range), notes: [v])
            }
            graph.outputs.append(NamedValue("images", v))
            return Program(name: name, mode: .sample, objective: nil, graph: graph)
        } catch {
            return nil
        }
    }

    static func isSquare(_ n: Int) -> Bool {
        let r = Int(Double(n).squareRoot().rounded())
        return r * r == n
    }

    /// The text sampler: one step of the network on one token, each LSTM's
    /// state an input and an output (carried between calls); output `logits`.
    mutating func textSampler(_ s: SampleSpec.Text) -> Program? {
        guard let net = spec.network(named: s.network.value), !failedNetworks.contains(net.name) else { return nil }
        let name = Lowering.programName(.sample, "text")
        begin("\(spec.name.value).\(name)", mode: .sample, updating: [])
        relaxedSignatures = true
        carryRecurrentState = true
        defer {
            relaxedSignatures = false
            carryRecurrentState = false
        }
        do {
            let token = try emit(.input("tokens"), [], type: .i32([1, 1]), at: s.from.range)
            guard case let .tensor(logits) = try call(net, [token], at: s.network.range) else {
                throw fail(LowerDiagnostics.shape("text sampling needs a network with one output", s.network.range))
            }
            let t = type(logits)
            guard t.rank == 3, t.shape[0] == 1, t.shape[1] == 1 else {
                throw fail(LowerDiagnostics.shape("text sampling feeds '\(net.name)' one token at a time ([1, 1]) and needs logits [batch, steps, vocab] back, but it gives \(t.shapeDescription)", s.network.range), notes: [logits])
            }
            if let binding = spec.train?.data.first(where: { $0.input.value == s.from.value }), let vocab = binding.dataset.vocabulary, t.shape[2] < vocab {
                throw fail(LowerDiagnostics.shape("'\(net.name)' predicts \(t.shape[2]) classes, but the \(binding.dataset.encoding.rawValue) text encoding has \(vocab)", s.network.range))
            }
            graph.outputs.insert(NamedValue("logits", logits), at: 0)
            return Program(name: name, mode: .sample, objective: nil, graph: graph)
        } catch {
            return nil
        }
    }
}
