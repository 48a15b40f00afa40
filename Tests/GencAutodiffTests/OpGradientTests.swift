import GencAutodiff
import GencIR
import GencPlan
import GencRuntime
import GencTestSupport
import XCTest

/// A finite-difference check of every op kind, driven by the op table: the
/// test iterates `OpCode.allCases`, so an op without an example here fails
/// the suite, and each example must really contain an op of its code.
///
/// Each example builds y = op(parameters…) and the loss Σ y·probe (a fixed
/// random probe, so every element of y matters). The rule's gradients,
/// evaluated in float64 by the reference interpreter, must match central
/// differences of the float64 loss to 1e-6 relative (GradientCheck says
/// why that can fail), and the float32 runtime running the differentiated
/// graph must match the float64 gradients to 1e-4 relative L2.
final class OpGradientTests: XCTestCase {
    struct Example {
        var name: String
        var graph: Graph
        var output: Value
        var leaves: [String: ReferenceTensor]
        var random: [Int: ReferenceTensor] = [:]
    }

    /// Builds examples with parameters drawn from a range.
    struct Builder {
        var graph = Graph(name: "check")
        var leaves: [String: ReferenceTensor] = [:]
        var random: [Int: ReferenceTensor] = [:]
        var rng = SplitMix(7)
        mutating func parameter(_ name: String, _ shape: [Int], _ lo: Double = -2, _ hi: Double = 2) throws -> Value {
            leaves[name] = ReferenceTensor(shape: shape, values: rng.values(shape.reduce(1, *), lo, hi))
            return try graph.add(.parameter(name), type: .f32(shape))
        }
        /// Values at least 0.1 from zero (away from the kinks of relu, abs, leaky_relu).
        mutating func awayFromZero(_ name: String, _ shape: [Int]) throws -> Value {
            let n = shape.reduce(1, *)
            leaves[name] = ReferenceTensor(shape: shape, values: rng.values(n, 0.1, 2).map { rng.uniform() < 0.5 ? -$0 : $0 })
            return try graph.add(.parameter(name), type: .f32(shape))
        }
        mutating func ids(_ name: String, _ values: [Int], shape: [Int]) throws -> Value {
            leaves[name] = ReferenceTensor(shape: shape, values: values.map(Double.init))
            return try graph.add(.input(name), type: .i32(shape))
        }
        mutating func op(_ op: Op, _ operands: [Value] = [], type: TensorType? = nil) throws -> Value { try graph.add(op, operands, type: type) }
        func example(_ name: String, _ y: Value) -> Example { Example(name: name, graph: graph, output: y, leaves: leaves, random: random) }
        /// Adds the op, then makes the example (so the graph includes it).
        mutating func finish(_ name: String, _ op: Op, _ operands: [Value]) throws -> Example {
            let y = try self.op(op, operands)
            return example(name, y)
        }
    }

    static func unaryExample(_ f: UnaryFunction) throws -> [Example] {
        var b = Builder()
        let x: Value
        switch f {
        case .log, .sqrt, .rsqrt, .reciprocal: x = try b.parameter("x", [3, 4], 0.5, 2)
        case .relu, .abs, .leakyRelu: x = try b.awayFromZero("x", [3, 4])
        case .negate, .exp, .tanh, .sigmoid, .softplus, .square, .gelu, .geluDerivative: x = try b.parameter("x", [3, 4])
        }
        return [try b.finish(f.name, .unary(f), [x])]
    }

    static func binaryExamples(_ f: BinaryFunction) throws -> [Example] {
        var out: [Example] = []
        // Same shape, a row broadcast over rows, and a column broadcast (both operands stretched).
        for (sa, sb) in [([3, 4], [3, 4]), ([3, 4], [4]), ([3, 1], [1, 4])] {
            var b = Builder()
            let positive = f == .power
            let a = try b.parameter("a", sa, positive ? 0.5 : -2, 2)
            let c = try b.parameter("b", sb, positive ? -1.5 : -2, positive ? 1.5 : 2)
            out.append(try b.finish("\(f.rawValue) \(sa) \(sb)", .binary(f), [a, c]))
        }
        if f == .power {
            // A constant exponent (x ** 2, x ** 0.5) takes the folded rule.
            for e in [2.0, 0.5, 0] {
                var b = Builder()
                let a = try b.parameter("a", [3, 4], 0.5, 2)
                out.append(try b.finish("power const \(e)", .binary(.power), [a, try b.op(.constant(e), [], type: .f32([]))]))
            }
        }
        return out
    }

