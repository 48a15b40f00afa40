import GencSpec
import GencSupport
import GencSyntax

/// `genc dump --stage spec`: the model as the compiler understood it —
/// every default filled in, every dim evaluated, every expression in
/// canonical form.
public enum SpecDump {
    public static func text(_ spec: ModelSpec) -> String {
        var out = "model \(spec.name.value) (genc \(spec.version))\n"
        for d in spec.dims { out += "dim \(d.name) = \(d.value)\n" }
        for i in spec.inputs {
            out += "input \(i.name): \(i.type.dtype.rawValue)\(shape(i.type.shape)) \(noise(i.noise))\n"
        }
        for n in spec.networks {
            out += "network \(n.name)(\(n.arguments.map { "\($0.name): \($0.type.dtype.rawValue)\(shape($0.type.shape))" }.joined(separator: ", ")))"
            out += n.outputs.isEmpty ? ":\n" : " -> \(n.returnsRecord ? "{" : "")\(n.outputs.map(\.value).joined(separator: ", "))\(n.returnsRecord ? "}" : ""):\n"
            switch n.body {
            case let .layers(ls):
                for l in ls { out += "  \(l.qualifiedName) = \(config(l))\n" }
            case let .graph(nodes):
                for node in nodes {
                    switch node.kind {
                    case let .layer(l, from): out += "  \(node.name) = \(config(l)) from \(from.map(\.value).joined(separator: ", "))\n"
                    case let .expression(e): out += "  \(node.name) = \(e)\n"
                    }
                }
            }
        }
        for o in spec.objectives {
            out += "objective \(o.name):\n"
            for g in o.graph { out += "  \(g.name) = \(g.expression)\n" }
            out += "  minimize \(o.minimize)\n  update \(o.update.map(\.value).joined(separator: ", "))\n"
            if let opt = o.optimizer { out += "  optimizer \(optimizer(opt))\n" }
        }
        if let t = spec.train {
            out += "train:\n"
            for d in t.data {
                let ds = d.dataset
                out += "  data \(d.input.value) <- \(ds.kind.rawValue)"
                if let p = ds.path { out += " path \(p)" }
                out += ds.kind == .text ? " encoding \(ds.encoding.rawValue)\n" : " split \(ds.split.rawValue) scale [\(ds.scale.low), \(ds.scale.high)]\n"
            }
            if let o = t.optimizer { out += "  optimizer \(optimizer(o))\n" }
            out += "  schedule \(t.schedule.map(\.value).joined(separator: ", "))\n"
            switch t.length {
            case let .epochs(e): out += "  epochs \(e)\n"
            case let .steps(s): out += "  steps \(s)\n"
            }
            out += "  seed \(t.seed)\n"
        }
        if let s = spec.sample {
            if let i = s.images { out += "sample images from \(i.from) grid \(i.grid.rows)x\(i.grid.columns) to \(i.to)\n" }
            if let t = s.text {
                out += "sample text network \(t.network.value) from \(t.from.value) prime \(JSONValue.string(t.prime).serialized()) length \(t.length) temperature \(t.temperature)"
                out += t.to.map { " to \($0)\n" } ?? "\n"
            }
        }
        return out
    }

    static func shape(_ s: [Int]) -> String { "[\(s.map(String.init).joined(separator: ", "))]" }

    static func noise(_ n: NoiseSpec?) -> String {
        switch n {
        case nil: return "data"
        case let .normal(m, s)?: return "sample normal(mean: \(m), std: \(s))"
        case let .uniform(l, h)?: return "sample uniform(low: \(l), high: \(h))"
        }
    }

    static func optimizer(_ o: OptimizerSpec) -> String {
        switch o {
        case let .adam(lr, b1, b2, eps): return "adam(lr: \(lr), beta1: \(b1), beta2: \(b2), eps: \(eps))"
        case let .sgd(lr, m): return "sgd(lr: \(lr), momentum: \(m))"
        }
    }

    static func activation(_ a: Activation?) -> String {
        switch a {
        case nil: return "none"
        case let .leakyRelu(s)?: return "leaky_relu(\(s))"
        case let .softmax(axis)?: return "softmax(axis: \(axis))"
        case let a?: return a.name
        }
    }

    static func pair(_ p: (Int, Int)) -> String { "[\(p.0), \(p.1)]" }

    static func config(_ l: LayerSpec) -> String {
        let k = l.kind.rawValue
        switch l.config {
        case let .dense(u, a, b): return "\(k)(units: \(u), activation: \(activation(a)), bias: \(b))"
        case let .conv(c), let .convTranspose(c), let .conv1d(c):
            var pad = ""
            switch c.padding {
            case .same: pad = "same"
            case let .explicit(h, w): pad = pair((h, w))
            }
            var s = "\(k)(filters: \(c.filters), kernel: \(pair(c.kernel)), stride: \(pair(c.stride)), padding: \(pad)"
            if l.kind == .convTranspose { s += ", output_padding: \(pair(c.outputPadding))" }
            return s + ", activation: \(activation(c.activation)), bias: \(c.bias))"
        case let .batchnorm(m, e): return "\(k)(momentum: \(m), eps: \(e))"
        case let .layernorm(e): return "\(k)(eps: \(e))"
        case let .dropout(r): return "\(k)(rate: \(r))"
        case let .embedding(v, d): return "\(k)(vocab: \(v), dim: \(d))"
        case let .lstm(u, n, r): return "\(k)(units: \(u), layers: \(n), return_sequences: \(r))"
        case let .maxpool(p), let .avgpool(p): return "\(k)(kernel: \(pair(p.kernel)), stride: \(pair(p.stride)), padding: \(pair(p.padding)))"
        case .flatten: return k
        case let .reshape(s): return "\(k)(\(shape(s)))"
        case let .activation(a): return activation(a)
        case let .concat(axis): return "\(k)(axis: \(axis))"
        case .add: return k
        }
    }
}
