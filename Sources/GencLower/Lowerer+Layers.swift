import GencIR
import GencSpec
import GencSupport

// MARK: - Layers to primitives

extension Lowerer {
    /// Lowers one layer applied to its inputs; in a standalone lowering,
    /// records its row (output shape, parameters, state).
    mutating func layer(_ l: LayerSpec, _ inputs: [Value], network: String) throws -> Value {
        // Leaves are deduplicated, so the layer's own parameters and state
        // are exactly the leaves appended from here on (linear in the model).
        let nodesBefore = graph.nodes.count
        let y: Value
        do {
            y = try layerBody(l, inputs, network: network)
        } catch let e as ShapeError {
            // Size arithmetic on the layer's numbers overflowed (Size).
            throw fail(LowerDiagnostics.shape("\(title(l)): \(e.message)", l.kindRange))
        }
        _ = produced(y, by: "'\(l.qualifiedName)'", at: l.kindRange)
        if rows != nil, network == summarizing {
            var p = 0, s = 0
            for n in graph.nodes[nodesBefore...] {
                switch n.op {
                case .parameter: p += n.type.elementCount
                case .state: s += n.type.elementCount
                default: break
                }
            }
            let row = LayerSummary(name: l.name, kind: l.kind.rawValue, output: type(y), parameters: p, state: s)
            rows?.append(row)
        }
        return y
    }

    /// "dense 'generator.dense0'"
    func title(_ l: LayerSpec) -> String { "\(l.kind.rawValue) '\(l.qualifiedName)'" }

    /// Requires an f32 input of one of the given ranks.
    mutating func expect(_ x: Value, _ l: LayerSpec, ranks: ClosedRange<Int>, form: String) throws {
        let t = type(x)
        guard t.dtype == .f32 else {
            throw fail(LowerDiagnostics.dtype("\(title(l)) expects f32 values, got i32 \(t.shapeDescription)\(l.kind == .dense ? "; token ids go through an embedding layer first" : "")", l.kindRange), notes: [x])
        }
        guard ranks.contains(t.rank) else {
            throw fail(LowerDiagnostics.shape("\(title(l)) expects \(form), got \(t.shapeDescription)", l.kindRange), notes: [x])
        }
    }

