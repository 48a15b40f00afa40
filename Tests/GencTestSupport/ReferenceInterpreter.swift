import Foundation
import GencIR

// MARK: - A float64 reference interpreter of the graph IR
//
// Written from each op's definition (Op.swift, docs/ir.md), with the
// plainest loops, independent of the optimized float32 kernels in
// GencKernels: finite-difference gradient checks and the runtime's own
// tests compare against it. Speed is not a goal; clarity and exactness are.

/// A tensor in Double: shape and row-major values (i32 ids are stored as whole Doubles).
public struct ReferenceTensor: Equatable, Sendable, CustomStringConvertible {
    public var shape: [Int]
    public var values: [Double]
    public init(shape: [Int], values: [Double]) {
        self.shape = shape
        self.values = values
    }
    /// A tensor of `shape` with every element `value`.
    public init(shape: [Int], repeating value: Double) {
        self.init(shape: shape, values: Array(repeating: value, count: shape.reduce(1, *)))
    }
    /// The element count the shape implies.
    public var count: Int { shape.reduce(1, *) }
    public var description: String { "\(TensorType.f32(shape).shapeDescription) \(values)" }
}

/// Why the reference interpreter could not evaluate a graph.
public struct ReferenceError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum ReferenceInterpreter {
    /// Evaluates every node of `g` in Double, in node order. `leaves` gives the value of each
    /// input, parameter and state leaf BY NAME; `random` gives the value of each random node
    /// BY NODE INDEX (the caller fixes the draws; a missing one is an error).
    /// Constants fill their type. Returns one tensor per node (index = node id).
    public static func run(_ g: Graph, leaves: [String: ReferenceTensor], random: [Int: ReferenceTensor] = [:]) throws -> [ReferenceTensor] {
        var results: [ReferenceTensor] = []
        results.reserveCapacity(g.nodes.count)
        for (index, node) in g.nodes.enumerated() {
            let context = "node %\(index) (\(node.op.name) : \(node.type))"
            var operands: [ReferenceTensor] = []
            for o in node.operands {
                guard o.id >= 0, o.id < index else { throw ReferenceError("\(context): operand \(o) is not computed before it") }
                operands.append(results[o.id])
            }
            guard node.type.shape.allSatisfy({ $0 >= 0 }) else { throw ReferenceError("\(context): negative extent in its type") }
            let y: ReferenceTensor
            do {
                y = try evaluate(node, index: index, operands, leaves: leaves, random: random)
            } catch let e as ReferenceError {
                throw ReferenceError("\(context): \(e.message)")
            }
            guard y.values.count == node.type.elementCount, y.count == node.type.elementCount else {
                throw ReferenceError("\(context): computed \(y.values.count) elements of shape \(TensorType.f32(y.shape).shapeDescription), but the type has \(node.type.elementCount)")
            }
            guard y.shape == node.type.shape else {
                throw ReferenceError("\(context): computed shape \(TensorType.f32(y.shape).shapeDescription), but the type is \(node.type)")
            }
            results.append(y)
        }
        return results
    }

    /// The named outputs of `g`.
    public static func outputs(_ g: Graph, leaves: [String: ReferenceTensor], random: [Int: ReferenceTensor] = [:]) throws -> [String: ReferenceTensor] {
        let all = try run(g, leaves: leaves, random: random)
        var out: [String: ReferenceTensor] = [:]
        for o in g.outputs {
            guard o.value.id >= 0, o.value.id < all.count else { throw ReferenceError("output '\(o.name)' names \(o.value), which is not in the graph") }
            out[o.name] = all[o.value.id]
        }
        return out
    }

    /// The new values of the graph's updated leaves (state and parameters), by name.
    public static func updates(_ g: Graph, leaves: [String: ReferenceTensor], random: [Int: ReferenceTensor] = [:]) throws -> [String: ReferenceTensor] {
        let all = try run(g, leaves: leaves, random: random)
        var out: [String: ReferenceTensor] = [:]
        for u in g.updates {
            guard u.value.id >= 0, u.value.id < all.count else { throw ReferenceError("update '\(u.name)' names \(u.value), which is not in the graph") }
            out[u.name] = all[u.value.id]
        }
        return out
    }

    // MARK: - One node

