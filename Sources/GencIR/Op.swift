/// Every primitive of the graph IR: one closed enum with typed payloads.
///
/// Each op's name, attributes, shape rule and fusion kind is an exhaustive
/// `switch` in `Op+Name.swift`, `Op+Shape.swift` and `Op+Kind.swift`, so an
/// op added here does not compile until every table has its row.
public enum Op: Hashable, Sendable {
    // MARK: Leaves (their type is given, not inferred)
    /// A tensor fed each step (data, noise drawn outside, targets).
    case input(String)
    /// A trainable parameter, by its checkpoint name (`generator.dense0.weight`).
    case parameter(String)
    /// Persistent non-trainable state (`running_mean`).
    case state(String)
    /// A value an earlier program of the same training step computed, read
    /// from the persistent buffer of that name (`ScheduleSharing`): the
    /// generator update reads the G(z) the discriminator update made.
    case carried(String)
    /// Every element equal to this value.
    case constant(Double)
    /// Fresh random numbers each run of the program; `stream` keeps the
    /// draws of distinct ops independent under one seed.
    case random(RandomDistribution, stream: Int)

    // MARK: Elementwise (NumPy broadcasting for binary ops)
    case unary(UnaryFunction)
    case binary(BinaryFunction)

    // MARK: Contractions
    /// `[M, K] × [K, N] → [M, N]`, either side transposed first.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// Cross-correlation (PyTorch's conv): x `[N, C, *S]`, w `[F, C, *K]` → `[N, F, *O]`.
    case conv(ConvAttributes)
    /// The gradient of `conv` with respect to x (also conv_transpose):
    /// dy `[N, F, *O]`, w `[F, C, *K]` → `[N, C, *inputSize]`.
    case convInputGrad(ConvAttributes, inputSize: [Int])
    /// The gradient of `conv` with respect to w: x `[N, C, *S]`, dy `[N, F, *O]` → `[F, C, *kernelSize]`.
    case convFilterGrad(ConvAttributes, kernelSize: [Int])
    /// Max or average pooling over the last two axes of `[N, C, H, W]`.
    case pool(PoolAttributes)
    /// The gradient of `pool`: x `[N, C, H, W]`, dy → dx.
    case poolGrad(PoolAttributes)

    // MARK: Reductions and normalisers
    case reduce(ReduceFunction, axes: [Int], keepDims: Bool)
    case softmax(axis: Int)
    case logSoftmax(axis: Int)

    // MARK: Data movement
    /// Same elements, new shape (the result type's shape).
    case reshape([Int])
    case transpose([Int])
    case slice(SliceAttributes)
    /// The adjoint of `slice`: a zero tensor of `shape` with the operand
    /// written at the positions `slice` would read.
    case unslice(SliceAttributes, shape: [Int])
    case concat(axis: Int)
    /// NumPy broadcast to a shape.
    case broadcast([Int])

    // MARK: Indexing
    /// Rows of a table by id: table `[V, *D]`, ids i32 `[*I]` → `[*I, *D]`.
    case gather
    /// The gradient of `gather`: values `[*I, *D]`, ids i32 `[*I]` → `[rows, *D]`, summing repeats.
    case scatterAdd(rows: Int)
    /// ids i32 `[*I]` → f32 `[*I, depth]` with a 1 at each id.
    case oneHot(depth: Int)
}

public enum RandomDistribution: Hashable, Sendable {
    case normal(mean: Double, std: Double)
    case uniform(low: Double, high: Double)
}

public enum UnaryFunction: Hashable, Sendable {
    case negate, exp, log, sqrt, rsqrt, abs, tanh, sigmoid, relu, softplus, square, reciprocal, gelu
    /// GELU's derivative Φ(x) + x·φ(x): the backward pass of `gelu`, an op
    /// of its own so that it has a derivative too.
    case geluDerivative
    case leakyRelu(slope: Double)
}

