import GencIR
import GencSpec
import GencSupport

// MARK: - lstm, unrolled over the static sequence length

extension Lowerer {
    /// A stack of LSTM layers over `[N, T, F]` (batch first), gates i, f, g, o.
    ///
    /// Each layer projects the whole sequence through `weight_ih` in one
    /// matmul (`[N·T, F] × [F, 4H]`, plus the bias), then unrolls the
    /// recurrence over the T steps: `g = xp_t + h·W_hh`, `c = σ(f)·c + σ(i)·tanh(g)`,
    /// `h = σ(o)·tanh(c)`. Unrolled (not a scan op) because T is static and
    /// small, and every later pass (fusion, scheduling, buffer planning) then
    /// sees the steps as ordinary ops; docs/ir.md has the measurements.
    /// When sampling text, each layer's initial `h`/`c` are program inputs
    /// and its final ones program outputs, so the state carries between calls.
    mutating func lstm(_ x: Value, _ l: LayerSpec, units h: Int, layers: Int, returnSequences: Bool, network: String) throws -> Value {
        let r = l.kindRange
        try expect(x, l, ranks: 3...3, form: "3-d input [batch, steps, features]")
        var seq = x
        var last = x
        let n = type(x).shape[0], steps = type(x).shape[1]
        let width = try Size.multiply(4, h)  // the four gates side by side
        // The unrolled stack has about 20 nodes per layer and step: refuse a
        // stack that would pass the program's node budget before building it.
        let unrolled = try Size.multiply(try Size.multiply(layers, steps), 20)
        if unrolled > Self.maxNodes {
            throw fail(LowerDiagnostics.tooLarge("\(title(l)) unrolls \(layers) layer\(layers == 1 ? "" : "s") over \(steps) steps, about \(unrolled) IR nodes; the limit is \(Self.maxNodes) per program (docs/language.md §14)", r))
        }
        for k in 0..<layers {
            let f = type(seq).shape[2]
            let p = "\(l.qualifiedName).l\(k)"
            let wih = try parameter("\(p).weight_ih", [f, width], role: .weight, layer: l, fanIn: h, fanOut: width, network: network)
            let whh = try parameter("\(p).weight_hh", [h, width], role: .recurrentWeight, layer: l, fanIn: h, fanOut: width, network: network)
            let b = try parameter("\(p).bias", [width], role: .bias, layer: l, fanIn: h, fanOut: width, network: network)
            let flat = try reshape(seq, [n * steps, f], at: r)
            let proj = try binary(.add, try emit(.matmul(transposeA: false, transposeB: false), [flat, wih], at: r, context: title(l)), b, at: r)
            let xp = try reshape(proj, [n, steps, width], at: r)
            var hv: Value?, cv: Value?
            if carryRecurrentState {
                hv = try emit(.input("\(p).h"), [], type: .f32([n, h]), at: r)
                cv = try emit(.input("\(p).c"), [], type: .f32([n, h]), at: r)
            }
            var outs: [Value] = []
            for t in 0..<steps {
                let xt = try reshape(try emit(.slice(SliceAttributes(start: [0, t, 0], end: [n, t + 1, width], step: [1, 1, 1])), [xp], at: r), [n, width], at: r)
                let gates = try hv.map { try binary(.add, xt, try emit(.matmul(transposeA: false, transposeB: false), [$0, whh], at: r), at: r) } ?? xt
                func gate(_ i: Int) throws -> Value {
                    // i·h ≤ 4h = width, which did not overflow
                    try emit(.slice(SliceAttributes(start: [0, i * h], end: [n, (i + 1) * h], step: [1, 1])), [gates], at: r)
                }
                let ig = try unary(.sigmoid, try gate(0), at: r)
                let fg = try unary(.sigmoid, try gate(1), at: r)
                let gg = try unary(.tanh, try gate(2), at: r)
                let og = try unary(.sigmoid, try gate(3), at: r)
                let input = try binary(.multiply, ig, gg, at: r)
                let c = try cv.map { try binary(.add, try binary(.multiply, fg, $0, at: r), input, at: r) } ?? input
                let hn = try binary(.multiply, og, try unary(.tanh, c, at: r), at: r)
                hv = hn
                cv = c
                if returnSequences || k < layers - 1 { outs.append(try reshape(hn, [n, 1, h], at: r)) }
            }
            if carryRecurrentState, let hv, let cv {
                graph.outputs.append(NamedValue("\(p).h", hv))
                graph.outputs.append(NamedValue("\(p).c", cv))
            }
            last = hv ?? x
            if !outs.isEmpty { seq = outs.count == 1 ? outs[0] : try emit(.concat(axis: 1), outs, at: r) }
        }
        return returnSequences ? seq : last
    }
}
