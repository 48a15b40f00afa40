import GencIR
import GencKernels
import GencPlan

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Each op as a closure over fixed pointers (built once, at load)

extension Executable {
    func f32(_ slot: Int) -> UnsafeMutablePointer<Float> { addresses[slot].assumingMemoryBound(to: Float.self) }
    func i32(_ slot: Int) -> UnsafeMutablePointer<Int32> { addresses[slot].assumingMemoryBound(to: Int32.self) }
    func shape(_ slot: Int) -> [Int] { plan.slots[slot].type.shape }

    // The throws below (and in `kernel(for:)`) guard what no checked model
    // reaches: `Graph.add` enforces every shape rule, the Planner makes
    // steps only of computing ops, and what the kernels cannot do
    // (asymmetric padding, i32 broadcast) is refused by `unsupported(_:)`
    // at compile time, at the op's line. They stay so that a hand-built
    // graph fails with a message instead of reading out of bounds.

    static func conv2d(_ a: ConvAttributes, x: [Int], filters: Int, kernel: [Int]) throws -> Conv2DGeometry {
        guard a.spatialRank == 2, x.count == 4, kernel.count == 2 else { throw RuntimeError("conv2d needs 2 spatial axes, got \(a.spatialRank)") }
        guard a.padBefore == a.padAfter else { throw RuntimeError("asymmetric convolution padding is not supported by the runtime") }
        let g = Conv2DGeometry(batch: x[0], channels: x[1], height: x[2], width: x[3], filters: filters, kernelH: kernel[0], kernelW: kernel[1],
                               strideH: a.stride[0], strideW: a.stride[1], padH: a.padBefore[0], padW: a.padBefore[1])
        // The verifier's shape rules already imply this; checked again so a
        // geometry the kernels would trap on is an error, not a crash.
        guard g.isValid else { throw RuntimeError("invalid conv2d geometry \(g)") }
        return g
    }

    static func conv1d(_ a: ConvAttributes, x: [Int], filters: Int, kernel: [Int]) throws -> Conv1DGeometry {
        guard a.spatialRank == 1, x.count == 3, kernel.count == 1 else { throw RuntimeError("only 1-d and 2-d convolutions are supported, got \(a.spatialRank) spatial axes") }
        guard a.padBefore == a.padAfter else { throw RuntimeError("asymmetric convolution padding is not supported by the runtime") }
        let g = Conv1DGeometry(batch: x[0], channels: x[1], length: x[2], filters: filters, kernel: kernel[0], stride: a.stride[0], pad: a.padBefore[0])
        guard g.isValid else { throw RuntimeError("invalid conv1d geometry \(g)") }
        return g
    }

    static func pool(_ p: PoolAttributes, x: [Int]) throws -> Pool2DGeometry {
        guard x.count == 4, p.kernel.count == 2, p.stride.count == 2, p.padding.count == 2 else { throw RuntimeError("pooling needs 2 spatial axes") }
        let g = Pool2DGeometry(batch: x[0], channels: x[1], height: x[2], width: x[3], kernelH: p.kernel[0], kernelW: p.kernel[1],
                               strideH: p.stride[0], strideW: p.stride[1], padH: p.padding[0], padW: p.padding[1])
        guard g.isValid else { throw RuntimeError("invalid pooling geometry \(g)") }
        return g
    }

