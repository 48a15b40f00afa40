import GencIR
import GencPlan
import GencRuntime
import GencTestSupport
import XCTest

/// The float64 reference interpreter (GencTestSupport) against the float32
/// runtime, for every op code: each example graph runs through both and the
/// outputs agree to max |a − b| ≤ 1e-4·(1 + max |b|). Random ops are checked
/// for shape and plausible statistics, and the runtime's draw is fed to the
/// interpreter for the ops that consume it. Where the runtime cannot run a
/// form (asymmetric convolution padding), the interpreter's graph differs
/// and an equivalent runtime graph is compared.
final class ReferenceInterpreterTests: XCTestCase {

    // MARK: - Examples

    /// A graph, the values of its leaves, and what the interpreter evaluates.
    struct Example {
        var label: String
        var graph: Graph
        var floats: [String: [Float]] = [:]
        var ints: [String: [Int32]] = [:]
        var parameters: [String: [Float]] = [:]
        var states: [String: [Float]] = [:]
        var carried: [String: [Float]] = [:]
        /// The graph the interpreter evaluates when the runtime cannot run
        /// the form under test (same inputs, same output names).
        var reference: Graph?
        /// Ids outside their table: the runtime computes the outputs, then throws.
        var badIDs = false
    }

    /// Builds one example: leaves get deterministic values from their names.
    final class Builder {
        var g: Graph
        var ex: Example
        init(_ label: String) {
            g = Graph(name: label)
            ex = Example(label: label, graph: g)
        }

        /// Values in lo...hi (whole numbers when `whole`, to make ties).
        static func data(_ name: String, count: Int, _ lo: Float, _ hi: Float, whole: Bool) -> [Float] {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return (0..<count).map { _ in
                h = h &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let u = Float((h >> 40) & 0xFFFFFF) / Float(1 << 24)
                return whole ? (lo + u * (hi - lo + 1)).rounded(.down) : lo + u * (hi - lo)
            }
        }

        func input(_ name: String, _ shape: [Int], _ lo: Float = -2, _ hi: Float = 2, whole: Bool = false) throws -> Value {
            ex.floats[name] = Self.data(name, count: shape.reduce(1, *), lo, hi, whole: whole)
            return try g.add(.input(name), type: .f32(shape))
        }
        func ids(_ name: String, _ shape: [Int], _ values: [Int32]) throws -> Value {
            ex.ints[name] = values
            return try g.add(.input(name), type: .i32(shape))
        }
        func parameter(_ name: String, _ shape: [Int]) throws -> Value {
            ex.parameters[name] = Self.data(name, count: shape.reduce(1, *), -1, 1, whole: false)
            return try g.add(.parameter(name), type: .f32(shape))
        }
        func state(_ name: String, _ shape: [Int]) throws -> Value {
            ex.states[name] = Self.data(name, count: shape.reduce(1, *), -1, 1, whole: false)
            return try g.add(.state(name), type: .f32(shape))
        }
        func carried(_ name: String, _ shape: [Int]) throws -> Value {
            ex.carried[name] = Self.data(name, count: shape.reduce(1, *), -1, 1, whole: false)
            return try g.add(.carried(name), type: .f32(shape))
        }
        func constant(_ v: Double, _ shape: [Int]) throws -> Value { try g.add(.constant(v), type: .f32(shape)) }
        /// A random node, made an output (`random.ID`) so its draw can be read back.
        func random(_ d: RandomDistribution, stream: Int, _ shape: [Int]) throws -> Value {
            let v = try g.add(.random(d, stream: stream), type: .f32(shape))
            out(v, "random.\(v.id)")
            return v
        }
        func op(_ op: Op, _ operands: Value...) throws -> Value { try g.add(op, operands) }
        func out(_ v: Value, _ name: String) { g.outputs.append(NamedValue(name, v)) }
        func build() -> Example {
            ex.graph = g
            return ex
        }
    }

    static func withBadIDs(_ e: Example) -> Example {
        var e = e
        e.badIDs = true
        return e
    }

    static func example(_ label: String, _ body: (Builder) throws -> Void) rethrows -> Example {
        let b = Builder(label)
        try body(b)
        return b.build()
    }

    /// One op on fresh inputs, its result the output "y".
    static func single(_ label: String, _ op: Op, _ inputs: [(String, [Int], Float, Float, Bool)]) throws -> Example {
        try example(label) { b in
            let vs = try inputs.map { try b.input($0.0, $0.1, $0.2, $0.3, whole: $0.4) }
            b.out(try b.g.add(op, vs), "y")
        }
    }

    static func unaryExamples(_ f: UnaryFunction, _ lo: Float, _ hi: Float) throws -> [Example] {
        [
            try single("\(f) [3, 5]", .unary(f), [("x", [3, 5], lo, hi, false)]),
            try single("\(f) [2, 3, 4]", .unary(f), [("x", [2, 3, 4], lo, hi, false)]),
            try single("\(f) whole", .unary(f), [("x", [4, 4], lo.rounded(.up), hi.rounded(.down), true)]),
        ]
    }

    static func binaryExamples(_ f: BinaryFunction, a: (Float, Float), b: (Float, Float), whole: Bool = false) throws -> [Example] {
        try [([3, 4], [3, 4]), ([2, 3, 4], [3, 1]), ([4], [2, 1, 4]), ([2, 3], []), ([1, 3, 1], [2, 1, 5])].map { sa, sb in
            try single("\(f) \(sa) \(sb)", .binary(f), [("a", sa, a.0, a.1, whole), ("b", sb, b.0, b.1, whole)])
        }
    }

    /// conv on x and w inputs.
    static func convExample(_ label: String, x: [Int], w: [Int], stride: [Int], pad: [Int]) throws -> Example {
        try single(label, .conv(ConvAttributes(stride: stride, padBefore: pad, padAfter: pad)), [("x", x, -1, 1, false), ("w", w, -1, 1, false)])
    }