    static func examples(_ code: OpCode) throws -> [Example] {
        var b = Builder()
        func one(_ name: String, _ y: Value) -> [Example] { [b.example(name, y)] }
        switch code {
        case .input:
            let p = try b.parameter("p", [2, 3])
            b.leaves["x"] = ReferenceTensor(shape: [2, 3], values: b.rng.values(6, -1, 1))
            return one("input", try b.op(.binary(.multiply), [p, try b.op(.input("x"), type: .f32([2, 3]))]))
        case .parameter:
            let p = try b.parameter("p", [2, 3])
            return one("parameter used twice", try b.op(.binary(.multiply), [p, p]))
        case .state:
            let p = try b.parameter("p", [2, 3])
            b.leaves["s"] = ReferenceTensor(shape: [2, 3], values: b.rng.values(6, -1, 1))
            return one("state", try b.op(.binary(.multiply), [p, try b.op(.state("s"), type: .f32([2, 3]))]))
        case .carried:
            // A value an earlier program computed: a constant of this one, like state.
            let p = try b.parameter("p", [2, 3])
            b.leaves["c"] = ReferenceTensor(shape: [2, 3], values: b.rng.values(6, -1, 1))
            return one("carried", try b.op(.binary(.multiply), [p, try b.op(.carried("c"), type: .f32([2, 3]))]))
        case .constant:
            let p = try b.parameter("p", [2, 3])
            return one("constant", try b.op(.binary(.multiply), [p, try b.op(.constant(3), type: .f32([]))]))
        case .randomNormal, .randomUniform:
            // The backward pass must use the forward draw: d(p·r)/dp = r.
            let p = try b.parameter("p", [2, 3])
            let dist: RandomDistribution = code == .randomNormal ? .normal(mean: 0, std: 1) : .uniform(low: -1, high: 1)
            let r = try b.op(.random(dist, stream: 0), [], type: .f32([2, 3]))
            b.random[r.id] = ReferenceTensor(shape: [2, 3], values: b.rng.values(6, -1, 1))
            return one("random used twice", try b.op(.binary(.add), [try b.op(.binary(.multiply), [p, r]), try b.op(.binary(.multiply), [r, p])]))
        case .negate: return try unaryExample(.negate)
        case .exp: return try unaryExample(.exp)
        case .log: return try unaryExample(.log)
        case .sqrt: return try unaryExample(.sqrt)
        case .rsqrt: return try unaryExample(.rsqrt)
        case .abs: return try unaryExample(.abs)
        case .tanh: return try unaryExample(.tanh)
        case .sigmoid: return try unaryExample(.sigmoid)
        case .relu: return try unaryExample(.relu)
        case .softplus: return try unaryExample(.softplus)
        case .square: return try unaryExample(.square)
        case .reciprocal: return try unaryExample(.reciprocal)
        case .gelu: return try unaryExample(.gelu)
        case .geluDerivative: return try unaryExample(.geluDerivative)
        case .leakyRelu: return try unaryExample(.leakyRelu(slope: 0.2))
        case .add: return try binaryExamples(.add)
        case .subtract: return try binaryExamples(.subtract)
        case .multiply: return try binaryExamples(.multiply)
        case .divide:
            var b = Builder()
            let a = try b.parameter("a", [3, 4])
            let c = try b.parameter("b", [4], 0.5, 2)
            return [try b.finish("divide", .binary(.divide), [a, c])]
        case .power: return try binaryExamples(.power)
        case .maximum: return try binaryExamples(.maximum)
        case .minimum: return try binaryExamples(.minimum)
        case .greater:
            // A mask: no gradient through it, and the rest of the loss still differentiates.
            let a = try b.parameter("a", [3, 4]), c = try b.parameter("b", [3, 4])
            return one("greater", try b.op(.binary(.multiply), [try b.op(.binary(.greater), [a, c]), a]))
        case .matmul:
            var out: [Example] = []
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                var b = Builder()
                let a = try b.parameter("a", ta ? [4, 3] : [3, 4]), c = try b.parameter("b", tb ? [5, 4] : [4, 5])
                out.append(try b.finish("matmul \(ta) \(tb)", .matmul(transposeA: ta, transposeB: tb), [a, c]))
            }
            return out
        case .conv1d:
            let x = try b.parameter("x", [2, 3, 9]), w = try b.parameter("w", [4, 3, 3])
            return one("conv1d", try b.op(.conv(ConvAttributes(stride: [2], padBefore: [1], padAfter: [1])), [x, w]))
        case .conv2d:
            let x = try b.parameter("x", [2, 3, 7, 6]), w = try b.parameter("w", [4, 3, 3, 3])
            return one("conv2d", try b.op(.conv(ConvAttributes(stride: [2, 1], padBefore: [1, 1], padAfter: [1, 1])), [x, w]))
        case .convInputGrad:
            let a = ConvAttributes(stride: [2, 2], padBefore: [1, 1], padAfter: [1, 1])
            let dy = try b.parameter("dy", [2, 4, 3, 3]), w = try b.parameter("w", [4, 3, 3, 3])
            var out = one("conv_input_grad", try b.op(.convInputGrad(a, inputSize: [6, 6]), [dy, w]))
            // dcgan's transposed convolution: kernel 4, stride 2, padding 1, 3 → 6.
            var c = Builder()
            let dy4 = try c.parameter("dy", [2, 3, 3, 3]), w4 = try c.parameter("w", [3, 2, 4, 4])
            out.append(try c.finish("conv_transpose k4 s2", .convInputGrad(ConvAttributes(stride: [2, 2], padBefore: [1, 1], padAfter: [1, 1]), inputSize: [6, 6]), [dy4, w4]))
            return out
        case .convFilterGrad:
            let a = ConvAttributes(stride: [2], padBefore: [1], padAfter: [1])
            let x = try b.parameter("x", [2, 3, 8]), dy = try b.parameter("dy", [2, 4, 4])
            return one("conv_filter_grad", try b.op(.convFilterGrad(a, kernelSize: [3]), [x, dy]))
        case .maxPool, .averagePool:
            let p = PoolAttributes(kind: code == .maxPool ? .max : .average, kernel: [3, 3], stride: [2, 2], padding: [1, 1])
            let x = try b.parameter("x", [2, 2, 5, 6])
            return one("pool", try b.op(.pool(p), [x]))
        case .maxPoolGrad:
            // Differentiable in neither operand here: x picks windows (zero a.e.), dy is an input.
            let p = PoolAttributes(kind: .max, kernel: [2, 2], stride: [2, 2], padding: [0, 0])
            let x = try b.parameter("x", [1, 2, 4, 4])
            b.leaves["dy"] = ReferenceTensor(shape: [1, 2, 2, 2], values: b.rng.values(8, -1, 1))
            let dy = try b.op(.input("dy"), type: .f32([1, 2, 2, 2]))
            return one("maxpool grad wrt x", try b.op(.binary(.add), [try b.op(.poolGrad(p), [x, dy]), x]))
        case .averagePoolGrad:
            let p = PoolAttributes(kind: .average, kernel: [3, 3], stride: [2, 2], padding: [1, 1])
            b.leaves["x"] = ReferenceTensor(shape: [2, 2, 5, 6], values: b.rng.values(120, -1, 1))
            let x = try b.op(.input("x"), type: .f32([2, 2, 5, 6]))
            let dy = try b.parameter("dy", [2, 2, 3, 3])
            return one("avgpool grad wrt dy", try b.op(.poolGrad(p), [x, dy]))
        case .reduceSum, .reduceMean, .reduceMax:
            let f: ReduceFunction = code == .reduceSum ? .sum : code == .reduceMean ? .mean : .max
            var out: [Example] = []
            for (axes, keep) in [([0, 2], false), ([1], true), ([-1], false)] {
                var b = Builder()
                let x = try b.parameter("x", [3, 4, 5])
                out.append(try b.finish("reduce \(f) \(axes) \(keep)", .reduce(f, axes: axes, keepDims: keep), [x]))
            }
            return out
        case .softmax, .logSoftmax:
            var out: [Example] = []
            for axis in [-1, 0, 1] {
                var b = Builder()
                let x = try b.parameter("x", [3, 4, 2])
                out.append(try b.finish("\(code) axis \(axis)", code == .softmax ? .softmax(axis: axis) : .logSoftmax(axis: axis), [x]))
            }
            return out
        case .reshape:
            let x = try b.parameter("x", [3, 4])
            return one("reshape", try b.op(.reshape([2, 6]), [x]))
        case .transpose:
            let x = try b.parameter("x", [2, 3, 4])
            return one("transpose", try b.op(.transpose([2, 0, 1]), [x]))
        case .slice:
            let x = try b.parameter("x", [5, 7])
            return one("strided slice", try b.op(.slice(SliceAttributes(start: [1, 0], end: [5, 7], step: [2, 3])), [x]))
        case .unslice:
            let x = try b.parameter("x", [2, 3])
            return one("unslice", try b.op(.unslice(SliceAttributes(start: [1, 0], end: [5, 7], step: [2, 3]), shape: [5, 7]), [x]))
        case .concat:
            let x = try b.parameter("x", [2, 3]), y = try b.parameter("y", [2, 1]), z = try b.parameter("z", [2, 2])
            return one("concat", try b.op(.concat(axis: -1), [x, y, z, x]))
        case .broadcast:
            let x = try b.parameter("x", [3, 1])
            return one("broadcast", try b.op(.broadcast([2, 3, 4]), [x]))
        case .gather:
            let table = try b.parameter("table", [5, 3])
            let ids = try b.ids("ids", [0, 4, 4, 2, 0, 1], shape: [2, 3])
            return one("gather with repeats", try b.op(.gather, [table, ids]))
        case .scatterAdd:
            let v = try b.parameter("v", [4, 3])
            let ids = try b.ids("ids", [1, 3, 1, 0], shape: [4])
            return one("scatter_add", try b.op(.scatterAdd(rows: 5), [v, ids]))
        case .oneHot:
            let p = try b.parameter("p", [4, 6])
            let ids = try b.ids("ids", [5, 0, 2, 2], shape: [4])
            return one("one_hot", try b.op(.binary(.multiply), [try b.op(.oneHot(depth: 6), [ids]), p]))
        }
    }

    /// Σ y·probe, the probe an input with fixed values.
    static func withLoss(_ e: Example) throws -> (Graph, Value, [String: ReferenceTensor]) {
        var g = e.graph
        var leaves = e.leaves
        let t = g.type(e.output)
        var rng = SplitMix(99)
        leaves["probe"] = ReferenceTensor(shape: t.shape, values: rng.values(t.elementCount, -1, 1))
        let probe = try g.add(.input("probe"), type: t)
        let loss = try g.add(.reduce(.sum, axes: Array(0..<t.rank), keepDims: false), [try g.add(.binary(.multiply), [e.output, probe])])
        g.outputs = [NamedValue("loss", loss)]
        return (g, loss, leaves)
    }

    func testEveryOpKindAgainstFiniteDifferences() throws {
        for code in OpCode.allCases {
            let examples = try Self.examples(code)
            XCTAssertFalse(examples.isEmpty, "\(code) has no gradient check")
            for e in examples {
                XCTAssertTrue(e.graph.nodes.contains { $0.op.code == code }, "example '\(e.name)' does not contain a \(code) op")
                let (g, loss, leaves) = try Self.withLoss(e)
                let parameters = g.parameters.map(\.name)
                let d = try Autodiff.differentiate(g, loss: loss, parameters: parameters)
                XCTAssertEqual(Verifier.verify(d.graph), [], "\(e.name)")
                let mismatches = try GradientCheck.compare(forward: g, loss: loss, differentiated: d.graph, gradients: d.gradients,
                                                           leaves: leaves, random: e.random)
                XCTAssertEqual(mismatches.map(\.description), [], "\(code): \(e.name)")
                if e.random.isEmpty { try checkRuntime(d, leaves: leaves, name: e.name) }
            }
        }
    }

    /// The float32 runtime runs the differentiated graph to the float64 gradients.
    func checkRuntime(_ d: Autodiff.Gradients, leaves: [String: ReferenceTensor], name: String) throws {
        var g = d.graph
        g.outputs = d.gradients.map { NamedValue("grad.\($0.name)", $0.value) }
        g = Pruning.prune(g)
        let reference = try ReferenceInterpreter.run(d.graph, leaves: leaves)
        let plan = try Planner.plan(g) { _, _, _ in .constant(0) }
        let store = ParameterStore()
        let exe = try Executable(plan: plan, store: store)
        for p in plan.persistent where p.kind != .constant {
            try store.set(p.name, kind: p.kind, floats: try XCTUnwrap(leaves[p.name]).values.map(Float.init))
        }
        for i in plan.inputs {
            let v = try XCTUnwrap(leaves[i.name]).values
            if plan.slots[i.slot].type.dtype == .i32 { try exe.setInput(i.name, ints: v.map { Int32($0) }) } else { try exe.setInput(i.name, floats: v.map(Float.init)) }
        }
        try exe.run(seed: 1)
        for grad in d.gradients {
            let got = try XCTUnwrap(exe.output("grad.\(grad.name)")).floats.map(Double.init)
            let want = reference[grad.value.id].values
            let err = zip(got, want).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            let norm = want.reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertLessThanOrEqual(err, 1e-4 * max(norm, 1e-6), "runtime gradient of \(grad.name) in '\(name)'")
        }
    }

    /// The checker can fail: a rule with a wrong factor (sigmoid' as y(1 − y)·1.001)
    /// and a rule with a wrong sign are both caught.
    func testAWrongRuleIsCaught() throws {
        var b = Builder()
        let x = try b.parameter("x", [3, 4])
        let (g, loss, leaves) = try Self.withLoss(try b.finish("sigmoid", .unary(.sigmoid), [x]))
        let d = try Autodiff.differentiate(g, loss: loss, parameters: ["x"])
        XCTAssertEqual(try GradientCheck.compare(forward: g, loss: loss, differentiated: d.graph, gradients: d.gradients, leaves: leaves).count, 0)
        for wrong in [1.001, -1.0] {
            var bad = d.graph
            let scaled = try bad.add(.binary(.multiply), [d.gradients[0].value, try bad.add(.constant(wrong), type: .f32([]))])
            let mismatches = try GradientCheck.compare(forward: g, loss: loss, differentiated: bad, gradients: [NamedValue("x", scaled)], leaves: leaves)
            XCTAssertEqual(mismatches.count, 12, "a rule off by ×\(wrong) must fail at every element")
        }
    }

    /// Ties: maximum and minimum split the gradient evenly; reduce max
    /// shares it among equal maxima (JAX's rules).
    func testTieRules() throws {
        var g = Graph(name: "ties")
        let a = try g.add(.parameter("a"), type: .f32([3]))
        let c = try g.add(.parameter("b"), type: .f32([3]))
        let m = try g.add(.binary(.maximum), [a, c])
        let r = try g.add(.reduce(.max, axes: [0], keepDims: false), [a])
        let loss = try g.add(.binary(.add), [try g.add(.reduce(.sum, axes: [0], keepDims: false), [m]), r])
        let d = try Autodiff.differentiate(g, loss: loss, parameters: ["a", "b"])
        let v = try ReferenceInterpreter.run(d.graph, leaves: ["a": ReferenceTensor(shape: [3], values: [2, 2, 1]), "b": ReferenceTensor(shape: [3], values: [2, 0, 1])])
        // maximum: a wins at 1, ties at 0 and 2; reduce max: a[0] and a[1] tie at 2.
        XCTAssertEqual(v[d.gradients[0].value.id].values, [0.5 + 0.5, 1 + 0.5, 0.5])
        XCTAssertEqual(v[d.gradients[1].value.id].values, [0.5, 0, 0.5])
    }

    /// Differentiating max pooling twice needs an op genc lacks: refused at the op.
    func testSecondDerivativeOfMaxPoolingIsRefused() throws {
        var g = Graph(name: "pp")
        let here = IRLocation(path: "m.yaml", line: 3, column: 5)
        let p = PoolAttributes(kind: .max, kernel: [2, 2], stride: [2, 2], padding: [0, 0])
        let x = try g.add(.input("x"), type: .f32([1, 1, 4, 4]))
        let dy = try g.add(.parameter("dy"), type: .f32([1, 1, 2, 2]))
        let y = try g.add(.poolGrad(p), [x, dy], at: here)
        let loss = try g.add(.reduce(.sum, axes: [0, 1, 2, 3], keepDims: false), [y])
        XCTAssertThrowsError(try Autodiff.differentiate(g, loss: loss, parameters: ["dy"])) { e in
            XCTAssertEqual((e as? AutodiffError)?.location, here)
        }
    }
}
