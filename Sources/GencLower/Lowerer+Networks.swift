import GencIR
import GencSpec
import GencSupport
import GencSyntax

// MARK: - Networks: inlined per call, parameters shared by name

extension Lowerer {
    /// Lowers a network call: checks the arguments against `in:`, inlines the
    /// body, and returns its output (a record when `out:` is a list).
    mutating func call(_ net: NetworkSpec, _ args: [Value], at callRange: SourceRange) throws -> Lowered {
        guard args.count == net.arguments.count else {
            throw fail(LowerDiagnostics.signature("network '\(net.name)' takes \(net.arguments.count) arguments, got \(args.count)", callRange))
        }
        if !relaxedSignatures {
            for (a, v) in zip(net.arguments, args) {
                let want = TensorType(a.type.dtype == .i32 ? .i32 : .f32, a.type.shape)
                if type(v) != want {
                    throw fail(LowerDiagnostics.signature("network '\(net.name)' expects \(a.name): \(want), got \(type(v))", callRange)
                        .note("'\(net.name)' declares \(a.name) here", at: a.range), notes: [v])
                }
            }
        }
        if rows != nil, net.name != summarizing, !calledNetworks.contains(net.name) { calledNetworks.append(net.name) }
        guard callDepth < 64 else { throw fail(LowerDiagnostics.signature("network calls nest more than 64 deep", callRange)) }
        callDepth += 1
        defer { callDepth -= 1 }
        var env: [String: Value] = [:]
        for (a, v) in zip(net.arguments, args) { env[a.name] = v }
        switch net.body {
        case let .layers(layers):
            var x = args[0]
            for l in layers {
                x = try layer(l, [x], network: net.name)
            }
            return .tensor(x)
        case let .graph(nodes):
            for node in Self.topologicalOrder(nodes) {
                switch node.kind {
                case let .layer(l, from):
                    let inputs = try from.map { f -> Value in
                        guard let v = env[f.value] else { throw fail(LowerDiagnostics.shape("'\(f.value)' has no value", f.range)) }
                        return v
                    }
                    env[node.name] = try layer(l, inputs, network: net.name)
                case let .expression(e):
                    let v = try tensor(expression(e, scope: Scope(values: env, records: [:])), e)
                    env[node.name] = produced(v, by: "'\(net.name).\(node.name)'", at: node.range)
                    if rows != nil, net.name == summarizing {
                        let row = LayerSummary(name: node.name, kind: "expression", output: type(v), parameters: 0, state: 0)
                        rows?.append(row)
                    }
                }
            }
            if net.returnsRecord {
                var fields: [String: Value] = [:]
                for o in net.outputs { fields[o.value] = env[o.value] }
                return .record(network: net.name, fields: fields)
            }
            guard let o = net.outputs.first, let v = env[o.value] else {
                throw fail(LowerDiagnostics.shape("network '\(net.name)' has no output", net.range))
            }
            return .tensor(v)
        }
    }

    /// Graph nodes ordered so every node follows the nodes it reads.
    static func topologicalOrder(_ nodes: [GraphNodeSpec]) -> [GraphNodeSpec] {
        DependencyOrder.sorted(nodes, name: \.name) { n in
            switch n.kind {
            case let .layer(_, from): return from.map(\.value)
            case let .expression(e): return e.names
            }
        }
    }

    /// Lowers a network alone, with its declared arguments as inputs, and
    /// returns its summary (layer table, parameter counts).
    mutating func summarize(_ net: NetworkSpec) -> NetworkSummary? {
        begin("\(spec.name.value).\(net.name)", mode: .train, updating: [])
        rows = []
        summarizing = net.name
        calledNetworks = []
        defer {
            rows = nil
            summarizing = nil
        }
        do {
            var args: [Value] = []
            for a in net.arguments {
                let v = try emit(.input(a.name), [], type: TensorType(a.type.dtype == .i32 ? .i32 : .f32, a.type.shape), at: a.range)
                args.append(produced(v, by: "argument '\(a.name)' of '\(net.name)'", at: a.range))
            }
            let result = try call(net, args, at: net.range)
            var outputs: [(String, TensorType)] = []
            switch result {
            case let .tensor(v): outputs = [(net.outputs.first?.value ?? "out", type(v))]
            case let .record(_, fields): outputs = net.outputs.compactMap { o in fields[o.value].map { (o.value, type($0)) } }
            }
            return NetworkSummary(name: net.name, inputs: net.arguments.map { ($0.name, TensorType($0.type.dtype == .i32 ? .i32 : .f32, $0.type.shape)) },
                                  outputs: outputs, layers: rows ?? [], calls: calledNetworks)
        } catch {
            failedNetworks.insert(net.name)
            return nil
        }
    }
}