    /// The scratch bytes the plan's largest step needs on `threads` threads
    /// (a convolution's column matrices and partial gradients are per worker).
    static func workspaceBytes(_ plan: Plan, threads: Int) throws -> Int {
        var most = 0
        for step in plan.steps {
            guard let s = OpCall(step) else { continue }
            let t = { (i: Int) in plan.slots[s.inputs[i]].type.shape }
            switch s.op {
            case let .conv(a):
                let w = t(1)
                let n = a.spatialRank == 2 ? try conv2d(a, x: t(0), filters: w[0], kernel: Array(w[2...])).workspaceCount(threads: threads, filterGradient: false)
                    : try conv1d(a, x: t(0), filters: w[0], kernel: Array(w[2...])).workspaceCount(threads: threads, filterGradient: false)
                most = max(most, n > Int.max / 8 ? Int.max / 2 : n * 4)
            case let .convInputGrad(a, size):
                let (dy, w) = (t(0), t(1))
                let x = [dy[0], w[1]] + size
                let n = a.spatialRank == 2 ? try conv2d(a, x: x, filters: w[0], kernel: Array(w[2...])).workspaceCount(threads: threads, filterGradient: false)
                    : try conv1d(a, x: x, filters: w[0], kernel: Array(w[2...])).workspaceCount(threads: threads, filterGradient: false)
                most = max(most, n > Int.max / 8 ? Int.max / 2 : n * 4)
            case let .convFilterGrad(a, kernel):
                let (x, dy) = (t(0), t(1))
                let n = a.spatialRank == 2 ? try conv2d(a, x: x, filters: dy[1], kernel: kernel).workspaceCount(threads: threads, filterGradient: true)
                    : try conv1d(a, x: x, filters: dy[1], kernel: kernel).workspaceCount(threads: threads, filterGradient: true)
                most = max(most, n > Int.max / 8 ? Int.max / 2 : n * 4)
            case let .poolGrad(p):
                most = max(most, try pool(p, x: t(0)).outputCount * 8)
            case .input, .parameter, .state, .carried, .constant, .random, .unary, .binary, .matmul, .pool, .reduce, .softmax, .logSoftmax,
                 .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd, .oneHot:
                break
            }
        }
        return most
    }

    static func unaryOp(_ f: UnaryFunction) -> UnaryOp {
        switch f {
        case .negate: return .neg
        case .exp: return .exp
        case .log: return .log
        case .sqrt: return .sqrt
        case .rsqrt: return .rsqrt
        case .abs: return .abs
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        case .relu: return .relu
        case .softplus: return .softplus
        case .square: return .square
        case .reciprocal: return .reciprocal
        case .gelu: return .gelu
        case .geluDerivative: return .geluDerivative
        case let .leakyRelu(s): return .leakyRelu(slope: Float(s))
        }
    }

    static func binaryOp(_ f: BinaryFunction) -> BinaryOp {
        switch f {
        case .add: return .add
        case .subtract: return .sub
        case .multiply: return .mul
        case .divide: return .div
        case .power: return .pow
        case .maximum: return .max
        case .minimum: return .min
        case .greater: return .greater
        }
    }

    /// The closure that executes one step.
    func kernel(for step: Step, index: Int) throws -> () -> Void {
        switch step.kernel {
        case let .op(op):
            guard step.outputs.count == 1 else { throw RuntimeError("step \(step.name) has \(step.outputs.count) outputs") }
            if let p = packedSteps[index] { return packedMatmul(p.operand, packs: p.packs, step.inputs, step.outputs[0]) }
            return try kernel(op, step.inputs, step.outputs[0])
        case let .fused(f):
            let headInputs = Array(step.inputs.prefix(f.headInputs))
            let head = try packedSteps[index].map { packedMatmul($0.operand, packs: $0.packs, headInputs, step.outputs[0]) }
                ?? f.head.map { try kernel($0, headInputs, step.outputs[0]) }
            let program = fusedProgram(f, step)
            let streams = f.body.compactMap { i -> Int? in
                if case let .random(_, stream) = i.function { return stream } else { return nil }
            }
            let seeds = UnsafeMutablePointer<UInt64>.allocate(capacity: max(streams.count, 1))
            seeds.initialize(repeating: 0, count: max(streams.count, 1))
            ownedSeeds.append(seeds)
            guard program.scratchCount(threads: threads) <= fusedScratchCount else { throw RuntimeError("fused loop scratch exceeds its bound") }
            let (scratch, threads, state) = (fusedScratch, self.threads, self.state)
            fusedChecks[index] = FusedCheck(program: program, seeds: seeds, streams: streams, hasHead: f.head != nil)
            if program.count == 0 && program.sinks.isEmpty { return { head?() } }
            return {
                head?()
                for (k, s) in streams.enumerated() { seeds[k] = Seeds.derive(state.seed, s) }
                state.badIDs += runFused(program, seeds: seeds, scratch: scratch, threads: threads)
            }
        }
    }

