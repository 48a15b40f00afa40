import GencIR

// MARK: - Reductions and normalisers

extension Emitter {
    /// sum: G broadcast back; mean: that over the count; max: G to every
    /// element equal to the maximum, split evenly among ties (JAX's rule).
    mutating func reduceVJP(_ f: ReduceFunction, axes given: [Int], keepDims: Bool, _ v: VJPArguments) throws -> Value {
        let (x, y, g) = (v.operands[0], v.result, v.gradient)
        let full = shape(x)
        let axes = try Op.normalizedAxes(given, rank: full.count)
        let spread = try expand(g, axes: axes, to: full)
        switch f {
        case .sum: return spread
        case .mean:
            let count = axes.reduce(1) { $0 * full[$1] }
            return try multiply(spread, by: 1 / Double(max(count, 1)))
        case .max:
            // x ≤ max everywhere, so [x = max] = 1 − [max > x]
            let m = try expand(y, axes: axes, to: full)
            let isMax = try subtract(try constant(1), try greater(m, x))
            let ties = try expand(try add(.reduce(.sum, axes: axes, keepDims: true), [isMax]), axes: axes, to: full)
            return try multiply(spread, try divide(isMax, ties))
        }
    }

    /// y = softmax(x): dx = y·(G − Σ G·y).
    mutating func softmaxVJP(axis: Int, _ v: VJPArguments) throws -> Value {
        let (y, g) = (v.result, v.gradient)
        let s = try add(.reduce(.sum, axes: [axis], keepDims: true), [try multiply(g, y)])
        return try multiply(y, try subtract(g, s))
    }

    /// y = log_softmax(x): dx = G − e^y·Σ G.
    mutating func logSoftmaxVJP(axis: Int, _ v: VJPArguments) throws -> Value {
        let (y, g) = (v.result, v.gradient)
        let s = try add(.reduce(.sum, axes: [axis], keepDims: true), [g])
        return try subtract(g, try multiply(try unary(.exp, y), s))
    }
}
