import GencIR
import GencKernels
import GencPlan

#if canImport(Glibc)
import Glibc
#endif

/// What a run needs that changes from run to run; the kernels' closures
/// read it (they are built once, at load).
final class RunState {
    var seed: UInt64 = 0
    /// Token ids outside a table, counted by gather and one_hot this run.
    var badIDs = 0
}

/// A loaded Plan: arena and persistent buffers allocated once, every step
/// turned into a closure over fixed pointers at load. `run` does no
/// allocation, no shape arithmetic and no lookups by name.
public final class Executable: @unchecked Sendable {
    public let plan: Plan
    public let threads: Int
    let store: ParameterStore
    let arena: UnsafeMutableRawPointer
    /// Scratch for im2col, pooling gradients: the largest any step needs.
    let workspace: UnsafeMutableRawPointer
    let workspaceBytes: Int
    /// Constants, owned by this executable.
    var constants: [UnsafeMutableRawPointer] = []
    /// Address of every slot.
    var addresses: [UnsafeMutableRawPointer] = []
    var kernels: [() -> Void] = []
    /// Registers and gathered rows of the fused loops (one loop runs at a time).
    var fusedScratch: UnsafeMutablePointer<Float>
    let fusedScratchCount: Int
    /// Each fused loop's per-run seeds of its random streams.
    var ownedSeeds: [UnsafeMutablePointer<UInt64>] = []
    /// State updates as (destination, source, bytes), resolved at load.
    var updates: [(UnsafeMutableRawPointer, UnsafeMutableRawPointer, Int)] = []
    let state = RunState()
    /// The packed copies of shared B operands (PackedOperands.swift), and
    /// for each matmul step that reads one: its operand and whether it packs.
    var packedBuffers: [UnsafeMutablePointer<Float>] = []
    var packedSteps: [Int: (operand: PackedOperand, packs: Bool)] = [:]
    /// Per step: what `--check-numerics` needs of a fused loop (nil for one-op steps).
    var fusedChecks: [FusedCheck?] = []
    /// Check every kernel's results for NaN and ±∞ as it runs (`run` then
    /// throws a `NumericFault` naming the op and its YAML line). Off by
    /// default: it reads every value once more and runs fused bodies twice.
    public var checkNumerics = false

