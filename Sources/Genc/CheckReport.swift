import GencIR
import GencLower
import GencPlan
import GencSpec
import GencSupport

/// What `genc check` prints about a valid model: a summary for people
/// (per network, a table of layers with output shape and parameter count)
/// and the JSON of CLI.md for scripts.
public struct CheckReport {
    public var spec: ModelSpec
    public var lowered: LoweredModel
    /// What each program needs at run time (its plan's arena and scratch)
    /// and the parameters and state once, so a user sees the cost before
    /// running; nil only when a plan cannot be sized at all.
    public var memory: MemoryEstimate?
    public init(spec: ModelSpec, lowered: LoweredModel, plans: [String: Plan] = [:]) {
        self.spec = spec
        self.lowered = lowered
        memory = try? MemoryEstimate(programs: lowered.programs, model: lowered, plans: plans)
    }

    /// `1,486,352`
    static func count(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return out
    }

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
            guard let summary = lowered.network(n.name) else { continue }
            let args = summary.inputs.map { "\($0.name) \($0.type)" }.joined(separator: ", ")
            let outs = summary.outputs.map { n.returnsRecord ? "\($0.name): \($0.type)" : $0.type.description }.joined(separator: ", ")
            out += "\nnetwork \(n.name)(\(args)) -> \(n.returnsRecord ? "{\(outs)}" : outs)\n"
            out += "  \("layer".padding(22)) \("kind".padding(15)) \("output".padding(22)) \("params".leftPadding(11))\n"
            for row in summary.layers {
                let state = row.state > 0 ? "  (+\(Self.count(row.state)) state)" : ""
                out += "  \(row.name.padding(22)) \(row.kind.padding(15)) \(row.output.shapeDescription.padding(22)) \(Self.count(row.parameters).leftPadding(11))\(state)\n"
            }
            out += "  \("total".padding(22)) \("".padding(15)) \("".padding(22)) \(Self.count(summary.parameters).leftPadding(11))"
            out += summary.state > 0 ? "  (+\(Self.count(summary.state)) state)\n" : "\n"
            if !summary.calls.isEmpty {
                let called = summary.calls.map { c in "\(c) (\(Self.count(lowered.network(c)?.parameters ?? 0)))" }.joined(separator: ", ")
                out += "  calls \(called): their parameters are counted in their own tables\n"
            }
        }
        out += "\n"
        for o in spec.objectives {
            let params = lowered.parameterCount(updating: o.update.map(\.value))
            out += "objective \(o.name): minimize \(o.minimize); update \(o.update.map(\.value).joined(separator: ", ")) (\(Self.count(params)) params)"
            if let opt = o.optimizer { out += "; \(SpecDump.optimizer(opt))" }
            out += "\n"
        }
        if let m = memory {
            let f = MemoryEstimate.format
            out += "memory:      parameters \(f(m.parameterBytes)), state \(f(m.stateBytes)); each program's own buffers when run:\n"
            for p in m.programs {
                out += "  \(p.name.padding(22)) activations \(f(p.arenaBytes).padding(10)) scratch \(f(p.workspaceBytes + p.constantBytes))\n"
            }
        }
        if let t = spec.train {
            out += "train:       " + t.data.map { "\($0.input.value) <- \($0.dataset.kind.rawValue)" }.joined(separator: ", ")
            if let o = t.optimizer { out += "; \(SpecDump.optimizer(o))" }
            out += "; schedule [\(t.schedule.map(\.value).joined(separator: ", "))]"
            switch t.length {
            case let .epochs(e): out += "; \(e) epoch\(e == 1 ? "" : "s")"
            case let .steps(s): out += "; \(s) steps"
            }
            out += "; seed \(t.seed)\n"
        }
        if let s = spec.sample {
            if let i = s.images { out += "sample:      images \(i.grid.rows)x\(i.grid.columns) of \(i.from) -> \(i.to)\n" }
            if let r = s.reconstructions { out += "sample:      reconstructions of \(r.grid.rows)x\(r.grid.columns) test images of '\(r.input.value)' by \(r.from) -> \(r.to)\n" }
            if let t = s.text { out += "sample:      text from \(t.network.value), \(t.length) characters, temperature \(t.temperature)\n" }
        }
        return out
    }

    /// The JSON of CLI.md.
    public var json: JSONValue {
        func type(_ t: TensorType) -> JSONValue {
            .object([("shape", .array(t.shape.map { .int($0) })), ("dtype", .string(t.dtype.rawValue))])
        }
        var networks: [(String, JSONValue)] = []
        for n in lowered.networks {
            networks.append((n.name, .object([
                ("params", .int(n.parameters)),
                ("state", .int(n.state)),
                ("calls", .array(n.calls.map { .string($0) })),
                ("inputs", .object(n.inputs.map { ($0.name, type($0.type)) })),
                ("outputs", .object(n.outputs.map { ($0.name, type($0.type)) })),
                ("layers", .array(n.layers.map { r in
                    .object([("name", .string(r.name)), ("kind", .string(r.kind)), ("output", .array(r.output.shape.map { .int($0) })),
                             ("params", .int(r.parameters)), ("state", .int(r.state))])
                })),
            ])))
        }
        let objectives: [(String, JSONValue)] = spec.objectives.map { o in
            (o.name, .object([("update", .array(o.update.map { .string($0.value) })),
                              ("params", .int(lowered.parameterCount(updating: o.update.map(\.value))))]))
        }
        return .object([
            ("model", .string(spec.name.value)),
            ("dims", .object(spec.dims.map { ($0.name, .int($0.value)) })),
            ("inputs", .object(spec.inputs.map { ($0.name, type(TensorType($0.type.dtype == .i32 ? .i32 : .f32, $0.type.shape))) })),
            ("networks", .object(networks)),
            ("objectives", .object(objectives)),
            ("programs", .array(lowered.programs.map { .string($0.name) })),
            ("memory", .object([
                ("parameter_bytes", .int(memory?.parameterBytes ?? 0)),
                ("state_bytes", .int(memory?.stateBytes ?? 0)),
                ("programs", .object((memory?.programs ?? []).map { p in
                    (p.name, .object([("arena_bytes", .int(p.arenaBytes)), ("workspace_bytes", .int(p.workspaceBytes + p.constantBytes))]))
                })),
            ])),
        ])
    }
}

extension String {
    func padding(_ n: Int) -> String {
        count >= n ? self : self + String(repeating: " ", count: n - count)
    }
    func leftPadding(_ n: Int) -> String {
        count >= n ? self : String(repeating: " ", count: n - count) + self
    }
}