    /// A conv with asymmetric padding for the interpreter; for the runtime,
    /// the symmetric conv with padding max(before, after), sliced to the
    /// positions the asymmetric one reads (needs (max − before) % stride == 0).
    static func asymmetricConvExample(_ label: String, x: [Int], w: [Int], stride: [Int], before: [Int], after: [Int]) throws -> Example {
        let r = stride.count
        let pad = zip(before, after).map { Swift.max($0, $1) }
        let shift = (0..<r).map { (pad[$0] - before[$0]) / stride[$0] }
        precondition((0..<r).allSatisfy { (pad[$0] - before[$0]) % stride[$0] == 0 })
        let asym = ConvAttributes(stride: stride, padBefore: before, padAfter: after)
        let sym = ConvAttributes(stride: stride, padBefore: pad, padAfter: pad)
        let out = try asym.outputSize(input: Array(x[2...]), kernel: Array(w[2...]))
        var ex = try example(label) { b in
            let xv = try b.input("x", x, -1, 1), wv = try b.input("w", w, -1, 1)
            let y = try b.op(.conv(sym), xv, wv)
            let s = SliceAttributes(start: [0, 0] + shift, end: [x[0], w[0]] + (0..<r).map { shift[$0] + out[$0] }, step: Array(repeating: 1, count: r + 2))
            b.out(try b.op(.slice(s), y), "y")
        }
        ex.reference = try example(label) { b in
            let xv = try b.input("x", x, -1, 1), wv = try b.input("w", w, -1, 1)
            b.out(try b.op(.conv(asym), xv, wv), "y")
        }.graph
        return ex
    }

    static func convInputGradExample(_ label: String, inputSize: [Int], n: Int, c: Int, f: Int, kernel: [Int], stride: [Int], pad: [Int]) throws -> Example {
        let a = ConvAttributes(stride: stride, padBefore: pad, padAfter: pad)
        let o = try a.outputSize(input: inputSize, kernel: kernel)
        return try single(label, .convInputGrad(a, inputSize: inputSize), [("dy", [n, f] + o, -1, 1, false), ("w", [f, c] + kernel, -1, 1, false)])
    }

    static func convFilterGradExample(_ label: String, inputSize: [Int], n: Int, c: Int, f: Int, kernel: [Int], stride: [Int], pad: [Int]) throws -> Example {
        let a = ConvAttributes(stride: stride, padBefore: pad, padAfter: pad)
        let o = try a.outputSize(input: inputSize, kernel: kernel)
        return try single(label, .convFilterGrad(a, kernelSize: kernel), [("x", [n, c] + inputSize, -1, 1, false), ("dy", [n, f] + o, -1, 1, false)])
    }

    /// Pooling geometries: x shape, kernel, stride, padding, value range, whole values (ties).
    static let poolCases: [(String, [Int], [Int], [Int], [Int], Float, Float, Bool)] = [
        ("k3 s2 p1", [2, 3, 7, 7], [3, 3], [2, 2], [1, 1], -2, 2, false),
        ("k2x3 s2x1 p1", [2, 2, 6, 5], [2, 3], [2, 1], [1, 1], -2, 2, false),
        ("k2 s2 p0 floor", [1, 2, 5, 6], [2, 2], [2, 2], [0, 0], -2, 2, false),
        ("k3 s1 p1 ties", [2, 2, 6, 6], [3, 3], [1, 1], [1, 1], 0, 2, true),
        ("k2 s1 p1 negative", [1, 2, 4, 5], [2, 2], [1, 1], [1, 1], -5, -1, false),
        ("k4x2 s3x2 p2x1", [1, 3, 9, 7], [4, 2], [3, 2], [2, 1], -2, 2, false),
    ]

    static func poolExamples(_ kind: PoolAttributes.Kind, gradient: Bool) throws -> [Example] {
        try poolCases.map { label, x, k, s, p, lo, hi, whole in
            let attrs = PoolAttributes(kind: kind, kernel: k, stride: s, padding: p)
            let out = try attrs.outputSize(input: Array(x[2...]))
            if !gradient { return try single("\(kind) pool \(label)", .pool(attrs), [("x", x, lo, hi, whole)]) }
            return try single("\(kind) pool grad \(label)", .poolGrad(attrs), [("x", x, lo, hi, whole), ("dy", Array(x[..<2]) + out, -1, 1, false)])
        }
    }

    static func reduceExamples(_ f: ReduceFunction) throws -> [Example] {
        var out: [Example] = []
        for (axes, keep) in [([0, 2], false), ([0, 2], true), ([-1], false), ([1], true), ([-3, -2, -1], false), ([2, 0, 1], true)] {
            out.append(try single("reduce \(f) \(axes) keep \(keep)", .reduce(f, axes: axes, keepDims: keep), [("x", [2, 3, 4], -2, 2, false)]))
        }
        out.append(try single("reduce \(f) ties", .reduce(f, axes: [1], keepDims: false), [("x", [3, 4, 2], 0, 1, true)]))
        return out
    }

    static func softmaxExamples(log: Bool) throws -> [Example] {
        try [(-1, [2, 3, 4]), (0, [2, 3, 4]), (-2, [2, 3, 4]), (2, [2, 3, 4]), (1, [5, 7]), (-1, [3, 6])].map { axis, shape in
            let op: Op = log ? .logSoftmax(axis: axis) : .softmax(axis: axis)
            return try single("\(op.name) axis \(axis) \(shape)", op, [("x", shape, -8, 8, false)])
        } + [try single("\(log ? "log_" : "")softmax large logits", log ? .logSoftmax(axis: -1) : .softmax(axis: -1), [("x", [3, 5], -60, 60, false)])]
    }