    /// The fused loop bound to this executable's buffers.
    func fusedProgram(_ f: FusedLoop, _ step: Step) -> FusedProgram {
        let reads = f.reads.enumerated().map { k, r in
            FusedProgram.Read(base: UnsafePointer(f32(step.inputs[f.headInputs + k])), offset: r.offset, strides: r.strides)
        }
        var randoms = 0
        func source(_ o: FusedInstruction.Operand) -> FusedProgram.Source {
            switch o {
            case let .input(k): return .input(k)
            // The head's result is the step's first output, read in place.
            case .head: return .input(reads.count)
            case let .register(r): return .register(r)
            case let .scalar(v): return .scalar(Float(v))
            }
        }
        let body = f.body.map { i -> FusedProgram.Instruction in
            switch i.function {
            case let .unary(u): return .unary(Self.unaryOp(u), source(i.operands[0]))
            case let .binary(b): return .binary(Self.binaryOp(b), source(i.operands[0]), source(i.operands[1]))
            case .copy: return .copy(source(i.operands[0]))
            case let .oneHot(depth): return .oneHot(depth: depth, source(i.operands[0]))
            case let .random(.normal(m, sd), _):
                defer { randoms += 1 }
                return .normal(mean: Float(m), std: Float(sd), seed: randoms)
            case let .random(.uniform(lo, hi), _):
                defer { randoms += 1 }
                return .uniform(low: Float(lo), high: Float(hi), seed: randoms)
            }
        }
        var allReads = reads
        if f.head != nil {
            let strides = AffineRead.contiguousStrides(f.shape)
            allReads.append(FusedProgram.Read(base: UnsafePointer(f32(step.outputs[0])), offset: 0, strides: strides))
        }
        let results = f.results.enumerated().map { k, r in (register: r, out: f32(step.outputs[f.firstResultOutput + k])) }
        let sinks = f.reductions.enumerated().map { k, r -> FusedProgram.Sink in
            let function: FusedProgram.Sink.Function
            switch r.function {
            case .sum: function = .sum
            case .mean: function = .mean
            case .max: function = .max
            }
            return FusedProgram.Sink(function: function, source: source(r.operand), out: f32(step.outputs[f.firstReductionOutput + k]),
                                     strides: r.strides, shape: f.shape)
        }
        return FusedProgram(shape: f.shape, reads: allReads, body: body, results: results, sinks: sinks)
    }

