// MARK: - Shape and type rules, one row per op

extension Op {
    /// Whether the op's type is given at construction (leaves) rather than inferred.
    public var isLeaf: Bool {
        switch self {
        case .input, .parameter, .state, .carried, .constant, .random: return true
        default: return false
        }
    }

    /// The number of operands the op takes.
    public var arity: Int {
        switch self {
        case .input, .parameter, .state, .carried, .constant, .random: return 0
        case .unary, .reduce, .softmax, .logSoftmax, .reshape, .transpose, .slice, .unslice, .broadcast, .pool, .oneHot: return 1
        case .binary, .matmul, .conv, .convInputGrad, .convFilterGrad, .poolGrad, .gather, .scatterAdd: return 2
        case .concat: return -1  // two or more
        }
    }

    /// The result type of the op applied to operands of these types.
    /// Leaves return `given` (their declared type).
    public func resultType(_ t: [TensorType], given: TensorType? = nil) throws -> TensorType {
        if arity >= 0, t.count != arity {
            throw ShapeError("\(name) takes \(arity) operand\(arity == 1 ? "" : "s"), got \(t.count)")
        }
        switch self {
        case .input, .parameter, .state, .carried:
            guard let given else { throw ShapeError("\(name) needs a declared type") }
            return given
        case .constant, .random:
            guard let given, given.dtype == .f32 else { throw ShapeError("\(name) needs a declared f32 type") }
            return given

        case .unary:
            try Self.requireF32(t[0], 0, name)
            return t[0]
        case let .binary(f):
            try Self.requireF32(t[0], 0, f.rawValue)
            try Self.requireF32(t[1], 1, f.rawValue)
            return .f32(try Self.broadcastShapes(t[0].shape, t[1].shape))

        case let .matmul(ta, tb):
            try Self.requireF32(t[0], 0, "matmul")
            try Self.requireF32(t[1], 1, "matmul")
            guard t[0].rank == 2 else { throw ShapeError("matmul expects a 2-d left operand, got \(t[0].shapeDescription)", operand: 0) }
            guard t[1].rank == 2 else { throw ShapeError("matmul expects a 2-d right operand, got \(t[1].shapeDescription)", operand: 1) }
            let (m, k1) = ta ? (t[0].shape[1], t[0].shape[0]) : (t[0].shape[0], t[0].shape[1])
            let (k2, n) = tb ? (t[1].shape[1], t[1].shape[0]) : (t[1].shape[0], t[1].shape[1])
            guard k1 == k2 else {
                throw ShapeError("matmul inner sizes differ: \(t[0].shapeDescription)\(ta ? "ᵀ" : "") × \(t[1].shapeDescription)\(tb ? "ᵀ" : "")", operand: 0)
            }
            return .f32([m, n])

        case let .conv(a):
            let (x, w) = (t[0], t[1])
            try Self.checkConvOperands(a, data: x, dataName: "input", filter: w)
            guard x.shape[1] == w.shape[1] else {
                throw ShapeError("conv input has \(x.shape[1]) channels but the filter expects \(w.shape[1]) (filter \(w.shapeDescription))", operand: 0)
            }
            let out = try a.outputSize(input: Array(x.shape[2...]), kernel: Array(w.shape[2...]))
            try Self.requirePositive(out, "conv output", input: x)
            return .f32([x.shape[0], w.shape[0]] + out)
        case let .convInputGrad(a, inputSize):
            let (dy, w) = (t[0], t[1])
            try Self.checkConvOperands(a, data: dy, dataName: "gradient", filter: w)
            guard dy.shape[1] == w.shape[0] else {
                throw ShapeError("input has \(dy.shape[1]) channels but the filter \(w.shapeDescription) expects \(w.shape[0])", operand: 0)
            }
            guard inputSize.count == a.spatialRank, inputSize.allSatisfy({ $0 >= 1 }) else { throw ShapeError("bad input size \(inputSize)") }
            let implied = try a.outputSize(input: inputSize, kernel: Array(w.shape[2...]))
            guard implied == Array(dy.shape[2...]) else {
                throw ShapeError("a conv of size \(inputSize) gives \(implied), not the \(Array(dy.shape[2...])) given", operand: 0)
            }
            return .f32([dy.shape[0], w.shape[1]] + inputSize)
        case let .convFilterGrad(a, kernelSize):
            let (x, dy) = (t[0], t[1])
            try Self.requireF32(x, 0, name)
            try Self.requireF32(dy, 1, name)
            guard a.spatialRank == 1 || a.spatialRank == 2, x.rank == a.spatialRank + 2, dy.rank == a.spatialRank + 2, x.shape[0] == dy.shape[0] else {
                throw ShapeError("\(name) operands \(x.shapeDescription) and \(dy.shapeDescription) do not match", operand: 1)
            }
            let implied = try a.outputSize(input: Array(x.shape[2...]), kernel: kernelSize)
            guard implied == Array(dy.shape[2...]) else {
                throw ShapeError("a conv of \(x.shapeDescription) with kernel \(kernelSize) gives \(implied), not \(Array(dy.shape[2...]))", operand: 1)
            }
            return .f32([dy.shape[1], x.shape[1]] + kernelSize)
        case let .pool(p):
            try Self.requireF32(t[0], 0, name)
            guard t[0].rank == 4 else { throw ShapeError("\(p.kind == .max ? "maxpool" : "avgpool") expects 4-d input [N, C, H, W], got \(t[0].shapeDescription)", operand: 0) }
            // PyTorch's rule: a window must always hold a real element.
            guard p.kernel.count == 2, p.stride.count == 2, p.padding.count == 2, zip(p.padding, p.kernel).allSatisfy({ $0 >= 0 && $0 <= $1 / 2 }) else {
                throw ShapeError("pooling padding \(p.padding) must be at most half the kernel \(p.kernel)", operand: 0)
            }
            let out = try p.outputSize(input: Array(t[0].shape[2...]))
            try Self.requirePositive(out, "pooling output", input: t[0])
            return .f32(Array(t[0].shape[..<2]) + out)
        case let .poolGrad(p):
            let out = try Op.pool(p).resultType([t[0]])
            guard t[1] == out else { throw ShapeError("pool gradient \(t[1].shapeDescription) does not match the pool output \(out.shapeDescription)", operand: 1) }
            return t[0]

        case let .reduce(_, axes, keep):
            try Self.requireF32(t[0], 0, name)
            let ax = try Self.normalizedAxes(axes, rank: t[0].rank)
            var shape: [Int] = []
            for (i, d) in t[0].shape.enumerated() {
                if ax.contains(i) { if keep { shape.append(1) } } else { shape.append(d) }
            }
            return .f32(shape)
        case let .softmax(axis), let .logSoftmax(axis):
            try Self.requireF32(t[0], 0, name)
            _ = try Self.normalizedAxis(axis, rank: t[0].rank)
            return t[0]

        case let .reshape(shape):
            guard shape.allSatisfy({ $0 >= 1 }) else {
                throw ShapeError("cannot reshape \(t[0].shapeDescription) to [\(shape.map(String.init).joined(separator: ", "))]: extents must be at least 1", operand: 0)
            }
            let n = try Size.elements(shape)
            guard n == t[0].elementCount else {
                throw ShapeError("cannot reshape \(t[0].shapeDescription) (\(t[0].elementCount) elements) to [\(shape.map(String.init).joined(separator: ", "))] (\(n) elements)", operand: 0)
            }
            return TensorType(t[0].dtype, shape)
        case let .transpose(perm):
            guard perm.sorted() == Array(0..<t[0].rank) else { throw ShapeError("\(perm) is not a permutation of the \(t[0].rank) axes", operand: 0) }
            return TensorType(t[0].dtype, perm.map { t[0].shape[$0] })
        case let .slice(s):
            let r = t[0].rank
            guard s.start.count == r, s.end.count == r, s.step.count == r else { throw ShapeError("slice needs \(r) ranges", operand: 0) }
            var shape: [Int] = []
            for i in 0..<r {
                guard s.step[i] >= 1, s.start[i] >= 0, s.end[i] <= t[0].shape[i], s.start[i] < s.end[i] else {
                    throw ShapeError("slice \(s.start[i]):\(s.end[i]):\(s.step[i]) of axis \(i) (size \(t[0].shape[i])) is empty or out of range", operand: 0)
                }
                // ceil((end - start) / step), without overflowing on a huge step
                let span = s.end[i] - s.start[i]
                shape.append(span / s.step[i] + (span % s.step[i] == 0 ? 0 : 1))
            }
            return TensorType(t[0].dtype, shape)
        case let .unslice(s, shape):
            guard shape.count == t[0].rank, shape.allSatisfy({ $0 >= 1 }) else {
                throw ShapeError("unslice into [\(shape.map(String.init).joined(separator: ", "))] needs a positive shape of rank \(t[0].rank)", operand: 0)
            }
            _ = try Size.elements(shape)
            let sliced = try Op.slice(s).resultType([TensorType(t[0].dtype, shape)])
            guard sliced == t[0] else {
                throw ShapeError("unslice of \(t[0].shapeDescription) into [\(shape.map(String.init).joined(separator: ", "))] needs the slice's shape \(sliced.shapeDescription)", operand: 0)
            }
            return TensorType(t[0].dtype, shape)
        case let .concat(axis):
            guard t.count >= 2 else { throw ShapeError("concat needs at least 2 operands") }
            let a = try Self.normalizedAxis(axis, rank: t[0].rank)
            var total = 0
            for (i, x) in t.enumerated() {
                guard x.dtype == t[0].dtype else {
                    throw ShapeError("concat inputs must have one element type, got \(t[0].dtype.rawValue) \(t[0].shapeDescription) and \(x.dtype.rawValue) \(x.shapeDescription)", operand: i)
                }
                guard x.rank == t[0].rank,
                      zip(x.shape, t[0].shape).enumerated().allSatisfy({ $0.offset == a || $0.element.0 == $0.element.1 }) else {
                    throw ShapeError("concat along axis \(a) needs equal sizes elsewhere: \(t[0].shapeDescription) and \(x.shapeDescription)", operand: i)
                }
                total = try Size.add(total, x.shape[a])
            }
            var shape = t[0].shape
            shape[a] = total
            return TensorType(t[0].dtype, shape)
        case let .broadcast(shape):
            guard (try? Self.broadcastShapes(t[0].shape, shape)) == shape else {
                throw ShapeError("cannot broadcast \(t[0].shapeDescription) to [\(shape.map(String.init).joined(separator: ", "))]", operand: 0)
            }
            return TensorType(t[0].dtype, shape)

        case .gather:
            guard t[1].dtype == .i32 else { throw ShapeError("gather ids must be i32, got \(t[1].dtype.rawValue)", operand: 1) }
            guard t[0].rank >= 1 else { throw ShapeError("gather needs a table of rank ≥ 1", operand: 0) }
            return TensorType(t[0].dtype, t[1].shape + t[0].shape.dropFirst())
        case let .scatterAdd(rows):
            guard t[1].dtype == .i32 else { throw ShapeError("scatter_add ids must be i32, got \(t[1].dtype.rawValue)", operand: 1) }
            guard rows >= 1, rows <= Size.maxElements, t[0].rank >= t[1].rank, Array(t[0].shape[..<t[1].rank]) == t[1].shape else {
                throw ShapeError("scatter_add values \(t[0].shapeDescription) do not start with the ids' shape \(t[1].shapeDescription)", operand: 0)
            }
            return TensorType(t[0].dtype, [rows] + t[0].shape[t[1].rank...])
        case let .oneHot(depth):
            guard t[0].dtype == .i32 else { throw ShapeError("one_hot needs i32 ids, got \(t[0].dtype.rawValue)", operand: 0) }
            guard depth >= 1, depth <= Size.maxElements else { throw ShapeError("one_hot depth must be in 1...2^40, got \(depth)") }
            return .f32(t[0].shape + [depth])
        }
    }