    /// Every code's examples: an exhaustive switch, so a new op code does not compile until it has some.
    static func examples(_ code: OpCode) throws -> [Example] {
        switch code {
        case .input:
            return [try example("input f32 and i32") { b in
                let x = try b.input("x", [2, 3])
                b.out(x, "x")
                b.out(try b.ids("ids", [4], [3, 0, 2, 2]), "ids")
                b.out(try b.op(.unary(.negate), x), "neg")
                b.out(try b.input("s", []), "scalar")
            }]
        case .parameter:
            return [try example("parameter") { b in
                let x = try b.input("x", [4, 3]), w = try b.parameter("w", [3, 2])
                b.out(w, "w")
                b.out(try b.op(.matmul(transposeA: false, transposeB: false), x, w), "y")
            }]
        case .state:
            // An output that is the updated leaf itself reads its new value on
            // the runtime (outputs are read after the updates), so this one
            // outputs a value computed from the old one.
            return [try example("state read") { b in
                let x = try b.input("x", [2, 3]), s = try b.state("running_mean", [3])
                b.out(s, "s")
                b.out(try b.op(.binary(.subtract), x, s), "y")
            }, try example("state and its update") { b in
                let x = try b.input("x", [2, 3]), s = try b.state("running_mean", [3])
                b.out(try b.op(.unary(.negate), s), "-s")
                let next = try b.op(.binary(.add), try b.op(.binary(.multiply), s, try b.constant(0.9, [])),
                                    try b.op(.reduce(.mean, axes: [0], keepDims: false), x))
                b.out(next, "next")
                b.g.updates = [NamedValue("running_mean", next)]
            }]
        case .carried:
            // Read as the earlier program left it; written for the next one (read back from the store).
            return [try example("carried read and written") { b in
                let x = try b.input("x", [2, 3]), c = try b.carried("carry.b.0", [2, 3])
                b.out(try b.op(.binary(.multiply), x, c), "y")
                _ = try b.carried("carry.b.1", [2, 3])
                b.g.updates = [NamedValue("carry.b.1", try b.op(.unary(.tanh), x))]
            }]
        case .constant:
            return [try example("constants") { b in
                let x = try b.input("x", [2, 3])
                b.out(try b.constant(0.75, [2, 3]), "c")
                b.out(try b.op(.binary(.add), x, try b.constant(-1.5, [])), "y")
            }]
        case .randomNormal:
            return [try example("random normal") { b in
                _ = try b.random(.normal(mean: 1.5, std: 2), stream: 3, [200, 100])
                let small = try b.random(.normal(mean: 0, std: 1), stream: 4, [2, 3])
                b.out(try b.op(.unary(.exp), try b.op(.binary(.multiply), small, try b.input("x", [2, 3]))), "y")
            }]
        case .randomUniform:
            return [try example("random uniform") { b in
                _ = try b.random(.uniform(low: -1, high: 3), stream: 5, [200, 100])
                let small = try b.random(.uniform(low: 0, high: 1), stream: 6, [2, 3])
                b.out(try b.op(.binary(.multiply), try b.op(.binary(.greater), small, try b.constant(0.5, [])), try b.input("x", [2, 3])), "y")
            }]

        case .negate: return try unaryExamples(.negate, -3, 3)
        case .exp: return try unaryExamples(.exp, -3, 3)
        case .log: return try unaryExamples(.log, 0.1, 4)
        case .sqrt: return try unaryExamples(.sqrt, 0.05, 4)
        case .rsqrt: return try unaryExamples(.rsqrt, 0.1, 4)
        case .abs: return try unaryExamples(.abs, -3, 3)
        case .tanh: return try unaryExamples(.tanh, -4, 4)
        case .sigmoid: return try unaryExamples(.sigmoid, -8, 8)
        case .relu: return try unaryExamples(.relu, -3, 3)
        case .softplus: return try unaryExamples(.softplus, -8, 8) + unaryExamples(.softplus, -40, 40)
        case .square: return try unaryExamples(.square, -3, 3)
        case .reciprocal: return try unaryExamples(.reciprocal, 0.25, 3) + [single("reciprocal negative", .unary(.reciprocal), [("x", [6], -3, -0.25, false)])]
        case .gelu: return try unaryExamples(.gelu, -5, 5)
        case .geluDerivative: return try unaryExamples(.geluDerivative, -5, 5)
        case .leakyRelu: return try unaryExamples(.leakyRelu(slope: 0.1), -3, 3) + unaryExamples(.leakyRelu(slope: 0.25), -3, 3)

        case .add: return try binaryExamples(.add, a: (-2, 2), b: (-2, 2))
        case .subtract: return try binaryExamples(.subtract, a: (-2, 2), b: (-2, 2))
        case .multiply: return try binaryExamples(.multiply, a: (-2, 2), b: (-2, 2))
        case .divide: return try binaryExamples(.divide, a: (-2, 2), b: (0.5, 2))
        case .power: return try binaryExamples(.power, a: (0.2, 3), b: (-2, 2))
        case .maximum: return try binaryExamples(.maximum, a: (-2, 2), b: (-2, 2)) + binaryExamples(.maximum, a: (-1, 1), b: (-1, 1), whole: true)
        case .minimum: return try binaryExamples(.minimum, a: (-2, 2), b: (-2, 2)) + binaryExamples(.minimum, a: (-1, 1), b: (-1, 1), whole: true)
        case .greater: return try binaryExamples(.greater, a: (-2, 2), b: (-2, 2)) + binaryExamples(.greater, a: (-1, 1), b: (-1, 1), whole: true)

        case .matmul:
            return try [(false, false), (true, false), (false, true), (true, true)].map { ta, tb in
                let (m, k, n) = (3, 4, 5)
                return try single("matmul tA \(ta) tB \(tb)", .matmul(transposeA: ta, transposeB: tb),
                                  [("a", ta ? [k, m] : [m, k], -1, 1, false), ("b", tb ? [n, k] : [k, n], -1, 1, false)])
            }
        case .conv1d:
            return [
                try convExample("conv1d s2 p1", x: [2, 3, 9], w: [4, 3, 3], stride: [2], pad: [1]),
                try convExample("conv1d s1 p0", x: [2, 3, 9], w: [4, 3, 3], stride: [1], pad: [0]),
                try convExample("conv1d k4 s3 p2", x: [1, 2, 10], w: [3, 2, 4], stride: [3], pad: [2]),
                try asymmetricConvExample("conv1d asymmetric 1|0 s2", x: [2, 3, 9], w: [4, 3, 3], stride: [2], before: [1], after: [0]),
                try asymmetricConvExample("conv1d asymmetric 0|2 s1", x: [1, 2, 8], w: [2, 2, 3], stride: [1], before: [0], after: [2]),
            ]
        case .conv2d:
            return [
                try convExample("conv2d s2x1 p1x0", x: [2, 3, 7, 6], w: [4, 3, 3, 2], stride: [2, 1], pad: [1, 0]),
                try convExample("conv2d s2 p1", x: [1, 2, 5, 5], w: [3, 2, 3, 3], stride: [2, 2], pad: [1, 1]),
                try convExample("conv2d s1 p0", x: [2, 2, 5, 4], w: [3, 2, 2, 2], stride: [1, 1], pad: [0, 0]),
                try convExample("conv2d k4 s2 p1 (dcgan)", x: [2, 3, 8, 8], w: [4, 3, 4, 4], stride: [2, 2], pad: [1, 1]),
                try asymmetricConvExample("conv2d asymmetric 1,0|0,0 s2x1", x: [2, 3, 7, 6], w: [4, 3, 3, 2], stride: [2, 1], before: [1, 0], after: [0, 0]),
                try asymmetricConvExample("conv2d asymmetric 0,1|1,2 s1", x: [1, 2, 5, 5], w: [2, 2, 3, 3], stride: [1, 1], before: [0, 1], after: [1, 2]),
            ]
        case .convInputGrad:
            return [
                try convInputGradExample("conv2d input grad s2 p1", inputSize: [7, 8], n: 2, c: 3, f: 4, kernel: [3, 3], stride: [2, 2], pad: [1, 1]),
                try convInputGradExample("conv2d input grad k4 s2 p1 (conv_transpose)", inputSize: [8, 8], n: 2, c: 3, f: 2, kernel: [4, 4], stride: [2, 2], pad: [1, 1]),
                try convInputGradExample("conv2d input grad s1 p0", inputSize: [5, 4], n: 1, c: 2, f: 3, kernel: [2, 3], stride: [1, 1], pad: [0, 0]),
                try convInputGradExample("conv1d input grad s2 p1", inputSize: [10], n: 2, c: 3, f: 4, kernel: [4], stride: [2], pad: [1]),
                try convInputGradExample("conv1d input grad s3 p0", inputSize: [11], n: 1, c: 2, f: 2, kernel: [3], stride: [3], pad: [0]),
            ]
        case .convFilterGrad:
            return [
                try convFilterGradExample("conv2d filter grad s2 p1", inputSize: [7, 8], n: 2, c: 3, f: 4, kernel: [3, 3], stride: [2, 2], pad: [1, 1]),
                try convFilterGradExample("conv2d filter grad k4 s2 p1", inputSize: [8, 8], n: 2, c: 3, f: 2, kernel: [4, 4], stride: [2, 2], pad: [1, 1]),
                try convFilterGradExample("conv2d filter grad s1 p0", inputSize: [5, 4], n: 1, c: 2, f: 3, kernel: [2, 3], stride: [1, 1], pad: [0, 0]),
                try convFilterGradExample("conv1d filter grad s2 p1", inputSize: [10], n: 2, c: 3, f: 4, kernel: [4], stride: [2], pad: [1]),
                try convFilterGradExample("conv1d filter grad s3 p0", inputSize: [11], n: 1, c: 2, f: 2, kernel: [3], stride: [3], pad: [0]),
            ]
        case .maxPool: return try poolExamples(.max, gradient: false)
        case .averagePool: return try poolExamples(.average, gradient: false)
        case .maxPoolGrad: return try poolExamples(.max, gradient: true)
        case .averagePoolGrad: return try poolExamples(.average, gradient: true)

        case .reduceSum: return try reduceExamples(.sum)
        case .reduceMean: return try reduceExamples(.mean)
        case .reduceMax: return try reduceExamples(.max)
        case .softmax: return try softmaxExamples(log: false)
        case .logSoftmax: return try softmaxExamples(log: true)

        case .reshape:
            return [
                try single("reshape", .reshape([4, 6]), [("x", [2, 3, 4], -2, 2, false)]),
                try single("reshape to a scalar", .reshape([]), [("x", [1, 1], -2, 2, false)]),
                try example("reshape i32") { b in b.out(try b.op(.reshape([6]), try b.ids("ids", [2, 3], [5, 4, 3, 2, 1, 0])), "y") },
            ]
        case .transpose:
            return [
                try single("transpose [2, 0, 1]", .transpose([2, 0, 1]), [("x", [2, 3, 4], -2, 2, false)]),
                try single("transpose [1, 0]", .transpose([1, 0]), [("x", [3, 5], -2, 2, false)]),
                try single("transpose [0, 2, 1, 3]", .transpose([0, 2, 1, 3]), [("x", [2, 3, 2, 4], -2, 2, false)]),
                try example("transpose i32") { b in b.out(try b.op(.transpose([1, 0]), try b.ids("ids", [2, 3], [5, 4, 3, 2, 1, 0])), "y") },
            ]
        case .slice:
            return [
                try single("slice strided", .slice(SliceAttributes(start: [1, 0], end: [7, 5], step: [2, 3])), [("x", [7, 6], -2, 2, false)]),
                try single("slice 3-d", .slice(SliceAttributes(start: [0, 1, 2], end: [4, 5, 6], step: [3, 2, 1])), [("x", [4, 5, 6], -2, 2, false)]),
                try example("slice i32") { b in
                    b.out(try b.op(.slice(SliceAttributes(start: [1, 0], end: [4, 3], step: [2, 2])), try b.ids("ids", [4, 3], (0..<12).map { Int32($0) })), "y")
                },
            ]
        case .unslice:
            return [
                try single("unslice strided", .unslice(SliceAttributes(start: [1, 0], end: [7, 5], step: [2, 3]), shape: [7, 6]), [("x", [3, 2], -2, 2, false)]),
                try single("unslice 3-d", .unslice(SliceAttributes(start: [0, 1, 2], end: [4, 5, 6], step: [3, 2, 1]), shape: [4, 5, 6]), [("x", [2, 2, 4], -2, 2, false)]),
                try example("unslice i32") { b in
                    b.out(try b.op(.unslice(SliceAttributes(start: [1, 0], end: [4, 3], step: [2, 2]), shape: [4, 5]), try b.ids("ids", [2, 2], [7, 8, 9, 10])), "y")
                },
            ]
        case .concat:
            return [
                try single("concat three, axis -2", .concat(axis: -2), [("a", [2, 1, 4], -2, 2, false), ("b", [2, 3, 4], -2, 2, false), ("c", [2, 2, 4], -2, 2, false)]),
                try single("concat axis 0", .concat(axis: 0), [("a", [2, 3], -2, 2, false), ("b", [1, 3], -2, 2, false)]),
                try single("concat axis -1", .concat(axis: -1), [("a", [2, 3], -2, 2, false), ("b", [2, 2], -2, 2, false)]),
                try example("concat i32") { b in
                    b.out(try b.op(.concat(axis: -1), try b.ids("p", [2, 2], [1, 2, 3, 4]), try b.ids("q", [2, 1], [9, 8])), "y")
                },
            ]
        case .broadcast:
            return [
                try single("broadcast [3, 1] to [2, 3, 4]", .broadcast([2, 3, 4]), [("x", [3, 1], -2, 2, false)]),
                try single("broadcast [] to [2, 2]", .broadcast([2, 2]), [("x", [], -2, 2, false)]),
                try single("broadcast [4] to [3, 4]", .broadcast([3, 4]), [("x", [4], -2, 2, false)]),
                try single("broadcast [2, 1, 3] to [2, 4, 3]", .broadcast([2, 4, 3]), [("x", [2, 1, 3], -2, 2, false)]),
            ]
        case .gather:
            return [
                try example("gather [5, 2, 3] by [2, 3]") { b in
                    b.out(try b.op(.gather, try b.input("table", [5, 2, 3]), try b.ids("ids", [2, 3], [0, 4, 4, 1, 3, 0])), "y")
                },
                try example("gather [6, 4] by [3]") { b in
                    b.out(try b.op(.gather, try b.input("table", [6, 4]), try b.ids("ids", [3], [5, 2, 5])), "y")
                },
                withBadIDs(try example("gather out-of-range ids") { b in
                    b.out(try b.op(.gather, try b.input("table", [3, 2]), try b.ids("ids", [4], [1, -1, 7, 2])), "y")
                }),
            ]
        case .scatterAdd:
            return [
                try example("scatter_add [2, 3, 4] into 5 rows") { b in
                    b.out(try b.op(.scatterAdd(rows: 5), try b.input("v", [2, 3, 4]), try b.ids("ids", [2, 3], [0, 4, 4, 1, 4, 0])), "y")
                },
                try example("scatter_add [3] into 4 rows") { b in
                    b.out(try b.op(.scatterAdd(rows: 4), try b.input("v", [3]), try b.ids("ids", [3], [2, 2, 0])), "y")
                },
                withBadIDs(try example("scatter_add out-of-range ids") { b in
                    b.out(try b.op(.scatterAdd(rows: 3), try b.input("v", [4, 2]), try b.ids("ids", [4], [1, -1, 7, 1])), "y")
                }),
            ]
        case .oneHot:
            return [
                try example("one_hot depth 6") { b in b.out(try b.op(.oneHot(depth: 6), try b.ids("ids", [2, 3], [0, 5, 2, 2, 1, 3])), "y") },
                withBadIDs(try example("one_hot out-of-range ids") { b in b.out(try b.op(.oneHot(depth: 3), try b.ids("ids", [4], [2, -1, 3, 0])), "y") }),
            ]
        }
    }