    private mutating func layerBody(_ l: LayerSpec, _ inputs: [Value], network: String) throws -> Value {
        let r = l.kindRange
        let x = inputs[0]
        let p = l.qualifiedName
        switch l.config {
        case let .dense(units, activation, bias):
            try expect(x, l, ranks: 2...8, form: "input [batch, features]")
            let t = type(x)
            let features = t.shape[t.rank - 1]
            let rows = t.elementCount / features
            let w = try parameter("\(p).weight", [features, units], role: .weight, layer: l, fanIn: features, fanOut: units, network: network)
            var y = try emit(.matmul(transposeA: false, transposeB: false), [try reshape(x, [rows, features], at: r), w], at: r, context: title(l))
            if bias {
                let b = try parameter("\(p).bias", [units], role: .bias, layer: l, fanIn: features, fanOut: units, network: network)
                y = try binary(.add, y, b, at: r)
            }
            y = try reshape(y, Array(t.shape.dropLast()) + [units], at: r)
            return try activate(y, activation, at: r)

        case let .conv(c), let .conv1d(c):
            let spatial = l.kind == .conv ? 2 : 1
            try expect(x, l, ranks: (spatial + 2)...(spatial + 2), form: spatial == 2 ? "4-d input [N, C, H, W]" : "3-d input [N, C, L]")
            let t = type(x)
            let kernel = spatial == 2 ? [c.kernel.0, c.kernel.1] : [c.kernel.1]
            let stride = spatial == 2 ? [c.stride.0, c.stride.1] : [c.stride.1]
            var before: [Int], after: [Int]
            switch c.padding {
            case let .explicit(ph, pw):
                before = spatial == 2 ? [ph, pw] : [pw]
                after = before
            case .same:
                before = kernel.map { ($0 - 1) / 2 }
                after = zip(kernel, before).map { $0 - 1 - $1 }
            }
            let attrs = ConvAttributes(stride: stride, padBefore: before, padAfter: after)
            let inSize = Array(t.shape[2...])
            let out = try attrs.outputSize(input: inSize, kernel: kernel)
            if out.contains(where: { $0 < 1 }) {
                throw fail(LowerDiagnostics.shape("\(title(l)): kernel \(kernel) does not fit input \(t.shapeDescription) with padding \(before) (output size would be \(out))", r), notes: [x])
            }
            let channels = t.shape[1]
            let taps = try Size.product(kernel)
            let fanIn = try Size.multiply(channels, taps)
            let w = try parameter("\(p).weight", [c.filters, channels] + kernel, role: .weight, layer: l, fanIn: fanIn,
                                  fanOut: try Size.multiply(c.filters, taps), network: network)
            var y = try emit(.conv(attrs), [x, w], at: r, context: title(l))
            if c.bias {
                let b = try parameter("\(p).bias", [c.filters], role: .bias, layer: l, fanIn: fanIn, fanOut: c.filters, network: network)
                y = try binary(.add, y, try reshape(b, [c.filters] + Array(repeating: 1, count: spatial), at: r), at: r)
            }
            return try activate(y, c.activation, at: r)

        case let .convTranspose(c):
            try expect(x, l, ranks: 4...4, form: "4-d input [N, C, H, W]")
            let t = type(x)
            let kernel = [c.kernel.0, c.kernel.1], stride = [c.stride.0, c.stride.1]
            guard case let .explicit(ph, pw) = c.padding else { throw fail(LowerDiagnostics.shape("\(title(l)) needs explicit padding", r)) }
            let pad = [ph, pw], outPad = [c.outputPadding.0, c.outputPadding.1]
            var out: [Int] = []
            for i in 0..<2 {
                // (H - 1)·stride - 2·padding + kernel + output_padding, checked
                let grown = try Size.multiply(t.shape[2 + i] - 1, stride[i])
                out.append(try Size.sum([try Size.subtract(grown, try Size.multiply(2, pad[i])), kernel[i], outPad[i]]))
            }
            if out.contains(where: { $0 < 1 }) {
                throw fail(LowerDiagnostics.shape("\(title(l)): output size would be \(out) for input \(t.shapeDescription) ((H - 1)·stride - 2·padding + kernel + output_padding)", r), notes: [x])
            }
            let channels = t.shape[1]
            let taps = try Size.product(kernel)
            let w = try parameter("\(p).weight", [channels, c.filters] + kernel, role: .weight, layer: l,
                                  fanIn: try Size.multiply(c.filters, taps), fanOut: try Size.multiply(channels, taps), network: network)
            let attrs = ConvAttributes(stride: stride, padBefore: pad, padAfter: pad)
            var y = try emit(.convInputGrad(attrs, inputSize: out), [x, w], at: r, context: title(l))
            if c.bias {
                let b = try parameter("\(p).bias", [c.filters], role: .bias, layer: l, fanIn: try Size.multiply(c.filters, taps), fanOut: c.filters, network: network)
                y = try binary(.add, y, try reshape(b, [c.filters, 1, 1], at: r), at: r)
            }
            return try activate(y, c.activation, at: r)

        case let .batchnorm(momentum, eps):
            return try batchnorm(x, l, momentum: momentum, eps: eps, network: network)
        case let .layernorm(eps):
            return try layernorm(x, l, eps: eps, network: network)
        case let .dropout(rate):
            return try dropout(x, l, rate: rate)

        case let .embedding(vocab, dim):
            guard type(x).dtype == .i32 else {
                throw fail(LowerDiagnostics.dtype("\(title(l)) expects i32 token ids, got f32 \(type(x).shapeDescription)", r), notes: [x])
            }
            try checkTokenBound(x, classes: vocab, what: "\(title(l)) has vocab \(vocab)", at: r)
            let w = try parameter("\(p).weight", [vocab, dim], role: .embedding, layer: l, fanIn: vocab, fanOut: dim, network: network)
            return try emit(.gather, [w, x], at: r, context: title(l))

        case let .lstm(units, layers, returnSequences):
            return try lstm(x, l, units: units, layers: layers, returnSequences: returnSequences, network: network)

        case let .maxpool(c), let .avgpool(c):
            try expect(x, l, ranks: 4...4, form: "4-d input [N, C, H, W]")
            let attrs = PoolAttributes(kind: l.kind == .maxpool ? .max : .average, kernel: [c.kernel.0, c.kernel.1],
                                       stride: [c.stride.0, c.stride.1], padding: [c.padding.0, c.padding.1])
            let out = try attrs.outputSize(input: Array(type(x).shape[2...]))
            if out.contains(where: { $0 < 1 }) {
                throw fail(LowerDiagnostics.shape("\(title(l)): kernel \(attrs.kernel) does not fit input \(type(x).shapeDescription)", r), notes: [x])
            }
            return try emit(.pool(attrs), [x], at: r, context: title(l))

        case .flatten:
            let t = type(x)
            guard t.rank >= 2 else { throw fail(LowerDiagnostics.shape("\(title(l)) expects input [batch, ...], got \(t.shapeDescription)", r), notes: [x]) }
            return try reshape(x, [t.shape[0], t.elementCount / t.shape[0]], at: r)

        case let .reshape(target):
            let t = type(x)
            guard t.rank >= 1 else { throw fail(LowerDiagnostics.shape("\(title(l)) expects input [batch, ...], got \(t.shapeDescription)", r), notes: [x]) }
            let per = t.elementCount / max(t.shape[0], 1)
            let known = try Size.product(target.filter { $0 > 0 })
            var shape = target
            if let i = target.firstIndex(of: -1) {
                guard known > 0, per % known == 0 else {
                    throw fail(LowerDiagnostics.shape("\(title(l)) cannot make \(Self.describe(target)) from \(t.shapeDescription): \(per) values per sample is not a multiple of \(known)", r), notes: [x])
                }
                shape[i] = per / known
            } else if known != per {
                throw fail(LowerDiagnostics.shape("\(title(l)) cannot make \(Self.describe(target)) (\(known) values per sample) from \(t.shapeDescription) (\(per) per sample)", r), notes: [x])
            }
            return try reshape(x, [t.shape[0]] + shape, at: r)

        case let .activation(a):
            try expect(x, l, ranks: 0...8, form: "f32 values")
            return try activate(x, a, at: r)

        case let .concat(axis):
            let t = type(x)
            guard axis >= -t.rank, axis < t.rank else {
                throw fail(LowerDiagnostics.shape("\(title(l)): axis \(axis) is out of range for inputs of rank \(t.rank) \(t.shapeDescription)", r), notes: [x])
            }
            return try emit(.concat(axis: axis < 0 ? axis + t.rank : axis), inputs, at: r, context: title(l))

        case .add:
            var y = x
            for v in inputs.dropFirst() { y = try emit(.binary(.add), [y, v], at: r, context: title(l)) }
            return y
        }
    }

    static func describe(_ s: [Int]) -> String { "[\(s.map(String.init).joined(separator: ", "))]" }

    /// Applies an activation (none for nil or linear).
    mutating func activate(_ x: Value, _ a: Activation?, at r: SourceRange) throws -> Value {
        switch a {
        case nil, .linear?: return x
        case .relu?: return try unary(.relu, x, at: r)
        case .tanh?: return try unary(.tanh, x, at: r)
        case .sigmoid?: return try unary(.sigmoid, x, at: r)
        case .softplus?: return try unary(.softplus, x, at: r)
        case .gelu?: return try unary(.gelu, x, at: r)
        case let .leakyRelu(s)?: return try unary(.leakyRelu(slope: s), x, at: r)
        case let .softmax(axis)?:
            let rank = type(x).rank
            guard axis >= -rank, axis < rank else {
                throw fail(LowerDiagnostics.shape("softmax axis \(axis) is out of range for \(type(x).shapeDescription)", r), notes: [x])
            }
            return try emit(.softmax(axis: axis < 0 ? axis + rank : axis), [x], at: r)
        }
    }
}