    /// The closure that executes one op.
    func kernel(_ op: Op, _ ins: [Int], _ out: Int) throws -> () -> Void {
        let outType = plan.slots[out].type
        let n = outType.elementCount
        let threads = self.threads
        let ws = workspace.assumingMemoryBound(to: Float.self)
        let state = self.state
        switch op {
        case .input, .parameter, .state, .carried, .constant:
            throw RuntimeError("a leaf (\(op.name)) cannot be a step")
        case let .random(dist, stream):
            let y = f32(out)
            return {
                let s = Seeds.derive(state.seed, stream)
                switch dist {
                case let .normal(m, sd): fillNormal(y, count: n, seed: s, mean: Float(m), std: Float(sd), threads: threads)
                case let .uniform(lo, hi): fillUniform(y, count: n, seed: s, low: Float(lo), high: Float(hi), threads: threads)
                }
            }
        case let .unary(f):
            let (x, y, op) = (f32(ins[0]), f32(out), Self.unaryOp(f))
            return { unary(op, x: x, y: y, count: n, threads: threads) }
        case let .binary(f):
            guard let layout = BroadcastLayout(output: outType.shape, a: shape(ins[0]), b: shape(ins[1])) else {
                throw RuntimeError("no broadcast layout for \(shape(ins[0])) and \(shape(ins[1]))")
            }
            let (a, b, y, op) = (f32(ins[0]), f32(ins[1]), f32(out), Self.binaryOp(f))
            return { binary(op, a: a, b: b, out: y, layout: layout, threads: threads) }
        case let .matmul(ta, tb):
            let (sa, sb) = (shape(ins[0]), shape(ins[1]))
            let (m, nn) = (outType.shape[0], outType.shape[1])
            let k = ta ? sa[0] : sa[1]
            let (a, b, c) = (f32(ins[0]), f32(ins[1]), f32(out))
            return { sgemm(transA: ta, transB: tb, m: m, n: nn, k: k, alpha: 1, a: a, lda: sa[1], b: b, ldb: sb[1], beta: 0, c: c, ldc: nn, threads: threads) }
        case let .conv(a):
            let w = shape(ins[1])
            let (x, wp, y) = (f32(ins[0]), f32(ins[1]), f32(out))
            if a.spatialRank == 2 {
                let g = try Self.conv2d(a, x: shape(ins[0]), filters: w[0], kernel: Array(w[2...]))
                return { conv2dForward(x: x, w: wp, bias: nil, y: y, geometry: g, workspace: ws, threads: threads) }
            }
            let g = try Self.conv1d(a, x: shape(ins[0]), filters: w[0], kernel: Array(w[2...]))
            return { conv1dForward(x: x, w: wp, bias: nil, y: y, geometry: g, workspace: ws, threads: threads) }
        case let .convInputGrad(a, size):
            let (dyShape, w) = (shape(ins[0]), shape(ins[1]))
            let x = [dyShape[0], w[1]] + size
            let (dy, wp, dx) = (f32(ins[0]), f32(ins[1]), f32(out))
            if a.spatialRank == 2 {
                let g = try Self.conv2d(a, x: x, filters: w[0], kernel: Array(w[2...]))
                return { conv2dInputGrad(dy: dy, w: wp, dx: dx, geometry: g, workspace: ws, threads: threads) }
            }
            let g = try Self.conv1d(a, x: x, filters: w[0], kernel: Array(w[2...]))
            return { conv1dInputGrad(dy: dy, w: wp, dx: dx, geometry: g, workspace: ws, threads: threads) }
        case let .convFilterGrad(a, kernel):
            let (xs, dys) = (shape(ins[0]), shape(ins[1]))
            let (x, dy, dw) = (f32(ins[0]), f32(ins[1]), f32(out))
            if a.spatialRank == 2 {
                let g = try Self.conv2d(a, x: xs, filters: dys[1], kernel: kernel)
                return { conv2dFilterGrad(x: x, dy: dy, dw: dw, geometry: g, workspace: ws, threads: threads) }
            }
            let g = try Self.conv1d(a, x: xs, filters: dys[1], kernel: kernel)
            return { conv1dFilterGrad(x: x, dy: dy, dw: dw, geometry: g, workspace: ws, threads: threads) }
        case let .pool(p):
            let g = try Self.pool(p, x: shape(ins[0]))
            let (x, y) = (f32(ins[0]), f32(out))
            if p.kind == .max { return { maxPool2dForward(x: x, y: y, argmax: nil, geometry: g) } }
            return { avgPool2dForward(x: x, y: y, geometry: g, countPadding: true) }
        case let .poolGrad(p):
            let g = try Self.pool(p, x: shape(ins[0]))
            let (x, dy, dx) = (f32(ins[0]), f32(ins[1]), f32(out))
            if p.kind == .average { return { avgPool2dBackward(dy: dy, dx: dx, geometry: g, countPadding: true) } }
            let argmax = (workspace + g.outputCount * 4).assumingMemoryBound(to: Int32.self)
            return {
                maxPool2dForward(x: x, y: ws, argmax: argmax, geometry: g)
                maxPool2dBackward(dy: dy, argmax: argmax, dx: dx, geometry: g)
            }
        case let .reduce(f, axes, _):
            guard let layout = ReduceLayout(inputShape: shape(ins[0]), axes: axes) else { throw RuntimeError("bad reduction axes \(axes)") }
            let op: ReduceOp = f == .sum ? .sum : f == .mean ? .mean : .max
            let (x, y) = (f32(ins[0]), f32(out))
            return { reduce(op, x: x, y: y, layout: layout, threads: threads) }
        case let .softmax(axis), let .logSoftmax(axis):
            // Any axis: the tensor as (outer, n, inner); inner == 1 is the row kernel.
            let dims = outType.shape
            let a = axis < 0 ? axis + dims.count : axis
            guard a >= 0, a < dims.count else { throw RuntimeError("bad softmax axis \(axis) for \(outType)") }
            let width = dims[a]
            let outer = dims[..<a].reduce(1, *), inner = dims[(a + 1)...].reduce(1, *)
            let (x, y) = (f32(ins[0]), f32(out))
            if case .softmax = op { return { softmax(x: x, y: y, outer: outer, n: width, inner: inner, threads: threads) } }
            return { logSoftmax(x: x, y: y, outer: outer, n: width, inner: inner, threads: threads) }
        case .reshape:
            let (x, y, bytes) = (addresses[ins[0]], addresses[out], outType.byteCount)
            return { y.copyMemory(from: x, byteCount: bytes) }
        case let .transpose(perm):
            guard let region = StridedRegion(permuting: shape(ins[0]), by: perm) else { throw RuntimeError("bad transpose \(perm)") }
            return regionCopy(ins[0], out, region, outType.dtype)
        case let .slice(s):
            guard let region = StridedRegion(slicing: shape(ins[0]), starts: s.start, ends: s.end, steps: s.step) else { throw RuntimeError("bad slice") }
            return regionCopy(ins[0], out, region, outType.dtype)
        case let .unslice(s, target):
            // Zeros, then the operand into the slice's region (slice's adjoint).
            guard let region = StridedRegion(slicing: target, starts: s.start, ends: s.end, steps: s.step) else { throw RuntimeError("bad unslice") }
            let (x, y, bytes, isInt) = (addresses[ins[0]], addresses[out], outType.byteCount, outType.dtype == .i32)
            return {
                y.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
                if isInt {
                    scatterRegion(UnsafePointer(x.assumingMemoryBound(to: Int32.self)), region: region, into: y.assumingMemoryBound(to: Int32.self), threads: threads)
                } else {
                    scatterRegion(UnsafePointer(x.assumingMemoryBound(to: Float.self)), region: region, into: y.assumingMemoryBound(to: Float.self), threads: threads)
                }
            }
        case let .concat(given):
            // The shape rule allows −rank..<rank (lowering always emits it normalised).
            let axis = given < 0 ? given + outType.rank : given
            guard axis >= 0, axis < outType.rank else { throw RuntimeError("bad concat axis \(given)") }
            var offset = 0
            var parts: [(Int, StridedRegion)] = []
            for i in ins {
                let s = shape(i)
                var starts = Array(repeating: 0, count: s.count), ends = outType.shape
                starts[axis] = offset
                ends[axis] = offset + s[axis]
                offset += s[axis]
                guard let r = StridedRegion(slicing: outType.shape, starts: starts, ends: ends) else { throw RuntimeError("bad concat") }
                parts.append((i, r))
            }
            let isInt = outType.dtype == .i32
            let y = addresses[out]
            let sources = parts.map { (addresses[$0.0], $0.1) }
            return {
                for (src, r) in sources {
                    if isInt {
                        scatterRegion(UnsafePointer(src.assumingMemoryBound(to: Int32.self)), region: r, into: y.assumingMemoryBound(to: Int32.self), threads: threads)
                    } else {
                        scatterRegion(UnsafePointer(src.assumingMemoryBound(to: Float.self)), region: r, into: y.assumingMemoryBound(to: Float.self), threads: threads)
                    }
                }
            }
        case let .broadcast(target):
            guard outType.dtype == .f32, let layout = BroadcastLayout(from: shape(ins[0]), to: target) else {
                throw RuntimeError("broadcast of \(shape(ins[0])) to \(target) is not supported")
            }
            let (x, y) = (f32(ins[0]), f32(out))
            return { broadcastCopy(x, out: y, layout: layout, threads: threads) }
        case .gather:
            let table = shape(ins[0])
            let (ids, tp, y) = (i32(ins[1]), f32(ins[0]), f32(out))
            let m = plan.slots[ins[1]].type.elementCount
            let dim = table.dropFirst().reduce(1, *)
            return { state.badIDs += gatherRows(ids: ids, count: m, table: tp, vocab: table[0], dim: dim, out: y) }
        case let .scatterAdd(rows):
            let (vals, ids, y) = (f32(ins[0]), i32(ins[1]), f32(out))
            let m = plan.slots[ins[1]].type.elementCount
            let dim = n / rows
            return {
                y.update(repeating: 0, count: n)
                state.badIDs += scatterAddRows(ids: ids, count: m, dOut: vals, vocab: rows, dim: dim, dTable: y)
            }
        case let .oneHot(depth):
            let (ids, y) = (i32(ins[0]), f32(out))
            let m = plan.slots[ins[0]].type.elementCount
            return {
                y.update(repeating: 0, count: n)
                var bad = 0
                for i in 0..<m {
                    let id = Int(ids[i])
                    if id >= 0, id < depth { y[i * depth + id] = 1 } else { bad += 1 }
                }
                state.badIDs += bad
            }
        }
    }

    private func regionCopy(_ input: Int, _ out: Int, _ region: StridedRegion, _ dtype: DType) -> () -> Void {
        let (x, y, threads) = (addresses[input], addresses[out], self.threads)
        if dtype == .i32 {
            return { gatherRegion(UnsafePointer(x.assumingMemoryBound(to: Int32.self)), region: region, out: y.assumingMemoryBound(to: Int32.self), threads: threads) }
        }
        return { gatherRegion(UnsafePointer(x.assumingMemoryBound(to: Float.self)), region: region, out: y.assumingMemoryBound(to: Float.self), threads: threads) }
    }
}
