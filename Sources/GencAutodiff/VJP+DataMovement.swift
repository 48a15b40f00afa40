import GencIR

// MARK: - Data movement and indexing

extension Emitter {
    /// The inverse permutation.
    mutating func transposeVJP(_ perm: [Int], _ v: VJPArguments) throws -> Value {
        var inverse = Array(repeating: 0, count: perm.count)
        for (k, p) in perm.enumerated() { inverse[p] = k }
        return try add(.transpose(inverse), [v.gradient])
    }

    /// Each operand's part of G along the axis.
    mutating func concatVJP(axis given: Int, _ v: VJPArguments) throws -> [Value?] {
        let out = shape(v.result)
        let axis = try Op.normalizedAxis(given, rank: out.count)
        var offset = 0
        var grads: [Value?] = []
        for (i, x) in v.operands.enumerated() {
            let size = shape(x)[axis]
            defer { offset += size }
            guard v.needs[i] else { grads.append(nil); continue }
            var start = Array(repeating: 0, count: out.count), end = out
            start[axis] = offset
            end[axis] = offset + size
            grads.append(try add(.slice(SliceAttributes(start: start, end: end, step: Array(repeating: 1, count: out.count))), [v.gradient]))
        }
        return grads
    }

    /// Rows of the table: G summed into the rows the ids picked (ids get none).
    mutating func gatherVJP(_ v: VJPArguments) throws -> [Value?] {
        guard v.needs[0] else { return [nil, nil] }
        return [try add(.scatterAdd(rows: shape(v.operands[0])[0]), [v.gradient, v.operands[1]]), nil]
    }
}