    static func evaluate(_ node: Node, index: Int, _ x: [ReferenceTensor], leaves: [String: ReferenceTensor],
                         random: [Int: ReferenceTensor]) throws -> ReferenceTensor {
        let op = node.op
        if op.arity >= 0, x.count != op.arity {
            throw ReferenceError("takes \(op.arity) operand\(op.arity == 1 ? "" : "s"), got \(x.count)")
        }
        switch op {
        // Leaves
        case let .input(name), let .parameter(name), let .state(name), let .carried(name):
            guard let v = leaves[name] else { throw ReferenceError("no value given for leaf '\(name)'") }
            return try leafValue(v, node.type, "leaf '\(name)'")
        case let .constant(c):
            return ReferenceTensor(shape: node.type.shape, repeating: c)
        case .random:
            guard let v = random[index] else { throw ReferenceError("no draw given for random node %\(index)") }
            return try leafValue(v, node.type, "the draw of random node %\(index)")

        // Elementwise
        case let .unary(f):
            return ReferenceTensor(shape: x[0].shape, values: x[0].values.map { unary(f, $0) })
        case let .binary(f):
            return try binary(f, x[0], x[1])

        // Contractions
        case let .matmul(ta, tb):
            return try matmul(x[0], x[1], ta, tb)
        case let .conv(a):
            return try conv(a, x: x[0], w: x[1])
        case let .convInputGrad(a, inputSize):
            return try convInputGrad(a, inputSize: inputSize, dy: x[0], w: x[1])
        case let .convFilterGrad(a, kernelSize):
            return try convFilterGrad(a, kernelSize: kernelSize, x: x[0], dy: x[1])
        case let .pool(p):
            return try pool(p, x[0])
        case let .poolGrad(p):
            return try poolGrad(p, x: x[0], dy: x[1])

        // Reductions and normalisers
        case let .reduce(f, axes, keepDims):
            return try reduce(f, axes: axes, keepDims: keepDims, x[0])
        case let .softmax(axis):
            return try softmax(x[0], axis: axis, log: false)
        case let .logSoftmax(axis):
            return try softmax(x[0], axis: axis, log: true)

        // Data movement
        case let .reshape(shape):
            guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == x[0].values.count else {
                throw ReferenceError("cannot reshape \(x[0].values.count) elements to \(shape)")
            }
            return ReferenceTensor(shape: shape, values: x[0].values)
        case let .transpose(perm):
            return try transpose(x[0], perm)
        case let .slice(s):
            return try slice(x[0], s)
        case let .unslice(s, shape):
            return try unslice(x[0], s, shape: shape)
        case let .concat(axis):
            return try concat(x, axis: axis)
        case let .broadcast(shape):
            return try broadcast(x[0], to: shape)

        // Indexing
        case .gather:
            return try gather(table: x[0], ids: x[1])
        case let .scatterAdd(rows):
            return try scatterAdd(values: x[0], ids: x[1], rows: rows)
        case let .oneHot(depth):
            return try oneHot(ids: x[0], depth: depth)
        }
    }

    static func leafValue(_ v: ReferenceTensor, _ type: TensorType, _ what: String) throws -> ReferenceTensor {
        guard v.values.count == v.count else {
            throw ReferenceError("\(what) has shape \(TensorType.f32(v.shape).shapeDescription) but \(v.values.count) values")
        }
        guard v.values.count == type.elementCount else {
            throw ReferenceError("\(what) has \(v.values.count) values, but its type \(type) holds \(type.elementCount)")
        }
        return ReferenceTensor(shape: type.shape, values: v.values)
    }

    // MARK: - Index helpers

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = Array(repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// Calls `body(flat, index)` for every multi-index of `shape`, in row-major order.
    static func forEachIndex(_ shape: [Int], _ body: (Int, [Int]) throws -> Void) rethrows {
        let n = shape.reduce(1, *)
        guard n > 0 else { return }
        var idx = Array(repeating: 0, count: shape.count)
        for flat in 0..<n {
            try body(flat, idx)
            // Odometer: bump the last axis, carrying into earlier ones.
            var k = shape.count - 1
            while k >= 0 {
                idx[k] += 1
                if idx[k] < shape[k] { break }
                idx[k] = 0
                k -= 1
            }
        }
    }

    static func describe(_ shape: [Int]) -> String { TensorType.f32(shape).shapeDescription }

    static func normalize(_ axis: Int, rank: Int) throws -> Int {
        guard axis >= -rank, axis < rank else { throw ReferenceError("axis \(axis) is out of range for rank \(rank)") }
        return axis < 0 ? axis + rank : axis
    }

    /// NumPy broadcasting of two shapes.
    static func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let n = max(a.count, b.count)
        var out: [Int] = []
        for i in 0..<n {
            let x = i < n - a.count ? 1 : a[i - (n - a.count)]
            let y = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard x == y || x == 1 || y == 1 else { throw ReferenceError("shapes \(describe(a)) and \(describe(b)) do not broadcast") }
            out.append(x == 1 ? y : x)
        }
        return out
    }