    // MARK: - Helpers

    static func requireF32(_ t: TensorType, _ i: Int, _ op: String) throws {
        guard t.dtype == .f32 else { throw ShapeError("\(op) needs f32 values, got i32 \(t.shapeDescription)", operand: i) }
    }

    static func requirePositive(_ out: [Int], _ what: String, input: TensorType) throws {
        guard out.allSatisfy({ $0 >= 1 }) else {
            throw ShapeError("\(what) size would be \(out) for input \(input.shapeDescription): the kernel is larger than the padded input", operand: 0)
        }
    }

    static func checkConvOperands(_ a: ConvAttributes, data: TensorType, dataName: String, filter w: TensorType) throws {
        let r = a.spatialRank
        // One or two spatial axes: conv1d and conv (what the kernels implement).
        guard r == 1 || r == 2 else { throw ShapeError("convolutions have 1 or 2 spatial axes, got \(r)") }
        let form = r == 1 ? "[N, C, L]" : "[N, C, H, W]"
        try requireF32(data, 0, "conv")
        try requireF32(w, 1, "conv")
        guard data.rank == r + 2 else { throw ShapeError("conv\(r)d expects \(r + 2)-d \(dataName) \(form), got \(data.shapeDescription)", operand: 0) }
        guard w.rank == r + 2 else { throw ShapeError("conv\(r)d expects a \(r + 2)-d filter, got \(w.shapeDescription)", operand: 1) }
        guard a.padBefore.count == r, a.padAfter.count == r, a.stride.allSatisfy({ $0 >= 1 }),
              (a.padBefore + a.padAfter).allSatisfy({ $0 >= 0 }) else { throw ShapeError("bad conv attributes") }
    }

    /// NumPy's broadcasting of two shapes.
    public static func broadcastShapes(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let x = i < n - a.count ? 1 : a[i - (n - a.count)]
            let y = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard x == y || x == 1 || y == 1 else {
                throw ShapeError("shapes \(TensorType.f32(a).shapeDescription) and \(TensorType.f32(b).shapeDescription) do not broadcast (axis \(i - n) has \(x) and \(y))", operand: 1)
            }
            out[i] = x == 1 ? y : x
        }
        return out
    }

    /// An axis in `-rank..<rank`, made non-negative.
    public static func normalizedAxis(_ axis: Int, rank: Int) throws -> Int {
        guard axis >= -rank, axis < rank else { throw ShapeError("axis \(axis) is out of range for rank \(rank)", operand: 0) }
        return axis < 0 ? axis + rank : axis
    }

    public static func normalizedAxes(_ axes: [Int], rank: Int) throws -> [Int] {
        let n = try axes.map { try normalizedAxis($0, rank: rank) }
        guard Set(n).count == n.count else { throw ShapeError("axes \(axes) repeat an axis", operand: 0) }
        return n.sorted()
    }
}
