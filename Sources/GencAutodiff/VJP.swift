import GencIR

// MARK: - The vector-Jacobian product of every op, one row per op

/// What a rule sees: the forward node (operands and result in the graph
/// being built), the adjoint of its result, and which operands need one.
struct VJPArguments {
    var node: Node
    var result: Value
    var gradient: Value
    /// needs[i]: whether operand i's gradient is wanted (it depends on a
    /// parameter being trained and the op is differentiable there).
    var needs: [Bool]
    var operands: [Value] { node.operands }
}

extension Emitter {
    /// The gradients of the node's operands (nil where none is wanted or
    /// the operand is not differentiable). The switch is exhaustive: an op
    /// added to `Op` does not compile until its rule exists. Rules live in
    /// the files beside this one, by op family.
    mutating func vjp(_ a: VJPArguments) throws -> [Value?] {
        switch a.node.op {
        case .input, .parameter, .state, .carried, .constant, .random:
            // Leaves have no operands; a random draw is a fixed value of the run.
            return []
        case let .unary(f): return [try unaryVJP(f, a)]
        case let .binary(f): return try binaryVJP(f, a)
        case let .matmul(ta, tb): return try matmulVJP(transposeA: ta, transposeB: tb, a)
        case let .conv(c): return try convVJP(c, a)
        case let .convInputGrad(c, _): return try convInputGradVJP(c, a)
        case let .convFilterGrad(c, _): return try convFilterGradVJP(c, a)
        case let .pool(p): return [try add(.poolGrad(p), [a.operands[0], a.gradient])]
        case let .poolGrad(p): return try poolGradVJP(p, a)
        case let .reduce(f, axes, keep): return [try reduceVJP(f, axes: axes, keepDims: keep, a)]
        case let .softmax(axis): return [try softmaxVJP(axis: axis, a)]
        case let .logSoftmax(axis): return [try logSoftmaxVJP(axis: axis, a)]
        case .reshape: return [try reshape(a.gradient, shape(a.operands[0]))]
        case let .transpose(perm): return [try transposeVJP(perm, a)]
        case let .slice(s): return [try add(.unslice(s, shape: shape(a.operands[0])), [a.gradient])]
        case let .unslice(s, _): return [try add(.slice(s), [a.gradient])]
        case let .concat(axis): return try concatVJP(axis: axis, a)
        case .broadcast: return [try sumTo(a.gradient, shape(a.operands[0]))]
        case .gather: return try gatherVJP(a)
        case .scatterAdd: return [try add(.gather, [a.gradient, a.operands[1]]), nil]
        case .oneHot: return [nil]
        }
    }
}