    // MARK: - Running both

    static func reference(_ type: TensorType, _ floats: [Float]) -> ReferenceTensor {
        ReferenceTensor(shape: type.shape, values: floats.map(Double.init))
    }

    /// A runtime output as Doubles (i32 outputs decoded from their bits).
    static func values(_ out: (type: TensorType, floats: [Float])) -> [Double] {
        out.type.dtype == .i32 ? out.floats.map { Double(Int32(bitPattern: $0.bitPattern)) } : out.floats.map(Double.init)
    }

    /// The largest |a − b| and the bound 1e-4·(1 + max |b|).
    static func compare(_ a: [Double], _ b: [Double]) -> (error: Double, bound: Double, at: Int) {
        var worst = 0.0, at = 0, scale = 0.0
        for i in 0..<min(a.count, b.count) {
            let d = Swift.abs(a[i] - b[i])
            if !(d <= worst) { worst = d; at = i }  // NaN counts as the worst
            scale = Swift.max(scale, Swift.abs(b[i]))
        }
        return (worst, 1e-4 * (1 + scale), at)
    }

    /// Checks a large draw's statistics against its distribution.
    func checkDraw(_ v: [Double], _ d: RandomDistribution, _ label: String) {
        let n = Double(v.count)
        let mean = v.reduce(0, +) / n
        let std = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        switch d {
        case let .normal(m, s):
            XCTAssertEqual(mean, m, accuracy: 6 * s / n.squareRoot(), "\(label): mean")
            XCTAssertEqual(std, s, accuracy: 0.03 * s, "\(label): std")
        case let .uniform(lo, hi):
            XCTAssertTrue(v.allSatisfy { $0 >= lo && $0 <= hi }, "\(label): draws outside [\(lo), \(hi)]")
            XCTAssertEqual(mean, (lo + hi) / 2, accuracy: 6 * (hi - lo) / (12 * n).squareRoot(), "\(label): mean")
            XCTAssertEqual(std, (hi - lo) / 12.0.squareRoot(), accuracy: 0.03 * (hi - lo), "\(label): std")
        }
    }