    /// The flat index into a tensor of `shape` that output index `idx` (of a
    /// broadcast result of rank ≥ shape's) reads: leading axes dropped,
    /// extent-1 axes read at 0.
    static func broadcastSource(_ idx: [Int], _ shape: [Int], _ strides: [Int]) -> Int {
        let lead = idx.count - shape.count
        var flat = 0
        for k in 0..<shape.count where shape[k] != 1 { flat += idx[lead + k] * strides[k] }
        return flat
    }

    // MARK: - Elementwise

    static func unary(_ f: UnaryFunction, _ x: Double) -> Double {
        switch f {
        case .negate: return -x
        case .exp: return exp(x)
        case .log: return log(x)
        case .sqrt: return x.squareRoot()
        case .rsqrt: return 1 / x.squareRoot()
        case .abs: return Swift.abs(x)
        case .tanh: return tanh(x)
        case .sigmoid: return 1 / (1 + exp(-x))
        case .relu: return x > 0 ? x : 0
        case .softplus: return Swift.max(x, 0) + log1p(exp(-Swift.abs(x)))
        case .square: return x * x
        case .reciprocal: return 1 / x
        case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .geluDerivative:
            return 0.5 * (1 + erf(x / 2.0.squareRoot())) + x * exp(-x * x / 2) / (2 * Double.pi).squareRoot()
        case let .leakyRelu(slope): return x >= 0 ? x : slope * x
        }
    }

    static func binary(_ f: BinaryFunction, _ a: Double, _ b: Double) -> Double {
        switch f {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        case .power: return pow(a, b)
        case .maximum: return a > b ? a : b
        case .minimum: return a < b ? a : b
        case .greater: return a > b ? 1 : 0
        }
    }

    static func binary(_ f: BinaryFunction, _ a: ReferenceTensor, _ b: ReferenceTensor) throws -> ReferenceTensor {
        let shape = try broadcastShape(a.shape, b.shape)
        let (sa, sb) = (strides(a.shape), strides(b.shape))
        var out = Array(repeating: 0.0, count: shape.reduce(1, *))
        forEachIndex(shape) { flat, idx in
            out[flat] = binary(f, a.values[broadcastSource(idx, a.shape, sa)], b.values[broadcastSource(idx, b.shape, sb)])
        }
        return ReferenceTensor(shape: shape, values: out)
    }

    static func broadcast(_ x: ReferenceTensor, to shape: [Int]) throws -> ReferenceTensor {
        guard try broadcastShape(x.shape, shape) == shape else { throw ReferenceError("cannot broadcast \(describe(x.shape)) to \(describe(shape))") }
        let s = strides(x.shape)
        var out = Array(repeating: 0.0, count: shape.reduce(1, *))
        forEachIndex(shape) { flat, idx in out[flat] = x.values[broadcastSource(idx, x.shape, s)] }
        return ReferenceTensor(shape: shape, values: out)
    }

    // MARK: - Contractions