    /// Loads `plan`, binding its parameters and state to `store` (created
    /// there on first use). `threads` is used by BLAS and the parallel loops.
    public init(plan: Plan, store: ParameterStore, threads: Int = 1) throws {
        let problems = PlanVerifier.verify(plan)
        guard problems.isEmpty else { throw RuntimeError("invalid plan '\(plan.name)': \(problems.prefix(3).joined(separator: "; "))") }
        if let problem = Self.unsupported(plan).first {
            let at = problem.location.map { "\($0.path):\($0.line):\($0.column): " } ?? ""
            throw RuntimeError("\(at)\(problem.message)")
        }
        self.plan = plan
        self.threads = max(1, threads)
        self.store = store
        arena = UnsafeMutableRawPointer.allocate(byteCount: max(plan.arenaBytes, 64), alignment: 64)
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(plan.arenaBytes, 64))
        workspaceBytes = try Self.workspaceBytes(plan, threads: max(1, threads))
        workspace = UnsafeMutableRawPointer.allocate(byteCount: max(workspaceBytes, 64), alignment: 64)
        fusedScratchCount = Self.fusedScratchCount(plan, threads: max(1, threads))
        fusedScratch = UnsafeMutablePointer<Float>.allocate(capacity: max(fusedScratchCount, 16))
        var persistent: [UnsafeMutableRawPointer] = []
        for p in plan.persistent {
            if p.kind == .constant {
                let c = UnsafeMutableRawPointer.allocate(byteCount: max(p.type.byteCount, 4), alignment: 64)
                if case let .constant(v) = p.initializer {
                    c.assumingMemoryBound(to: Float.self).initialize(repeating: Float(v), count: p.type.elementCount)
                }
                constants.append(c)
                persistent.append(c)
            } else {
                persistent.append(try store.buffer(for: p))
            }
        }
        let (base, all) = (arena, plan.slots)
        func address(_ s: Slot) -> UnsafeMutableRawPointer {
            switch s.storage {
            case let .arena(offset): return base + offset
            case let .persistent(k): return persistent[k]
            // The verifier proved `of` is a stored slot.
            case let .view(of): return address(all[of])
            // Never read or written: a fused loop keeps it in a register.
            case .fused: return base
            }
        }
        addresses = plan.slots.map(address)
        fusedChecks = Array(repeating: nil, count: plan.steps.count)
        for g in PackedOperandGroup.groups(plan) {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(g.floats, 16))
            buffer.initialize(repeating: 0, count: max(g.floats, 16))
            packedBuffers.append(buffer)
            let operand = PackedOperand(k: g.k, n: g.n, transB: g.transB, buffer: buffer)
            for (j, i) in g.steps.enumerated() { packedSteps[i] = (operand, j == 0) }
        }
        for (i, step) in plan.steps.enumerated() { kernels.append(try kernel(for: step, index: i)) }
        updates = plan.copiedUpdates.map { (persistent[$0.buffer], addresses[$0.slot], plan.slots[$0.slot].type.byteCount) }
    }

    /// The bytes `init` allocates for `plan` besides the shared parameter
    /// store: its arena, its scratch workspace (with the packed copies of
    /// shared matmul operands) and its constants. Callers
    /// compare this with a memory limit before loading (allocation failure
    /// would abort the process, not throw).
    /// `threads`: the thread count it will be loaded with (scratch is per worker).
    public static func loadBytes(_ plan: Plan, threads: Int = 2) throws -> (arena: Int, workspace: Int, constants: Int) {
        var constants = 0
        for p in plan.persistent where p.kind == .constant { constants += max(p.type.byteCount, 4) }
        let patch = scratchBound(plan)
        // Beyond 2^40 elements the exact figure does not matter: no machine has it.
        let workspace = patch > Double(Size.maxElements) ? Int(min(patch * 4, 0x1p62)) : max(try workspaceBytes(plan, threads: max(1, threads)), 64)
        return (max(plan.arenaBytes, 64), workspace + fusedScratchCount(plan, threads: max(1, threads)) * 4 + packedBytes(plan), constants)
    }

    /// The largest im2col patch matrix (elements) any convolution of the
    /// plan needs, bounded above in floating point: every filter element per
    /// output position. Checked before the kernels' integer geometry is
    /// computed, so a hostile geometry cannot overflow it.
    static func scratchBound(_ plan: Plan) -> Double {
        var most = 0.0
        for step in plan.steps {
            guard let s = OpCall(step) else { continue }
            let filter: [Int]
            switch s.op {
            case .conv, .convInputGrad: filter = plan.slots[s.inputs[1]].type.shape
            case .convFilterGrad: filter = plan.slots[s.output].type.shape
            case .input, .parameter, .state, .carried, .constant, .random, .unary, .binary, .matmul, .pool, .poolGrad, .reduce, .softmax,
                 .logSoftmax, .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd, .oneHot:
                continue
            }
            let spatial = (s.inputs + [s.output]).map { k -> Double in
                plan.slots[k].type.shape.dropFirst(2).reduce(1.0) { $0 * Double($1) }
            }.max() ?? 1
            most = max(most, filter.reduce(1.0) { $0 * Double($1) } * spatial)
        }
        return most
    }

    deinit {
        arena.deallocate()
        workspace.deallocate()
        for c in constants { c.deallocate() }
        fusedScratch.deallocate()
        for s in ownedSeeds { s.deallocate() }
        for b in packedBuffers { b.deallocate() }
    }

    /// Floats of scratch the largest fused loop needs: a tile-sized row per
    /// register and per read, per worker.
    static func fusedScratchCount(_ plan: Plan, threads: Int) -> Int {
        var most = 0
        for s in plan.steps {
            guard case let .fused(f) = s.kernel else { continue }
            let tile = FusedProgram.tileLength(shape: f.shape, sinkStrides: f.reductions.map(\.strides))
            // On several threads, a loop with sinks may keep their operands whole (two-phase sinks).
            let sinkOperands = threads > 1 ? f.reductions.count * f.shape.reduce(1, *) : 0
            most = max(most, (f.body.count + f.reads.count + 1) * tile * threads + sinkOperands)
        }
        return most
    }

    // MARK: - Running

    /// Runs every step once. `seed` drives the random ops (dropout masks,
    /// normal_like): the same seed gives the same numbers bit for bit,
    /// whatever the thread count.
    public func run(seed: UInt64) throws {
        state.seed = seed
        state.badIDs = 0
        if checkNumerics { try runCheckingNumerics() } else { for k in kernels { k() } }
        if state.badIDs > 0 {
            throw RuntimeError("\(state.badIDs) token id\(state.badIDs == 1 ? " was" : "s were") outside the table they index (an embedding's vocab or cross_entropy's classes)")
        }
        for (dst, src, bytes) in updates { dst.copyMemory(from: src, byteCount: bytes) }
    }

    /// Runs every step once, as `run` does, adding each step's wall-clock
    /// seconds to `seconds[step]` (`genc bench --profile`). The clock reads
    /// between kernels make it slower than `run`; use it for shares, not totals.
    public func runProfiled(seed: UInt64, seconds: inout [Double]) throws {
        precondition(seconds.count == kernels.count, "runProfiled: one entry per step")
        state.seed = seed
        state.badIDs = 0
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        var last = Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
        for (i, k) in kernels.enumerated() {
            k()
            clock_gettime(CLOCK_MONOTONIC, &t)
            let now = Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
            seconds[i] += now - last
            last = now
        }
        if state.badIDs > 0 { throw RuntimeError("\(state.badIDs) token ids were outside the table they index") }
        for (dst, src, bytes) in updates { dst.copyMemory(from: src, byteCount: bytes) }
    }

    // MARK: - Inputs and outputs

    public func inputType(_ name: String) -> TensorType? {
        plan.inputs.first { $0.name == name }.map { plan.slots[$0.slot].type }
    }

    /// Copies an input's values in; the count must match its type.
    public func setInput(_ name: String, floats: [Float]) throws {
        try setInput(name, count: floats.count, dtype: .f32) { floats.withUnsafeBytes { $0 } }
    }

    public func setInput(_ name: String, ints: [Int32]) throws {
        try setInput(name, count: ints.count, dtype: .i32) { ints.withUnsafeBytes { $0 } }
    }

    private func setInput(_ name: String, count: Int, dtype: DType, _ bytes: () -> UnsafeRawBufferPointer) throws {
        guard let i = plan.inputs.first(where: { $0.name == name }) else { throw RuntimeError("program '\(plan.name)' has no input '\(name)'") }
        let t = plan.slots[i.slot].type
        guard t.dtype == dtype, t.elementCount == count else {
            throw RuntimeError("input '\(name)' is \(t) (\(t.elementCount) values), got \(count) \(dtype.rawValue) values")
        }
        let b = bytes()
        if let base = b.baseAddress { addresses[i.slot].copyMemory(from: base, byteCount: t.byteCount) }
    }

    /// Fills an input with noise drawn from `seed` and its name.
    public func sampleInput(_ name: String, _ dist: RandomDistribution, seed: UInt64) throws {
        guard let i = plan.inputs.first(where: { $0.name == name }) else { throw RuntimeError("program '\(plan.name)' has no input '\(name)'") }
        let t = plan.slots[i.slot].type
        let p = addresses[i.slot].assumingMemoryBound(to: Float.self)
        let s = Seeds.derive(seed, name)
        switch dist {
        case let .normal(m, sd): fillNormal(p, count: t.elementCount, seed: s, mean: Float(m), std: Float(sd), threads: threads)
        case let .uniform(lo, hi): fillUniform(p, count: t.elementCount, seed: s, low: Float(lo), high: Float(hi), threads: threads)
        }
    }

    /// The memory of an input, for callers that fill it in place every step
    /// (the training loop's batches) instead of copying from an array.
    public func inputBuffer(_ name: String) -> (pointer: UnsafeMutableRawPointer, type: TensorType)? {
        plan.inputs.first { $0.name == name }.map { (addresses[$0.slot], plan.slots[$0.slot].type) }
    }

    /// The memory of an output, valid for the executable's lifetime; it
    /// holds the value of the latest run.
    public func outputBuffer(_ name: String) -> (pointer: UnsafeRawPointer, type: TensorType)? {
        plan.outputs.first { $0.name == name }.map { (UnsafeRawPointer(addresses[$0.slot]), plan.slots[$0.slot].type) }
    }

    public func output(_ name: String) -> (type: TensorType, floats: [Float])? {
        guard let o = plan.outputs.first(where: { $0.name == name }) else { return nil }
        let t = plan.slots[o.slot].type
        return (t, Array(UnsafeBufferPointer(start: addresses[o.slot].assumingMemoryBound(to: Float.self), count: t.elementCount)))
    }
}