    /// Runs `ex` on the runtime and the interpreter; returns how many outputs were compared.
    @discardableResult
    func check(_ ex: Example, inspect: (Plan) -> Void = { _ in }) throws -> Int {
        let g = ex.graph
        let plan = try Planner.plan(g) { _, _, _ in .constant(0) }
        XCTAssertEqual(PlanVerifier.verify(plan), [], ex.label)
        inspect(plan)
        XCTAssertEqual(Executable.unsupported(plan).map(\.message), [], ex.label)
        let store = ParameterStore()
        let e = try Executable(plan: plan, store: store, threads: 2)
        for (n, v) in ex.floats { try e.setInput(n, floats: v) }
        for (n, v) in ex.ints { try e.setInput(n, ints: v) }
        for (n, v) in ex.parameters { try store.set(n, kind: .parameter, floats: v) }
        for (n, v) in ex.states { try store.set(n, kind: .state, floats: v) }
        for (n, v) in ex.carried { try store.set(n, kind: .carried, floats: v) }
        do {
            try e.run(seed: 11)
            XCTAssertFalse(ex.badIDs, "\(ex.label): the runtime did not report the out-of-range ids")
        } catch {
            guard ex.badIDs else { throw error }
            XCTAssertTrue("\(error)".contains("outside the table"), "\(ex.label): \(error)")
        }

        // The leaves' values, by name, and the runtime's draws, by node.
        var leaves: [String: ReferenceTensor] = [:]
        var random: [Int: ReferenceTensor] = [:]
        for (i, node) in g.nodes.enumerated() {
            switch node.op {
            case let .input(name):
                if let f = ex.floats[name] { leaves[name] = Self.reference(node.type, f) }
                if let k = ex.ints[name] { leaves[name] = ReferenceTensor(shape: node.type.shape, values: k.map(Double.init)) }
            case let .parameter(name): leaves[name] = ex.parameters[name].map { Self.reference(node.type, $0) }
            case let .state(name): leaves[name] = ex.states[name].map { Self.reference(node.type, $0) }
            case let .carried(name): leaves[name] = ex.carried[name].map { Self.reference(node.type, $0) }
            case let .random(d, _):
                let draw = try XCTUnwrap(e.output("random.\(i)"), "\(ex.label): random node %\(i) is not an output")
                XCTAssertEqual(draw.type, node.type, "\(ex.label): random node %\(i)")
                random[i] = Self.reference(node.type, draw.floats)
                if node.type.elementCount >= 10_000 { checkDraw(Self.values(draw), d, "\(ex.label) %\(i)") }
            default: break
            }
        }
        let r = ex.reference ?? g
        let expected = try ReferenceInterpreter.outputs(r, leaves: leaves, random: random)
        var compared = 0
        for o in g.outputs {
            let got = try XCTUnwrap(e.output(o.name), "\(ex.label): no runtime output '\(o.name)'")
            let want = try XCTUnwrap(expected[o.name], "\(ex.label): no reference output '\(o.name)'")
            XCTAssertEqual(got.type.shape, want.shape, "\(ex.label) '\(o.name)': shapes differ")
            let a = Self.values(got)
            XCTAssertEqual(a.count, want.values.count, "\(ex.label) '\(o.name)'")
            let (err, bound, at) = Self.compare(a, want.values)
            XCTAssertLessThanOrEqual(err, bound, "\(ex.label) '\(o.name)': element \(at) is \(a[at]) on the runtime, \(want.values[at]) in the reference")
            compared += 1
        }
        if !g.updates.isEmpty {
            let updated = try ReferenceInterpreter.updates(r, leaves: leaves, random: random)
            for u in g.updates {
                let kind: PersistentBuffer.Kind = ex.states[u.name] != nil ? .state : ex.carried[u.name] != nil ? .carried : .parameter
                let got = try XCTUnwrap(store.floats(u.name, kind: kind), "\(ex.label): no stored '\(u.name)'")
                let want = try XCTUnwrap(updated[u.name])
                let (err, bound, at) = Self.compare(got.map(Double.init), want.values)
                XCTAssertLessThanOrEqual(err, bound, "\(ex.label) update '\(u.name)': element \(at) differs")
                compared += 1
            }
        }
        return compared
    }

