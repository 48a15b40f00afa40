import GencSpec
import GencSupport

/// What `genc check` prints about a valid model: a summary for people and
/// the JSON of CLI.md for scripts.
///
/// Parameter counts and output shapes need shape inference, which comes with
/// the graph IR; until then the report lists what the spec knows.
public struct CheckReport {
    public var spec: ModelSpec
    public init(spec: ModelSpec) { self.spec = spec }

    static func shape(_ t: TensorTypeSpec) -> String {
        "[\(t.shape.map(String.init).joined(separator: ", "))]" + (t.dtype == .f32 ? "" : " \(t.dtype.rawValue)")
    }

    static func describe(_ n: NoiseSpec?) -> String {
        switch n {
        case nil: return "data"
        case let .normal(m, s)?: return m == 0 && s == 1 ? "normal noise" : "normal noise (mean \(m), std \(s))"
        case let .uniform(l, h)?: return l == 0 && h == 1 ? "uniform noise" : "uniform noise [\(l), \(h))"
        }
    }

    static func describe(_ o: OptimizerSpec) -> String {
        switch o {
        case let .adam(lr, b1, b2, eps): return "adam (lr \(lr), beta1 \(b1), beta2 \(b2), eps \(eps))"
        case let .sgd(lr, m): return "sgd (lr \(lr), momentum \(m))"
        }
    }

    /// The human-readable summary.
    public var text: String {
        var out = "\(spec.file.path): ok — model '\(spec.name.value)', genc \(spec.version)\n"
        if !spec.dims.isEmpty {
            out += "dims:        " + spec.dims.map { "\($0.name)=\($0.value)\($0.isOverridden ? " (--dim)" : "")" }.joined(separator: ", ") + "\n"
        }
        out += "inputs:\n"
        for i in spec.inputs {
            out += "  \(i.name.padding(12)) \(Self.shape(i.type).padding(22)) \(Self.describe(i.noise))\n"
        }
        for n in spec.networks {
            let args = n.arguments.map { "\($0.name) \(Self.shape($0.type))" }.joined(separator: ", ")
            let outs = n.outputs.isEmpty ? "" : " -> " + (n.returnsRecord ? "{\(n.outputs.map(\.value).joined(separator: ", "))}" : n.outputs[0].value)
            out += "network \(n.name)(\(args))\(outs)\n"
            out += "  \("layer".padding(24)) \("kind".padding(16)) input\n"
            for row in Self.layerRows(n) {
                out += "  \(row.name.padding(24)) \(row.kind.padding(16)) \(row.from)\n"
            }
        }
        for o in spec.objectives {
            out += "objective \(o.name): minimize \(o.minimize); update \(o.update.map(\.value).joined(separator: ", "))"
            if let opt = o.optimizer { out += "; \(Self.describe(opt))" }
            out += "\n"
        }
        if let t = spec.train {
            out += "train:       " + t.data.map { "\($0.input.value) <- \($0.dataset.kind.rawValue)" }.joined(separator: ", ")
            if let o = t.optimizer { out += "; \(Self.describe(o))" }
            out += "; schedule [\(t.schedule.map(\.value).joined(separator: ", "))]"
            switch t.length {
            case let .epochs(e): out += "; \(e) epoch\(e == 1 ? "" : "s")"
            case let .steps(s): out += "; \(s) steps"
            }
            out += "; seed \(t.seed)\n"
        }
        if let s = spec.sample {
            if let i = s.images { out += "sample:      images \(i.grid.rows)x\(i.grid.columns) of \(i.from) -> \(i.to)\n" }
            if let t = s.text { out += "sample:      text from \(t.network.value), \(t.length) characters, temperature \(t.temperature)\n" }
        }
        return out
    }

    struct LayerRow { var name: String; var kind: String; var from: String }

    static func layerRows(_ n: NetworkSpec) -> [LayerRow] {
        switch n.body {
        case let .layers(ls):
            var previous = n.arguments.first?.name ?? ""
            return ls.map { l in
                defer { previous = l.name }
                return LayerRow(name: l.name, kind: l.kind.rawValue, from: previous)
            }
        case let .graph(nodes):
            return nodes.map { node in
                switch node.kind {
                case let .layer(l, from): return LayerRow(name: node.name, kind: l.kind.rawValue, from: from.map(\.value).joined(separator: ", "))
                case let .expression(e): return LayerRow(name: node.name, kind: "expression", from: e.description)
                }
            }
        }
    }

    /// The JSON of CLI.md (without `params`/`state`, which need shapes).
    public var json: JSONValue {
        func type(_ t: TensorTypeSpec) -> JSONValue {
            .object([("shape", .array(t.shape.map { .int($0) })), ("dtype", .string(t.dtype.rawValue))])
        }
        var networks: [(String, JSONValue)] = []
        for n in spec.networks {
            networks.append((n.name, .object([
                ("inputs", .object(n.arguments.map { ($0.name, type($0.type)) })),
                ("outputs", .array(n.outputs.map { .string($0.value) })),
                ("layers", .array(Self.layerRows(n).map { r in
                    .object([("name", .string(r.name)), ("kind", .string(r.kind))])
                })),
            ])))
        }
        let objectives: [(String, JSONValue)] = spec.objectives.map { o in
            (o.name, .object([("update", .array(o.update.map { .string($0.value) }))]))
        }
        return .object([
            ("model", .string(spec.name.value)),
            ("dims", .object(spec.dims.map { ($0.name, .int($0.value)) })),
            ("inputs", .object(spec.inputs.map { ($0.name, type($0.type)) })),
            ("networks", .object(networks)),
            ("objectives", .object(objectives)),
        ])
    }
}

extension String {
    func padding(_ n: Int) -> String {
        count >= n ? self : self + String(repeating: " ", count: n - count)
    }
}