    static func matmul(_ a: ReferenceTensor, _ b: ReferenceTensor, _ ta: Bool, _ tb: Bool) throws -> ReferenceTensor {
        guard a.shape.count == 2, b.shape.count == 2 else { throw ReferenceError("matmul needs 2-d operands, got \(describe(a.shape)) and \(describe(b.shape))") }
        let (m, k) = ta ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = tb ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == k2 else { throw ReferenceError("matmul inner sizes differ: \(k) and \(k2)") }
        // A(i, p) and B(p, j) after the transposes.
        func av(_ i: Int, _ p: Int) -> Double { ta ? a.values[p * a.shape[1] + i] : a.values[i * a.shape[1] + p] }
        func bv(_ p: Int, _ j: Int) -> Double { tb ? b.values[j * b.shape[1] + p] : b.values[p * b.shape[1] + j] }
        var out = Array(repeating: 0.0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += av(i, p) * bv(p, j) }
                out[i * n + j] = s
            }
        }
        return ReferenceTensor(shape: [m, n], values: out)
    }

    /// `a + b + c − d`, or an error where it does not fit an Int (hostile sizes must not trap).
    static func span(_ a: Int, _ b: Int, _ c: Int, _ d: Int) throws -> Int {
        let (ab, o1) = a.addingReportingOverflow(b)
        let (abc, o2) = ab.addingReportingOverflow(c)
        let (r, o3) = abc.subtractingReportingOverflow(d)
        guard !o1, !o2, !o3 else { throw ReferenceError("size arithmetic \(a) + \(b) + \(c) − \(d) overflows") }
        return r
    }

    /// `floor((S + before + after − K) / stride) + 1`, or 0 where the kernel does not fit.
    static func convOutputSize(_ a: ConvAttributes, input: [Int], kernel: [Int]) throws -> [Int] {
        try (0..<input.count).map { d in
            let s = try span(input[d], a.padBefore[d], a.padAfter[d], kernel[d])
            return s < 0 ? 0 : s / a.stride[d] + 1
        }
    }

    static func checkConv(_ a: ConvAttributes, rank r: Int) throws {
        guard r >= 1, a.stride.count == r, a.padBefore.count == r, a.padAfter.count == r else {
            throw ReferenceError("convolution attributes \(a) do not fit \(r) spatial axes")
        }
        guard a.stride.allSatisfy({ $0 >= 1 }), (a.padBefore + a.padAfter).allSatisfy({ $0 >= 0 }) else {
            throw ReferenceError("bad convolution attributes \(a)")
        }
    }

    /// For output position `o` (flat over `outSize`) and kernel tap `k` (flat
    /// over `kernel`), the flat input position `o·stride + k − padBefore`
    /// (over `inSize`), or nil where it falls in the padding.
    static func convTaps(_ a: ConvAttributes, inSize: [Int], outSize: [Int], kernel: [Int]) -> [[Int?]] {
        let inStrides = strides(inSize)
        var taps: [[Int?]] = []
        forEachIndex(outSize) { _, o in
            var row: [Int?] = []
            forEachIndex(kernel) { _, k in
                var flat = 0
                var inside = true
                for d in 0..<inSize.count {
                    let i = o[d] * a.stride[d] + k[d] - a.padBefore[d]
                    if i < 0 || i >= inSize[d] { inside = false }
                    flat += i * inStrides[d]
                }
                row.append(inside ? flat : nil)
            }
            taps.append(row)
        }
        return taps
    }

    /// y[n, f, o] = Σ_{c, k} x[n, c, o·stride + k − padBefore] · w[f, c, k] (zero padding).
    static func conv(_ a: ConvAttributes, x: ReferenceTensor, w: ReferenceTensor) throws -> ReferenceTensor {
        let r = a.spatialRank
        try checkConv(a, rank: r)
        guard x.shape.count == r + 2, w.shape.count == r + 2, x.shape[1] == w.shape[1] else {
            throw ReferenceError("conv of x \(describe(x.shape)) with w \(describe(w.shape)) does not fit \(r) spatial axes")
        }
        let (nb, c, f) = (x.shape[0], x.shape[1], w.shape[0])
        let sIn = Array(x.shape[2...]), kernel = Array(w.shape[2...])
        let sOut = try convOutputSize(a, input: sIn, kernel: kernel)
        let (pIn, pOut, pK) = (sIn.reduce(1, *), sOut.reduce(1, *), kernel.reduce(1, *))
        let taps = convTaps(a, inSize: sIn, outSize: sOut, kernel: kernel)
        var y = Array(repeating: 0.0, count: nb * f * pOut)
        for n in 0..<nb {
            for fi in 0..<f {
                for o in 0..<pOut {
                    var s = 0.0
                    for ci in 0..<c {
                        for k in 0..<pK {
                            guard let i = taps[o][k] else { continue }
                            s += x.values[(n * c + ci) * pIn + i] * w.values[(fi * c + ci) * pK + k]
                        }
                    }
                    y[(n * f + fi) * pOut + o] = s
                }
            }
        }
        return ReferenceTensor(shape: [nb, f] + sOut, values: y)
    }

    /// dx[n, c, i] = Σ_{f, o, k : o·stride + k − padBefore = i} dy[n, f, o] · w[f, c, k]: the adjoint of `conv` in x.
    static func convInputGrad(_ a: ConvAttributes, inputSize: [Int], dy: ReferenceTensor, w: ReferenceTensor) throws -> ReferenceTensor {
        let r = a.spatialRank
        try checkConv(a, rank: r)
        guard dy.shape.count == r + 2, w.shape.count == r + 2, dy.shape[1] == w.shape[0], inputSize.count == r, inputSize.allSatisfy({ $0 >= 0 }) else {
            throw ReferenceError("conv input gradient of dy \(describe(dy.shape)) with w \(describe(w.shape)) into \(inputSize) does not fit \(r) spatial axes")
        }
        let (nb, f, c) = (dy.shape[0], dy.shape[1], w.shape[1])
        let kernel = Array(w.shape[2...]), sOut = Array(dy.shape[2...])
        let implied = try convOutputSize(a, input: inputSize, kernel: kernel)
        guard implied == sOut else { throw ReferenceError("a conv of size \(inputSize) with kernel \(kernel) gives \(implied), not dy's \(sOut)") }
        let (pIn, pOut, pK) = (inputSize.reduce(1, *), sOut.reduce(1, *), kernel.reduce(1, *))
        let taps = convTaps(a, inSize: inputSize, outSize: sOut, kernel: kernel)
        var dx = Array(repeating: 0.0, count: nb * c * pIn)
        for n in 0..<nb {
            for fi in 0..<f {
                for o in 0..<pOut {
                    let g = dy.values[(n * f + fi) * pOut + o]
                    for ci in 0..<c {
                        for k in 0..<pK {
                            guard let i = taps[o][k] else { continue }
                            dx[(n * c + ci) * pIn + i] += g * w.values[(fi * c + ci) * pK + k]
                        }
                    }
                }
            }
        }
        return ReferenceTensor(shape: [nb, c] + inputSize, values: dx)
    }

    /// dw[f, c, k] = Σ_{n, o} x[n, c, o·stride + k − padBefore] · dy[n, f, o] (padding reads 0): the adjoint of `conv` in w.
    static func convFilterGrad(_ a: ConvAttributes, kernelSize: [Int], x: ReferenceTensor, dy: ReferenceTensor) throws -> ReferenceTensor {
        let r = a.spatialRank
        try checkConv(a, rank: r)
        guard x.shape.count == r + 2, dy.shape.count == r + 2, x.shape[0] == dy.shape[0], kernelSize.count == r, kernelSize.allSatisfy({ $0 >= 0 }) else {
            throw ReferenceError("conv filter gradient of x \(describe(x.shape)) and dy \(describe(dy.shape)) with kernel \(kernelSize) does not fit \(r) spatial axes")
        }
        let (nb, c, f) = (x.shape[0], x.shape[1], dy.shape[1])
        let sIn = Array(x.shape[2...]), sOut = Array(dy.shape[2...])
        let implied = try convOutputSize(a, input: sIn, kernel: kernelSize)
        guard implied == sOut else { throw ReferenceError("a conv of size \(sIn) with kernel \(kernelSize) gives \(implied), not dy's \(sOut)") }
        let (pIn, pOut, pK) = (sIn.reduce(1, *), sOut.reduce(1, *), kernelSize.reduce(1, *))
        let taps = convTaps(a, inSize: sIn, outSize: sOut, kernel: kernelSize)
        var dw = Array(repeating: 0.0, count: f * c * pK)
        for fi in 0..<f {
            for ci in 0..<c {
                for k in 0..<pK {
                    var s = 0.0
                    for n in 0..<nb {
                        for o in 0..<pOut {
                            guard let i = taps[o][k] else { continue }
                            s += x.values[(n * c + ci) * pIn + i] * dy.values[(n * f + fi) * pOut + o]
                        }
                    }
                    dw[(fi * c + ci) * pK + k] = s
                }
            }
        }
        return ReferenceTensor(shape: [f, c] + kernelSize, values: dw)
    }

    // MARK: - Pooling

    struct PoolGeometry {
        var planes, h, w, oh, ow: Int
        var kernel, stride, padding: [Int]
        /// The valid input rows `lo..<hi` of output row `i` (the window clipped to the input), and likewise columns.
        func rows(_ i: Int) -> Range<Int> { Swift.max(0, i * stride[0] - padding[0])..<Swift.min(h, i * stride[0] - padding[0] + kernel[0]) }
        func columns(_ j: Int) -> Range<Int> { Swift.max(0, j * stride[1] - padding[1])..<Swift.min(w, j * stride[1] - padding[1] + kernel[1]) }
    }

    static func poolGeometry(_ p: PoolAttributes, _ x: [Int]) throws -> PoolGeometry {
        guard x.count == 4 else { throw ReferenceError("pooling needs [N, C, H, W], got \(describe(x))") }
        guard p.kernel.count == 2, p.stride.count == 2, p.padding.count == 2, p.kernel.allSatisfy({ $0 >= 1 }),
              p.stride.allSatisfy({ $0 >= 1 }), p.padding.allSatisfy({ $0 >= 0 }) else {
            throw ReferenceError("bad pooling attributes \(p)")
        }
        let out = try (0..<2).map { d -> Int in
            let s = try span(x[2 + d], p.padding[d], p.padding[d], p.kernel[d])
            return s < 0 ? 0 : s / p.stride[d] + 1
        }
        return PoolGeometry(planes: x[0] * x[1], h: x[2], w: x[3], oh: out[0], ow: out[1], kernel: p.kernel, stride: p.stride, padding: p.padding)
    }

    /// The flat in-plane position of window (i, j)'s maximum: the first in
    /// row-major window order, later elements winning only when strictly greater.
    static func argmax(_ g: PoolGeometry, _ x: [Double], plane: Int, _ i: Int, _ j: Int) throws -> Int {
        var best: Int?
        for h in g.rows(i) {
            for w in g.columns(j) {
                let at = h * g.w + w
                if let b = best {
                    if x[plane * g.h * g.w + at] > x[plane * g.h * g.w + b] { best = at }
                } else {
                    best = at
                }
            }
        }
        guard let best else { throw ReferenceError("max pooling window (\(i), \(j)) holds no input element (padding \(g.padding), kernel \(g.kernel))") }
        return best
    }

    static func pool(_ p: PoolAttributes, _ x: ReferenceTensor) throws -> ReferenceTensor {
        let g = try poolGeometry(p, x.shape)
        var y = Array(repeating: 0.0, count: g.planes * g.oh * g.ow)
        for plane in 0..<g.planes {
            for i in 0..<g.oh {
                for j in 0..<g.ow {
                    let o = (plane * g.oh + i) * g.ow + j
                    switch p.kind {
                    case .max:
                        let at = try argmax(g, x.values, plane: plane, i, j)
                        y[o] = x.values[plane * g.h * g.w + at]
                    case .average:
                        // Padded positions count as zeros: divide by the whole kernel area.
                        var s = 0.0
                        for h in g.rows(i) {
                            for w in g.columns(j) { s += x.values[(plane * g.h + h) * g.w + w] }
                        }
                        y[o] = s / Double(p.kernel[0] * p.kernel[1])
                    }
                }
            }
        }
        return ReferenceTensor(shape: [x.shape[0], x.shape[1], g.oh, g.ow], values: y)
    }

    static func poolGrad(_ p: PoolAttributes, x: ReferenceTensor, dy: ReferenceTensor) throws -> ReferenceTensor {
        let g = try poolGeometry(p, x.shape)
        guard dy.shape == [x.shape[0], x.shape[1], g.oh, g.ow] else {
            throw ReferenceError("pool gradient \(describe(dy.shape)) does not match the pool output \(describe([x.shape[0], x.shape[1], g.oh, g.ow]))")
        }
        var dx = Array(repeating: 0.0, count: x.values.count)
        for plane in 0..<g.planes {
            for i in 0..<g.oh {
                for j in 0..<g.ow {
                    let d = dy.values[(plane * g.oh + i) * g.ow + j]
                    switch p.kind {
                    case .max:
                        let at = try argmax(g, x.values, plane: plane, i, j)
                        dx[plane * g.h * g.w + at] += d
                    case .average:
                        let share = d / Double(p.kernel[0] * p.kernel[1])
                        for h in g.rows(i) {
                            for w in g.columns(j) { dx[(plane * g.h + h) * g.w + w] += share }
                        }
                    }
                }
            }
        }
        return ReferenceTensor(shape: x.shape, values: dx)
    }

    // MARK: - Reductions and normalisers

    static func reduce(_ f: ReduceFunction, axes: [Int], keepDims: Bool, _ x: ReferenceTensor) throws -> ReferenceTensor {
        let rank = x.shape.count
        let ax = try axes.map { try normalize($0, rank: rank) }
        guard Set(ax).count == ax.count else { throw ReferenceError("axes \(axes) repeat an axis") }
        var kept: [Int] = []  // the result shape with reduced axes kept as 1
        var shape: [Int] = []
        for (k, d) in x.shape.enumerated() {
            if ax.contains(k) {
                kept.append(1)
                if keepDims { shape.append(1) }
            } else {
                kept.append(d)
                shape.append(d)
            }
        }
        let n = kept.reduce(1, *)
        let keptStrides = strides(kept)
        var acc = Array(repeating: f == .max ? -Double.infinity : 0, count: n)
        var seen = Array(repeating: false, count: n)
        forEachIndex(x.shape) { flat, idx in
            var o = 0
            for k in 0..<rank where !ax.contains(k) { o += idx[k] * keptStrides[k] }
            let v = x.values[flat]
            switch f {
            case .sum, .mean: acc[o] += v
            case .max:
                if !seen[o] || v > acc[o] { acc[o] = v }
            }
            seen[o] = true
        }
        if f == .mean {
            let count = Double(ax.reduce(1) { $0 * x.shape[$1] })
            acc = acc.map { $0 / count }
        }
        return ReferenceTensor(shape: shape, values: acc)
    }

    /// Softmax (or log-softmax) along `axis`, after subtracting each lane's maximum.
    static func softmax(_ x: ReferenceTensor, axis: Int, log isLog: Bool) throws -> ReferenceTensor {
        let a = try normalize(axis, rank: x.shape.count)
        let n = x.shape[a]
        let outer = x.shape[..<a].reduce(1, *), inner = x.shape[(a + 1)...].reduce(1, *)
        var y = Array(repeating: 0.0, count: x.values.count)
        for o in 0..<outer {
            for j in 0..<inner {
                func at(_ i: Int) -> Int { (o * n + i) * inner + j }
                var m = -Double.infinity
                for i in 0..<n where x.values[at(i)] > m { m = x.values[at(i)] }
                var s = 0.0
                for i in 0..<n { s += exp(x.values[at(i)] - m) }
                for i in 0..<n {
                    y[at(i)] = isLog ? x.values[at(i)] - m - log(s) : exp(x.values[at(i)] - m) / s
                }
            }
        }
        return ReferenceTensor(shape: x.shape, values: y)
    }

    // MARK: - Data movement

    /// Output axis k is input axis perm[k].
    static func transpose(_ x: ReferenceTensor, _ perm: [Int]) throws -> ReferenceTensor {
        guard perm.sorted() == Array(0..<x.shape.count) else { throw ReferenceError("\(perm) is not a permutation of \(x.shape.count) axes") }
        let shape = perm.map { x.shape[$0] }
        let s = strides(x.shape)
        var y = Array(repeating: 0.0, count: x.values.count)
        forEachIndex(shape) { flat, idx in
            var src = 0
            for k in 0..<perm.count { src += idx[k] * s[perm[k]] }
            y[flat] = x.values[src]
        }
        return ReferenceTensor(shape: shape, values: y)
    }

    /// The shape `slice` gives for `shape`, checking its ranges.
    static func sliceShape(_ shape: [Int], _ s: SliceAttributes) throws -> [Int] {
        let r = shape.count
        guard s.start.count == r, s.end.count == r, s.step.count == r else { throw ReferenceError("slice \(s) needs \(r) ranges") }
        return try (0..<r).map { k in
            guard s.step[k] >= 1, s.start[k] >= 0, s.end[k] <= shape[k], s.start[k] < s.end[k] else {
                throw ReferenceError("slice \(s.start[k]):\(s.end[k]):\(s.step[k]) of axis \(k) (size \(shape[k])) is empty or out of range")
            }
            // ceil((end − start) / step), without overflowing on a huge step
            let span = s.end[k] - s.start[k]
            return span / s.step[k] + (span % s.step[k] == 0 ? 0 : 1)
        }
    }

    /// The flat position in a tensor of strides `full` that slice element `idx` reads.
    static func slicePosition(_ idx: [Int], _ s: SliceAttributes, _ full: [Int]) -> Int {
        var p = 0
        for k in 0..<idx.count { p += (s.start[k] + idx[k] * s.step[k]) * full[k] }
        return p
    }

    static func slice(_ x: ReferenceTensor, _ s: SliceAttributes) throws -> ReferenceTensor {
        let shape = try sliceShape(x.shape, s)
        let full = strides(x.shape)
        var y = Array(repeating: 0.0, count: shape.reduce(1, *))
        forEachIndex(shape) { flat, idx in y[flat] = x.values[slicePosition(idx, s, full)] }
        return ReferenceTensor(shape: shape, values: y)
    }

    static func unslice(_ x: ReferenceTensor, _ s: SliceAttributes, shape: [Int]) throws -> ReferenceTensor {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw ReferenceError("bad unslice shape \(shape)") }
        let sliced = try sliceShape(shape, s)
        guard sliced == x.shape else { throw ReferenceError("unslice of \(describe(x.shape)) into \(describe(shape)) needs the slice's shape \(describe(sliced))") }
        let full = strides(shape)
        var y = Array(repeating: 0.0, count: shape.reduce(1, *))
        forEachIndex(x.shape) { flat, idx in y[slicePosition(idx, s, full)] = x.values[flat] }
        return ReferenceTensor(shape: shape, values: y)
    }

    static func concat(_ xs: [ReferenceTensor], axis: Int) throws -> ReferenceTensor {
        guard xs.count >= 2 else { throw ReferenceError("concat needs at least 2 operands, got \(xs.count)") }
        let rank = xs[0].shape.count
        let a = try normalize(axis, rank: rank)
        for x in xs {
            guard x.shape.count == rank, (0..<rank).allSatisfy({ $0 == a || x.shape[$0] == xs[0].shape[$0] }) else {
                throw ReferenceError("concat along axis \(a) needs equal sizes elsewhere: \(describe(xs[0].shape)) and \(describe(x.shape))")
            }
        }
        var shape = xs[0].shape
        shape[a] = xs.reduce(0) { $0 + $1.shape[a] }
        let full = strides(shape)
        var y = Array(repeating: 0.0, count: shape.reduce(1, *))
        var offset = 0
        for x in xs {
            forEachIndex(x.shape) { flat, idx in
                var p = 0
                for k in 0..<rank { p += (k == a ? idx[k] + offset : idx[k]) * full[k] }
                y[p] = x.values[flat]
            }
            offset += x.shape[a]
        }
        return ReferenceTensor(shape: shape, values: y)
    }

    // MARK: - Indexing

    /// An id as an Int, or nil when it is not a whole number in 0..<bound.
    static func id(_ v: Double, below bound: Int) throws -> Int? {
        guard v.isFinite, v == v.rounded() else { throw ReferenceError("id \(v) is not a whole number") }
        guard v >= 0, v < Double(bound) else { return nil }
        return Int(v)
    }

    /// table [V, *D], ids [*I] → [*I, *D]; an id outside 0..<V gives a zero row.
    static func gather(table: ReferenceTensor, ids: ReferenceTensor) throws -> ReferenceTensor {
        guard table.shape.count >= 1 else { throw ReferenceError("gather needs a table of rank ≥ 1") }
        let vocab = table.shape[0]
        let dim = table.shape.dropFirst().reduce(1, *)
        var y = Array(repeating: 0.0, count: ids.values.count * dim)
        for (m, v) in ids.values.enumerated() {
            guard let row = try id(v, below: vocab) else { continue }
            for d in 0..<dim { y[m * dim + d] = table.values[row * dim + d] }
        }
        return ReferenceTensor(shape: ids.shape + table.shape.dropFirst(), values: y)
    }

    /// values [*I, *D], ids [*I] → [rows, *D], summing repeats; out-of-range ids are skipped.
    static func scatterAdd(values: ReferenceTensor, ids: ReferenceTensor, rows: Int) throws -> ReferenceTensor {
        let r = ids.shape.count
        guard rows >= 0, values.shape.count >= r, Array(values.shape[..<r]) == ids.shape else {
            throw ReferenceError("scatter_add values \(describe(values.shape)) do not start with the ids' shape \(describe(ids.shape))")
        }
        let rest = Array(values.shape[r...])
        let dim = rest.reduce(1, *)
        var y = Array(repeating: 0.0, count: rows * dim)
        for (m, v) in ids.values.enumerated() {
            guard let row = try id(v, below: rows) else { continue }
            for d in 0..<dim { y[row * dim + d] += values.values[m * dim + d] }
        }
        return ReferenceTensor(shape: [rows] + rest, values: y)
    }

    /// ids [*I] → [*I, depth] with a 1 at each id (all zeros for an id outside 0..<depth).
    static func oneHot(ids: ReferenceTensor, depth: Int) throws -> ReferenceTensor {
        guard depth >= 0 else { throw ReferenceError("bad one_hot depth \(depth)") }
        var y = Array(repeating: 0.0, count: ids.values.count * depth)
        for (m, v) in ids.values.enumerated() {
            guard let k = try id(v, below: depth) else { continue }
            y[m * depth + k] = 1
        }
        return ReferenceTensor(shape: ids.shape + [depth], values: y)
    }
}