    // MARK: - Tests

    /// Every op code has examples that contain it, and each agrees with the runtime.
    func testEveryOpCodeAgreesWithTheRuntime() throws {
        var total = 0
        for code in OpCode.allCases {
            let list = try Self.examples(code)
            if list.isEmpty { XCTFail("op code \(code) has no reference example") }
            for ex in list {
                XCTAssertTrue(ex.graph.nodes.contains { $0.op.code == code } || ex.reference?.nodes.contains { $0.op.code == code } == true,
                              "example '\(ex.label)' of \(code) has no \(code) node")
                do {
                    total += try check(ex)
                } catch {
                    XCTFail("\(code) '\(ex.label)': \(error)")
                }
            }
        }
        XCTAssertGreaterThan(total, OpCode.allCases.count)
    }

    /// A chain of ops (a small classifier with a conv, pooling, a dense
    /// layer and cross-entropy) agrees end to end.
    func testAChainOfOpsAgrees() throws {
        let ex = try Self.example("chain") { b in
            let x = try b.input("x", [2, 1, 6, 6]), w = try b.parameter("w", [3, 1, 3, 3]), bias = try b.parameter("b", [3, 1, 1])
            let c = try b.op(.unary(.relu), try b.op(.binary(.add), try b.op(.conv(ConvAttributes(stride: [1, 1], padBefore: [1, 1], padAfter: [1, 1])), x, w), bias))
            let p = try b.op(.pool(PoolAttributes(kind: .max, kernel: [2, 2], stride: [2, 2], padding: [0, 0])), c)
            let flat = try b.op(.reshape([2, 27]), p)
            let logits = try b.op(.matmul(transposeA: false, transposeB: false), flat, try b.parameter("d", [27, 4]))
            let hot = try b.op(.oneHot(depth: 4), try b.ids("labels", [2], [3, 1]))
            let ce = try b.op(.unary(.negate), try b.op(.reduce(.sum, axes: [-1], keepDims: false), try b.op(.binary(.multiply), hot, try b.op(.logSoftmax(axis: -1), logits))))
            b.out(try b.op(.reduce(.mean, axes: [0], keepDims: false), ce), "loss")
            b.out(logits, "logits")
        }
        XCTAssertEqual(try check(ex), 2)
    }

    /// Strided views: slices of a [batch, time, 4·hidden] projection split
    /// into gates, a strided slice transposed and split by a reshape, and a
    /// broadcast slice, all read in place by fused loops; a reshape that
    /// cannot be strides is copied. The values are the interpreter's.
    func testStridedViewsAgree() throws {
        func slice(_ start: [Int], _ end: [Int], _ step: [Int]? = nil) -> Op {
            .slice(SliceAttributes(start: start, end: end, step: step ?? start.map { _ in 1 }))
        }
        let ex = try Self.example("strided views") { b in
            let z = try b.input("z", [2, 3, 8])
            let flat = try b.op(.reshape([2, 8]), try b.op(slice([0, 1, 0], [2, 2, 8]), z))
            let i = try b.op(slice([0, 0], [2, 4]), flat), g = try b.op(slice([0, 4], [2, 8]), flat)
            b.out(try b.op(.binary(.multiply), try b.op(.unary(.sigmoid), i), try b.op(.unary(.tanh), g)), "h")
            let t = try b.op(.transpose([2, 0, 1]), try b.op(slice([0, 0, 1], [2, 3, 8], [1, 2, 2]), z))  // [4, 2, 2]
            b.out(try b.op(.unary(.exp), try b.op(.reshape([2, 2, 2, 2]), t)), "split")
            let row = try b.op(.broadcast([2, 3, 8]), try b.op(slice([1, 2, 0], [2, 3, 8]), z))
            b.out(try b.op(.binary(.add), row, z), "broadcast")
            b.out(try b.op(.unary(.negate), try b.op(.reshape([16]), t)), "merged")
        }
        XCTAssertEqual(try check(ex) { plan in
            let kernels = plan.steps.map(\.name)
            XCTAssertFalse(kernels.contains("slice") || kernels.contains("transpose"), "\(kernels)")
            // Four loops for four outputs, and one copy: the transpose, which a
            // reshape merging axes 24 and 16 elements apart must read whole.
            XCTAssertEqual(kernels, ["fused", "fused", "fused", "fused", "negate"])
        }, 4)
    }