public enum BinaryFunction: String, Hashable, Sendable, CaseIterable {
    case add, subtract, multiply, divide, power, maximum, minimum
    /// 1 where a > b, else 0 (f32).
    case greater
}

public enum ReduceFunction: String, Hashable, Sendable, CaseIterable {
    case sum, mean, max
}

/// Convolution geometry for `spatialRank` (1 or 2) spatial axes.
public struct ConvAttributes: Hashable, Sendable {
    public var stride: [Int]
    public var padBefore: [Int]
    public var padAfter: [Int]
    public init(stride: [Int], padBefore: [Int], padAfter: [Int]) {
        self.stride = stride
        self.padBefore = padBefore
        self.padAfter = padAfter
    }
    public var spatialRank: Int { stride.count }

    /// `floor((S + before + after - K) / stride) + 1` per axis (PyTorch);
    /// 0 where the kernel does not fit. Checked: huge user numbers give a
    /// `ShapeError`, never a trap.
    /// Also the one check of the attributes themselves, for every op that
    /// has them (conv, its two gradients): one count per axis, strides ≥ 1,
    /// padding ≥ 0, kernel ≥ 1 — so no later stage divides by a zero stride
    /// or indexes past an axis, whatever a plan or IR file says.
    public func outputSize(input: [Int], kernel: [Int]) throws -> [Int] {
        let r = spatialRank
        guard padBefore.count == r, padAfter.count == r, input.count == r, kernel.count == r else {
            throw ShapeError("conv attributes name \(r) spatial axes, padding \(padBefore.count)+\(padAfter.count), input \(input.count), kernel \(kernel.count)")
        }
        guard stride.allSatisfy({ $0 >= 1 }) else { throw ShapeError("conv stride \(stride) must be at least 1") }
        guard (padBefore + padAfter).allSatisfy({ $0 >= 0 }) else { throw ShapeError("conv padding \(padBefore)/\(padAfter) must not be negative") }
        guard kernel.allSatisfy({ $0 >= 1 }) else { throw ShapeError("conv kernel \(kernel) must be at least 1") }
        return try (0..<r).map { i in
            let span = try Size.subtract(try Size.sum([input[i], padBefore[i], padAfter[i]]), kernel[i])
            return span < 0 ? 0 : span / stride[i] + 1
        }
    }
}

public struct PoolAttributes: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable { case max, average }
    public var kind: Kind
    public var kernel: [Int]
    public var stride: [Int]
    public var padding: [Int]
    public init(kind: Kind, kernel: [Int], stride: [Int], padding: [Int]) {
        self.kind = kind
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }
    /// Checked like `ConvAttributes.outputSize`.
    /// Also checks the attributes: two axes each, kernel and stride ≥ 1,
    /// padding ≥ 0.
    public func outputSize(input: [Int]) throws -> [Int] {
        guard kernel.count == 2, stride.count == 2, padding.count == 2, input.count == 2 else {
            throw ShapeError("pooling takes 2 spatial axes: kernel \(kernel), stride \(stride), padding \(padding)")
        }
        guard kernel.allSatisfy({ $0 >= 1 }), stride.allSatisfy({ $0 >= 1 }), padding.allSatisfy({ $0 >= 0 }) else {
            throw ShapeError("pooling kernel \(kernel) and stride \(stride) must be at least 1, padding \(padding) not negative")
        }
        return try (0..<2).map { i in
            let span = try Size.subtract(try Size.add(input[i], try Size.multiply(2, padding[i])), kernel[i])
            return span < 0 ? 0 : span / stride[i] + 1
        }
    }
}

/// Per-axis `start..<end` by `step` (all resolved: non-negative, step ≥ 1).
public struct SliceAttributes: Hashable, Sendable {
    public var start: [Int]
    public var end: [Int]
    public var step: [Int]
    public init(start: [Int], end: [Int], step: [Int]) {
        self.start = start
        self.end = end
        self.step = step
    }
}