    /// Reductions as sinks of fused loops (inner, outer, middle and all
    /// axes; sum, mean and max), one_hot inside a loop, softmax and
    /// log-softmax as heads. The loop of [64, 48, 32] is large enough to be
    /// split over two workers where no sink reduces its outermost axis.
    static func sinkExample() throws -> Example {
        try example("sinks") { b in
            let x = try b.input("x", [64, 48, 32])
            let t = try b.op(.unary(.tanh), x)
            b.out(try b.op(.reduce(.sum, axes: [2], keepDims: false), t), "sum inner")
            b.out(try b.op(.reduce(.max, axes: [1], keepDims: true), t), "max middle")
            b.out(try b.op(.reduce(.mean, axes: [1, 2], keepDims: false), t), "mean inner two")
            let s = try b.op(.unary(.sigmoid), x)
            b.out(try b.op(.reduce(.sum, axes: [0, 2], keepDims: false), s), "sum outer and inner")
            b.out(try b.op(.reduce(.mean, axes: [0, 1, 2], keepDims: false), s), "mean all")
            b.out(try b.op(.reduce(.max, axes: [0], keepDims: false), s), "max outer")
            let logits = try b.input("logits", [6, 7, 9])
            let ids = try b.ids("ids", [6, 7], (0..<42).map { Int32(($0 * 5 + 2) % 9) })
            let hot = try b.op(.oneHot(depth: 9), ids)
            let picked = try b.op(.binary(.multiply), hot, try b.op(.logSoftmax(axis: 2), logits))
            let nll = try b.op(.unary(.negate), try b.op(.reduce(.sum, axes: [2], keepDims: false), picked))
            b.out(try b.op(.reduce(.mean, axes: [0, 1], keepDims: false), nll), "cross entropy")
            b.out(try b.op(.binary(.subtract), try b.op(.softmax(axis: 2), logits), hot), "softmax minus one-hot")
        }
    }

    func testReductionSinksOneHotAndSoftmaxHeadsAgree() throws {
        XCTAssertEqual(try check(try Self.sinkExample()) { plan in
            let kernels = plan.steps.map(\.name)
            XCTAssertFalse(kernels.contains { $0.hasPrefix("reduce") || $0 == "one_hot" }, "\(kernels)")
            XCTAssertTrue(kernels.contains("log_softmax+fused") && kernels.contains("softmax+fused"), "\(kernels)")
            let sinks = plan.steps.reduce(0) { n, s in if case let .fused(f) = s.kernel { return n + f.reductions.count } else { return n } }
            XCTAssertEqual(sinks, 8, "\(kernels)")
        }, 8)
        // Ids outside the classes, read by a one_hot inside a loop: zero rows, and the run reports them.
        let bad = try Self.example("fused one_hot, bad ids") { b in
            let logits = try b.input("logits", [3, 4])
            let hot = try b.op(.oneHot(depth: 4), try b.ids("ids", [3], [2, 4, -1]))
            let picked = try b.op(.binary(.multiply), hot, try b.op(.logSoftmax(axis: 1), logits))
            b.out(try b.op(.reduce(.sum, axes: [1], keepDims: false), picked), "picked")
        }
        XCTAssertEqual(try check(Self.withBadIDs(bad)) { plan in
            XCTAssertEqual(plan.steps.map(\.name), ["log_softmax+fused"])
        }, 1)
    }

    /// Sums accumulated by fused loops do not depend on the thread count.
    func testFusedReductionsAreBitIdenticalOnOneAndTwoThreads() throws {
        let ex = try Self.sinkExample()
        let plan = try Planner.plan(ex.graph) { _, _, _ in .constant(0) }
        var runs: [[String: [UInt32]]] = []
        for threads in [1, 2] {
            let e = try Executable(plan: plan, store: ParameterStore(), threads: threads)
            for (n, v) in ex.floats { try e.setInput(n, floats: v) }
            for (n, v) in ex.ints { try e.setInput(n, ints: v) }
            try e.run(seed: 1)
            var out: [String: [UInt32]] = [:]
            for o in plan.outputs { out[o.name] = try XCTUnwrap(e.output(o.name)).floats.map(\.bitPattern) }
            runs.append(out)
        }
        XCTAssertEqual(runs[0], runs[1])
    }

    // MARK: - The interpreter on its own

    typealias R = ReferenceInterpreter

    static func tensor(_ shape: [Int], _ values: [Double]) -> ReferenceTensor { ReferenceTensor(shape: shape, values: values) }

    static func pseudo(_ n: Int, _ salt: Int) -> [Double] {
        (0..<n).map { i in Double(((i + 1) * 7919 + salt * 104_729) % 2001) / 1000 - 1 }
    }

    func testMissingOrMiscountedValuesThrowDescriptiveErrors() throws {
        var g = Graph(name: "errors")
        let x = try g.add(.input("x"), type: .f32([2, 3]))
        let r = try g.add(.random(.normal(mean: 0, std: 1), stream: 1), type: .f32([2, 3]))
        g.outputs = [NamedValue("y", try g.add(.binary(.add), [x, r]))]
        let six = Self.tensor([2, 3], Self.pseudo(6, 1))
        XCTAssertThrowsError(try R.run(g, leaves: [:], random: [1: six])) { XCTAssertTrue("\($0)".contains("no value given for leaf 'x'"), "\($0)") }
        XCTAssertThrowsError(try R.run(g, leaves: ["x": six])) { XCTAssertTrue("\($0)".contains("no draw given for random node %1"), "\($0)") }
        XCTAssertThrowsError(try R.run(g, leaves: ["x": Self.tensor([5], Self.pseudo(5, 1))], random: [1: six])) {
            XCTAssertTrue("\($0)".contains("has 5 values, but its type f32[2, 3] holds 6"), "\($0)")
        }
        XCTAssertThrowsError(try R.run(g, leaves: ["x": Self.tensor([2, 2], Self.pseudo(6, 1))], random: [1: six])) {
            XCTAssertTrue("\($0)".contains("has shape [2, 2] but 6 values"), "\($0)")
        }
        // Any shape with the right count is taken in the node's shape.
        let y = try XCTUnwrap(try R.outputs(g, leaves: ["x": Self.tensor([6], Self.pseudo(6, 1))], random: [1: six])["y"])
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(y.values, zip(Self.pseudo(6, 1), six.values).map { $0 + $1 })

        // A fractional id; a max-pooling window wholly in the padding.
        var ids = Graph(name: "ids")
        let t = try ids.add(.input("t"), type: .f32([3, 2]))
        _ = try ids.add(.gather, [t, try ids.add(.input("i"), type: .i32([1]))])
        XCTAssertThrowsError(try R.run(ids, leaves: ["t": Self.tensor([3, 2], Self.pseudo(6, 2)), "i": Self.tensor([1], [1.5])])) {
            XCTAssertTrue("\($0)".contains("id 1.5 is not a whole number"), "\($0)")
        }
        // A pooling window with no real element (padding over half the kernel)
        // is refused by the shape rule now, as by PyTorch; the interpreter
        // would say so too (a graph from the text parser is verified first).
        var pool = Graph(name: "pool")
        let px = try pool.add(.input("x"), type: .f32([1, 1, 2, 2]))
        XCTAssertThrowsError(try pool.add(.pool(PoolAttributes(kind: .max, kernel: [1, 1], stride: [1, 1], padding: [1, 1])), [px])) {
            XCTAssertTrue("\($0)".contains("at most half the kernel"), "\($0)")
        }
    }

    /// Small cases worked by hand: the tie rule of max pooling, average
    /// pooling's division by the whole kernel, zero rows for bad ids.
    func testHandWorkedCases() throws {
        var g = Graph(name: "hand")
        let x = try g.add(.input("x"), type: .f32([1, 1, 2, 3]))
        let dy = try g.add(.input("dy"), type: .f32([1, 1, 1, 2]))
        let maxp = PoolAttributes(kind: .max, kernel: [2, 2], stride: [1, 1], padding: [0, 0])
        let avg = PoolAttributes(kind: .average, kernel: [2, 2], stride: [2, 2], padding: [1, 1])
        let mp = try g.add(.pool(maxp), [x])
        let mg = try g.add(.poolGrad(maxp), [x, dy])
        let ap = try g.add(.pool(avg), [x])
        let table = try g.add(.input("table"), type: .f32([2, 2]))
        let ids = try g.add(.input("ids"), type: .i32([3]))
        let ga = try g.add(.gather, [table, ids])
        let sa = try g.add(.scatterAdd(rows: 2), [ga, ids])
        let oh = try g.add(.oneHot(depth: 2), [ids])
        let us = try g.add(.unslice(SliceAttributes(start: [0, 0], end: [2, 3], step: [1, 2]), shape: [2, 3]), [table])
        let v = try R.run(g, leaves: [
            "x": Self.tensor([1, 1, 2, 3], [5, 5, 1, 5, 5, 1]),  // every window's max is tied
            "dy": Self.tensor([1, 1, 1, 2], [10, 20]),
            "table": Self.tensor([2, 2], [1, 2, 3, 4]),
            "ids": Self.tensor([3], [1, 2, 1]),
        ])
        XCTAssertEqual(v[mp.id].values, [5, 5])
        XCTAssertEqual(v[mg.id].values, [10, 20, 0, 0, 0, 0])  // the first maximum of each window in row-major order
        // 2×2 windows, stride 2, over the plane padded to 4×5: each holds one or two real elements, divided by 4.
        XCTAssertEqual(v[ap.id].shape, [1, 1, 2, 2])
        XCTAssertEqual(v[ap.id].values, [5.0 / 4, 6.0 / 4, 5.0 / 4, 6.0 / 4])
        XCTAssertEqual(v[ga.id].values, [3, 4, 0, 0, 3, 4])
        XCTAssertEqual(v[sa.id].values, [0, 0, 6, 8])
        XCTAssertEqual(v[oh.id].values, [0, 1, 0, 0, 0, 1])
        XCTAssertEqual(v[us.id].values, [1, 0, 2, 3, 0, 4])
    }

    /// conv, convInputGrad and convFilterGrad are adjoint in the
    /// interpreter for every geometry, asymmetric padding included:
    /// ⟨conv(x, w), dy⟩ = ⟨x, convInputGrad(dy, w)⟩ = ⟨w, convFilterGrad(x, dy)⟩.
    func testConvolutionGradientsAreAdjoint() throws {
        let geometries: [(x: [Int], k: [Int], stride: [Int], before: [Int], after: [Int])] = [
            ([2, 3, 9], [3], [2], [1], [0]),
            ([1, 2, 8], [4], [3], [0], [2]),
            ([2, 2, 7, 6], [3, 2], [2, 1], [1, 0], [0, 1]),
            ([1, 3, 5, 5], [3, 3], [2, 2], [2, 1], [1, 2]),
            ([1, 1, 6, 7], [2, 2], [3, 2], [0, 0], [0, 0]),
        ]
        for (i, geo) in geometries.enumerated() {
            let a = ConvAttributes(stride: geo.stride, padBefore: geo.before, padAfter: geo.after)
            let f = 3
            let w = [f, geo.x[1]] + geo.k
            let out = try a.outputSize(input: Array(geo.x[2...]), kernel: geo.k)
            let dyShape = [geo.x[0], f] + out
            var g = Graph(name: "adjoint")
            let xv = try g.add(.input("x"), type: .f32(geo.x)), wv = try g.add(.input("w"), type: .f32(w)), dyv = try g.add(.input("dy"), type: .f32(dyShape))
            let y = try g.add(.conv(a), [xv, wv])
            let dx = try g.add(.convInputGrad(a, inputSize: Array(geo.x[2...])), [dyv, wv])
            let dw = try g.add(.convFilterGrad(a, kernelSize: geo.k), [xv, dyv])
            let leaves = [
                "x": Self.tensor(geo.x, Self.pseudo(geo.x.reduce(1, *), 1 + i)),
                "w": Self.tensor(w, Self.pseudo(w.reduce(1, *), 2 + i)),
                "dy": Self.tensor(dyShape, Self.pseudo(dyShape.reduce(1, *), 3 + i)),
            ]
            let v = try R.run(g, leaves: leaves)
            func dot(_ p: ReferenceTensor, _ q: ReferenceTensor) -> Double { zip(p.values, q.values).reduce(0) { $0 + $1.0 * $1.1 } }
            let lhs = dot(v[y.id], v[dyv.id])
            XCTAssertEqual(dot(v[xv.id], v[dx.id]), lhs, accuracy: 1e-9 * (1 + Swift.abs(lhs)), "geometry \(i): input gradient")
            XCTAssertEqual(dot(v[wv.id], v[dw.id]), lhs, accuracy: 1e-9 * (1 + Swift.abs(lhs)), "geometry \(i): filter gradient")
            XCTAssertNotEqual(lhs, 0)
        }
    }
}
