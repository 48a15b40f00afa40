// FusedLoop.swift — a blocked interpreter for fused elementwise groups.
//
// The loop runs over tiles of `FusedProgram.tile` (512) consecutive elements. For
// each tile every instruction runs over the whole tile into its register (a
// tile-sized scratch row), with one `switch` per instruction per tile: the
// inner loops are the same vectorised loops as the one-op kernels (8 lanes
// through FastMath for exp, log, tanh, sigmoid...). Contiguous inputs are read
// in place; broadcast, sliced and transposed inputs are gathered into a
// register row first. Results are stored after the whole tile is computed,
// so an output may overwrite an input the loop reads at its own index.
//
// Why an interpreter and not generated code: Swift has no JIT, and a
// specialisation per group would have to be compiled ahead of time for
// groups only known once a model is read. At 512 elements a tile the
// per-instruction dispatch is amortised over 64 SIMD steps, and the registers
// (a few KiB each) stay in L1/L2 (docs/passes.md has the measurements).
//
// Reductions the loop ends in (sinks) accumulate each tile into their output
// as the tile is done: a run that reduces (output stride 0) is summed with
// the same 8-lane sum as the one-op reduce kernel, then added to its output
// element; a run that keeps its axis adds element for element.
//
// Tiles are fixed by the element count, never by the thread count, and
// random draws are counter-based (element i of a stream is a function of the
// seed and i), so results are bit-identical on any number of threads. With
// sinks, every output element is accumulated by one worker in tile order:
// the loop is split along its outermost axis when no sink reduces it and
// its slices are whole tiles; otherwise, on several threads, its tiles run
// on all of them keeping the sinks' operands, which one thread then
// accumulates in tile order (`deferringSinks`). So sums are too.


/// One fused loop, bound to its buffers.
public struct FusedProgram {
    public enum Source {
        /// Read `k` (contiguous reads point at the buffer itself).
        case input(Int)
        case register(Int)
        case scalar(Float)
    }

    public enum Instruction {
        case unary(UnaryOp, Source)
        case binary(BinaryOp, Source, Source)
        /// A draw of the stream whose seed is `seeds[k]` at run time.
        case normal(mean: Float, std: Float, seed: Int)
        case uniform(low: Float, high: Float, seed: Int)
        case copy(Source)
        /// 1 where the source's bits, as an Int32 class id, equal the loop's
        /// index modulo `depth` (its index on the last axis), else 0.
        case oneHot(depth: Int, Source)
    }

    /// A reduction of a source over the axes where `strides` is 0, into `out`.
    public struct Sink {
        public enum Function { case sum, mean, max }
        public var function: Function
        public var source: Source
        public var out: UnsafeMutablePointer<Float>
        public var strides: [Int]
        /// Output elements, and loop elements per output element.
        public var outCount: Int
        public var reducedCount: Int
        var runShape: [Int] = []
        var runStrides: [Int] = []
        public init(function: Function, source: Source, out: UnsafeMutablePointer<Float>, strides: [Int], shape: [Int]) {
            self.function = function
            self.source = source
            self.out = out
            self.strides = strides
            outCount = shape.indices.reduce(1) { strides[$1] == 0 ? $0 : $0 * shape[$1] }
            reducedCount = shape.indices.reduce(1) { strides[$1] == 0 ? $0 * shape[$1] : $0 }
            (runShape, runStrides) = collapsedRuns(shape, strides)
        }
    }

    /// How element `index` of the loop reads its input: `base[offset + Σ index[a]·strides[a]]`.
    public struct Read {
        public var base: UnsafePointer<Float>
        public var offset: Int
        public var strides: [Int]
        /// The loop's shape and these strides with axes merged where the
        /// read runs on unbroken (inner·stride = outer stride, or both 0):
        /// the same element for the same flat index, in longer runs.
        var runShape: [Int] = []
        var runStrides: [Int] = []
        public init(base: UnsafePointer<Float>, offset: Int, strides: [Int]) {
            self.base = base
            self.offset = offset
            self.strides = strides
        }

        mutating func collapse(over shape: [Int]) {
            (runShape, runStrides) = collapsedRuns(shape, strides)
        }
    }

    /// Elements per tile, unless a sink's reduced rows need another length.
    public static let tile = 512
    /// The longest tile a sink's rows may ask for.
    public static let maxTile = 4096

    /// The tile of a loop over `shape` whose sinks have output strides
    /// `sinkStrides`: a multiple of every reduced innermost row (up to
    /// `maxTile`), so that each row is summed whole, with the same 8-lane
    /// sum and in the same order as the one-op reduce kernel: a fused
    /// reduction gives the very bits the unfused one does.
    public static func tileLength(shape: [Int], sinkStrides: [[Int]]) -> Int {
        var rows = 1
        for st in sinkStrides where st.count == shape.count {
            let (sh, s) = collapsedRuns(shape, st)
            guard s.last == 0, let r = sh.last, r > 1 else { continue }
            var (a, b) = (rows, r)
            while b != 0 { (a, b) = (b, a % b) }
            rows = rows / a * r
            if rows > maxTile { return tile }
        }
        return rows <= tile ? tile / rows * rows : rows
    }

    public let shape: [Int]
    public let count: Int
    public let reads: [Read]
    /// Whether read k is the loop's own index (read in place).
    var contiguous: [Bool]
    /// The scratch row of each non-contiguous read, after the registers.
    var gatherRow: [Int]
    /// Scratch floats one worker needs: a row per register and per gathered
    /// read. Stored, not derived on each run: a run must not allocate.
    public let rowsPerWorker: Int
    public let body: [Instruction]
    /// The body, when it is exactly an Adam update: run in one pass (FusedAdam.swift).
    let adam: FusedAdam?
    public let results: [(register: Int, out: UnsafeMutablePointer<Float>)]
    public let sinks: [Sink]
    public let tile: Int
    /// Tiles run in order by one worker: all of them, or (with sinks) one
    /// slice of the outermost axis that no sink reduces.
    var tilesPerUnit: Int
    /// The reads' and sinks' run layouts, for the per-tile code.
    let runs: FusedRunStorage

    public init(shape: [Int], reads: [Read], body: [Instruction], results: [(register: Int, out: UnsafeMutablePointer<Float>)],
                sinks: [Sink] = []) {
        self.shape = shape
        count = shape.reduce(1, *)
        self.reads = reads.map { r in
            var r = r
            r.collapse(over: shape)
            return r
        }
        self.body = body
        self.results = results
        self.sinks = sinks
        adam = FusedAdam.match(body, results: results.map(\.register), sinks: sinks.count)
        let tile = Self.tileLength(shape: shape, sinkStrides: sinks.map(\.strides))
        self.tile = tile
        let tiles = (count + tile - 1) / tile
        tilesPerUnit = 1
        if !sinks.isEmpty {
            tilesPerUnit = max(tiles, 1)
            if let outer = shape.firstIndex(where: { $0 > 1 }), sinks.allSatisfy({ $0.strides[outer] != 0 }) {
                let slice = count / shape[outer]
                if slice % tile == 0 { tilesPerUnit = slice / tile }
            }
        }
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for a in shape.indices.reversed() { strides[a] = acc; acc *= shape[a] }
        contiguous = reads.map { r in r.offset == 0 && shape.indices.allSatisfy { shape[$0] <= 1 || r.strides[$0] == strides[$0] } }
        var row = body.count
        gatherRow = contiguous.map { c in
            if c { return -1 }
            defer { row += 1 }
            return row
        }
        rowsPerWorker = row
        runs = FusedRunStorage(reads: self.reads, gatherRow: gatherRow, sinks: sinks)
    }

    public func scratchCount(threads: Int) -> Int {
        deferringSinks(threads) ? rowsPerWorker * tile * threads + sinks.count * count : rowsPerWorker * tile * max(1, workers(threads))
    }

    var units: Int { ((count + tile - 1) / tile + tilesPerUnit - 1) / tilesPerUnit }

    /// Whether, on `threads`, the loop runs in two phases: every tile's
    /// body on all threads, keeping each sink's operand whole (after the
    /// registers), then the sinks accumulated from it tile by tile in
    /// order on one thread — the order a single thread uses, so the same
    /// bits. For a loop whose sinks reduce its outermost axis (a loss, a
    /// bias gradient, batchnorm's statistics), which cannot be split into
    /// independent slices and would otherwise run on one thread.
    func deferringSinks(_ threads: Int) -> Bool {
        guard threads > 1, !sinks.isEmpty, units == 1, count >= 2 * tile else { return false }
        return work >= 2 * parallelThreshold
    }

    /// Element-instructions of a run: elements × (instructions, reads and
    /// stored results per element), saturating.
    var work: Int {
        let (w, overflow) = count.multipliedReportingOverflow(by: max(body.count + reads.count + results.count, 1))
        return overflow ? .max : w
    }

    /// Workers for `threads`: a loop fans out when its element-instructions
    /// (elements × what each element does: instructions, gathered reads,
    /// stored results) reach `parallelThreshold`, so a long body over a
    /// small tensor (an LSTM cell: 30 per element over [32, 256]) is split
    /// too. Which tiles a worker takes never changes what they compute.
    func workers(_ threads: Int) -> Int {
        work >= parallelThreshold ? max(1, min(threads, units)) : 1
    }
}

/// `shape` and `strides` with axes merged where the flat index runs on
/// unbroken (inner·stride = outer stride, or both 0), extent-1 axes dropped.
func collapsedRuns(_ shape: [Int], _ strides: [Int]) -> (shape: [Int], strides: [Int]) {
    var sh: [Int] = [], st: [Int] = []
    for a in shape.indices.reversed() where shape[a] != 1 {
        if let inner = sh.first, let s = st.first, strides[a] == s * inner {
            sh[0] *= shape[a]
        } else {
            sh.insert(shape[a], at: 0)
            st.insert(strides[a], at: 0)
        }
    }
    if sh.isEmpty { (sh, st) = ([1], [0]) }
    return (sh, st)
}

/// A collapsed run layout (`collapsedRuns`) as plain pointers into storage
/// the program owns: copying it retains nothing, so the per-tile code
/// (gather, sinks) does no reference counting.
struct RunView {
    let shape: UnsafePointer<Int>
    let strides: UnsafePointer<Int>
    let rank: Int
    let offset: Int
    /// For a read: its buffer, and its scratch row when gathered (-1: read in place).
    let base: UnsafePointer<Float>?
    let gatherRow: Int
}

/// Owns the run layouts of one program's reads and sinks.
final class FusedRunStorage: @unchecked Sendable {
    let ints: UnsafeMutablePointer<Int>
    let reads: UnsafeMutablePointer<RunView>
    let sinks: UnsafeMutablePointer<RunView>

    init(reads: [FusedProgram.Read], gatherRow: [Int], sinks: [FusedProgram.Sink]) {
        let layouts = reads.map { ($0.runShape, $0.runStrides, $0.offset) } + sinks.map { ($0.runShape, $0.runStrides, 0) }
        ints = .allocate(capacity: max(1, layouts.reduce(0) { $0 + 2 * $1.0.count }))
        self.reads = .allocate(capacity: max(1, reads.count))
        self.sinks = .allocate(capacity: max(1, sinks.count))
        var at = 0
        for (k, (shape, strides, offset)) in layouts.enumerated() {
            (ints + at).initialize(from: shape, count: shape.count)
            (ints + at + shape.count).initialize(from: strides, count: strides.count)
            let isRead = k < reads.count
            let view = RunView(shape: UnsafePointer(ints + at), strides: UnsafePointer(ints + at + shape.count), rank: shape.count,
                               offset: offset, base: isRead ? reads[k].base : nil, gatherRow: isRead ? gatherRow[k] : -1)
            if k < reads.count { (self.reads + k).initialize(to: view) } else { (self.sinks + k - reads.count).initialize(to: view) }
            at += 2 * shape.count
        }
    }

    deinit {
        ints.deallocate()
        reads.deallocate()
        sinks.deallocate()
    }
}

/// Runs `p` over all its elements. `seeds[k]` is the seed of random stream
/// k this run; `scratch` holds `p.scratchCount(threads:)` floats. Returns
/// how many class ids its one_hot instructions found outside 0..<depth
/// (their rows are all 0, as the one-op kernel makes them).
@discardableResult
public func runFused(_ p: FusedProgram, seeds: UnsafePointer<UInt64>, scratch: UnsafeMutablePointer<Float>, threads: Int) -> Int {
    let tiles = (p.count + p.tile - 1) / p.tile
    let workers = p.workers(threads)
    let rows = p.rowsPerWorker * p.tile
    for s in p.sinks { s.out.update(repeating: s.function == .max ? -.infinity : 0, count: s.outCount) }
    var bad = 0
    if p.deferringSinks(threads) {
        let operands = scratch + rows * threads
        withUnsafeTemporaryAllocation(of: Int.self, capacity: threads) { counts in
            counts.initialize(repeating: 0)
            WorkerPool.shared.run(threads, FusedTiles(
                program: p, seeds: seeds, scratch: scratch, rows: rows, tiles: tiles, workers: threads,
                counts: counts.baseAddress!, sinkOperands: operands))
            bad = counts.reduce(0, +)
        }
        for t in 0..<tiles {
            let start = t * p.tile, n = min(p.tile, p.count - start)
            for j in 0..<p.sinks.count {
                accumulate(p.sinks[j].out, p.sinks[j].function == .max, p.runs.sinks[j], operands + j * p.count + start, start: start, count: n)
            }
        }
    } else if workers <= 1 {
        for t in 0..<tiles { bad += fusedTile(p, t, seeds, scratch) }
    } else {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: workers) { counts in
            counts.initialize(repeating: 0)
            WorkerPool.shared.run(workers, FusedTiles(
                program: p, seeds: seeds, scratch: scratch, rows: rows, tiles: tiles, workers: workers,
                counts: counts.baseAddress!))
            bad = counts.reduce(0, +)
        }
    }
    // A mean of nothing is NaN (0 · ∞), as the one-op kernel gives.
    for s in p.sinks where s.function == .mean {
        let scale = 1 / Float(s.reducedCount)
        for i in 0..<s.outCount { s.out[i] *= scale }
    }
    return bad
}

/// Worker w's run of whole units of tiles, in its own scratch rows; it
/// counts its out-of-range class ids into counts[w]. With `sinkOperands`
/// (two-phase sinks) every tile is a unit, and the tiles keep their sinks'
/// operands there instead of accumulating them.
private struct FusedTiles: ParallelTasks {
    let program: FusedProgram, seeds: UnsafePointer<UInt64>, scratch: UnsafeMutablePointer<Float>
    let rows: Int, tiles: Int, workers: Int, counts: UnsafeMutablePointer<Int>
    var sinkOperands: UnsafeMutablePointer<Float>? = nil

    func run(task w: Int) {
        let (units, per) = sinkOperands == nil ? (program.units, program.tilesPerUnit) : (tiles, 1)
        let first = units * w / workers * per, last = min(tiles, units * (w + 1) / workers * per)
        let mine = scratch + w * rows
        var n = 0
        var none = -1
        for t in first..<last { n += fusedTile(program, t, seeds, mine, checkBelow: &none, sinkOperands: sinkOperands) }
        counts[w] = n
    }
}

/// The first instruction of `p`'s body, in body order, whose value is NaN
/// or ±∞ at some element of the loop, or nil when every one is finite
/// everywhere. It computes the body tile by tile on one thread, exactly as
/// `runFused` does, but stores nothing: no result, no sink, so it can run
/// before the loop itself even when an output overwrites an input
/// (`genc run --check-numerics` names the op inside a fused group this way).
public func firstNonFiniteInstruction(_ p: FusedProgram, seeds: UnsafePointer<UInt64>, scratch: UnsafeMutablePointer<Float>) -> Int? {
    var first = p.body.count
    let tiles = (p.count + p.tile - 1) / p.tile
    for t in 0..<tiles where first > 0 {
        _ = fusedTile(p, t, seeds, scratch, checkBelow: &first)
    }
    return first < p.body.count ? first : nil
}

/// Runs tile `t`; returns the out-of-range class ids it met (each counted at its class 0).
private func fusedTile(_ p: FusedProgram, _ t: Int, _ seeds: UnsafePointer<UInt64>, _ scratch: UnsafeMutablePointer<Float>) -> Int {
    var none = -1
    return fusedTile(p, t, seeds, scratch, checkBelow: &none)
}

/// Tile `t`. With `checkBelow` ≥ 0 it computes only instructions below it,
/// lowers it to the first one with a non-finite element, and stores nothing.
/// With `sinkOperands` it stores each sink's operand for the tile at
/// `sinkOperands + j·count + start` instead of accumulating it.
@inline(__always)
private func fusedTile(_ p: FusedProgram, _ t: Int, _ seeds: UnsafePointer<UInt64>, _ scratch: UnsafeMutablePointer<Float>,
                       checkBelow: inout Int, sinkOperands: UnsafeMutablePointer<Float>? = nil) -> Int {
    let checking = checkBelow >= 0
    var bad = 0
    let tile = p.tile
    let start = t * tile
    let n = min(tile, p.count - start)
    // Plain pointers only from here on: a closure over `p` would copy it,
    // retaining its arrays, on every call.
    let reads = UnsafePointer(p.runs.reads), readCount = p.reads.count
    for k in 0..<readCount where reads[k].gatherRow >= 0 {
        gather(reads[k].base!, reads[k], start: start, count: n, into: scratch + reads[k].gatherRow * tile)
    }
    @inline(__always) func pointer(_ s: FusedProgram.Source) -> UnsafePointer<Float>? {
        switch s {
        case let .input(k): return reads[k].gatherRow < 0 ? reads[k].base! + start : UnsafePointer(scratch + reads[k].gatherRow * tile)
        case let .register(r): return UnsafePointer(scratch + r * tile)
        case .scalar: return nil
        }
    }
    if !checking, let a = p.adam {
        var g = pointer(a.g), g1: UnsafePointer<Float>? = nil
        if let (first, second) = a.gSum { g = pointer(first); g1 = pointer(second) }
        fusedAdamTile(a, n, tile, scratch, g: g, g1: g1, m: pointer(a.m), v: pointer(a.v),
                      p: pointer(a.p), stepSize: pointer(a.stepSize), bc2Sqrt: pointer(a.bc2Sqrt))
    } else {
        bad = interpretTile(p, start, n, seeds, scratch, pointer, checkBelow: &checkBelow)
        if checking { return bad }
    }
    for r in p.results { (r.out + start).update(from: scratch + r.register * tile, count: n) }
    if let keep = sinkOperands {
        for j in 0..<p.sinks.count {
            let dst = keep + j * p.count + start
            if let x = pointer(p.sinks[j].source) { dst.update(from: x, count: n) } else { dst.update(repeating: scalar(p.sinks[j].source), count: n) }
        }
        return bad
    }
    for j in 0..<p.sinks.count {
        let source = p.sinks[j].source, out = p.sinks[j].out, isMax = p.sinks[j].function == .max
        if let x = pointer(source) {
            accumulate(out, isMax, p.runs.sinks[j], x, start: start, count: n)
        } else if case let .scalar(v) = source {
            // Not made by the planner (the verifier refuses it); on the stack, never allocated.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { b in
                b.initialize(repeating: v)
                accumulate(out, isMax, p.runs.sinks[j], UnsafePointer(b.baseAddress!), start: start, count: n)
            }
        }
    }
    return bad
}

/// The body over one tile of `n` elements from `start`, instruction by
/// instruction into its registers. With `checkBelow` ≥ 0 (checking) it
/// computes only instructions below it and lowers it to the first one with
/// a non-finite element. Returns the out-of-range class ids it met.
@inline(__always)
private func interpretTile(_ p: FusedProgram, _ start: Int, _ n: Int, _ seeds: UnsafePointer<UInt64>,
                           _ scratch: UnsafeMutablePointer<Float>, _ pointer: (FusedProgram.Source) -> UnsafePointer<Float>?,
                           checkBelow: inout Int) -> Int {
    let checking = checkBelow >= 0
    let tile = p.tile
    var bad = 0
    for (j, ins) in p.body.enumerated() {
        if checking, j > 0, j <= checkBelow, !allFinite(scratch + (j - 1) * tile, n) { checkBelow = j - 1 }
        if checking, j >= checkBelow { return bad }
        let y = scratch + j * tile
        switch ins {
        case let .unary(op, s):
            if let x = pointer(s) { unaryBlock(op, x, y, n) } else if case let .scalar(v) = s {
                var x = v, one: Float = 0
                unaryBlock(op, &x, &one, 1)
                y.update(repeating: one, count: n)
            }
        case let .binary(op, a, b):
            binaryTile(op, a, b, pointer(a), pointer(b), y, n)
        case let .normal(mean, std, seed):
            fillNormal(y, count: n, seed: seeds[seed], offset: UInt64(start), mean: mean, std: std, threads: 1)
        case let .uniform(low, high, seed):
            fillUniform(y, count: n, seed: seeds[seed], offset: UInt64(start), low: low, high: high, threads: 1)
        case let .copy(s):
            if let x = pointer(s) { y.update(from: x, count: n) } else if case let .scalar(v) = s { y.update(repeating: v, count: n) }
        case let .oneHot(depth, s):
            guard let x = pointer(s) else { y.update(repeating: 0, count: n); continue }
            var c = start % depth
            for i in 0..<n {
                let id = Int(Int32(bitPattern: x[i].bitPattern))
                y[i] = id == c ? 1 : 0
                if c == 0, id < 0 || id >= depth { bad += 1 }
                c += 1
                if c == depth { c = 0 }
            }
        }
    }
    if checking {
        let last = p.body.count - 1
        if last >= 0, last < checkBelow, !allFinite(scratch + last * tile, n) { checkBelow = last }
    }
    return bad
}

/// Whether `x[0..<n]` holds no NaN and no ±∞.
private func allFinite(_ x: UnsafePointer<Float>, _ n: Int) -> Bool {
    firstNonFinite(x, n) == nil
}

/// The index of the first NaN or ±∞ in `x[0..<n]`, or nil: a vectorisable
/// scan for an exponent of all ones (the runtime's `--check-numerics`).
public func firstNonFinite(_ x: UnsafePointer<Float>, _ n: Int) -> Int? {
    let bits = UnsafeRawPointer(x).assumingMemoryBound(to: UInt32.self)
    var i = 0
    while i < n {
        let end = min(n, i + 1024)
        var any: UInt32 = 0
        for k in i..<end { any |= (bits[k] & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0 }
        if any != 0 {
            for k in i..<end where (bits[k] & 0x7F80_0000) == 0x7F80_0000 { return k }
        }
        i = end
    }
    return nil
}

/// Adds (or takes the max of) loop elements `start ..< start + count`, at `x`, into a sink's output `out`.
@inline(__always)
private func accumulate(_ out: UnsafeMutablePointer<Float>, _ isMax: Bool, _ runs: RunView, _ x: UnsafePointer<Float>, start: Int, count: Int) {
    let st = runs.strides[runs.rank - 1]
    forEachRun(runs, start: start, count: count) { done, at, run in
        let src = x + done, dst = out + at
        if st == 0 {
            if isMax { let m = max8(src, run); if m > dst[0] { dst[0] = m } } else { dst[0] += sum8(src, run) }
        } else if isMax {
            for i in 0..<run where src[i] > dst[i * st] { dst[i * st] = src[i] }
        } else if st == 1 {
            for i in 0..<run { dst[i] += src[i] }
        } else {
            for i in 0..<run { dst[i * st] += src[i] }
        }
    }
}

@inline(__always)
private func scalar(_ s: FusedProgram.Source) -> Float {
    if case let .scalar(v) = s { return v }
    return 0
}

private func binaryTile(_ op: BinaryOp, _ a: FusedProgram.Source, _ b: FusedProgram.Source,
                        _ pa: UnsafePointer<Float>?, _ pb: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    switch op {
    case .add: binaryLoop(AddF.self, a, b, pa, pb, y, n)
    case .sub: binaryLoop(SubF.self, a, b, pa, pb, y, n)
    case .mul: binaryLoop(MulF.self, a, b, pa, pb, y, n)
    case .div: binaryLoop(DivF.self, a, b, pa, pb, y, n)
    case .pow: binaryLoop(PowF.self, a, b, pa, pb, y, n)
    case .max: binaryLoop(MaxF.self, a, b, pa, pb, y, n)
    case .min: binaryLoop(MinF.self, a, b, pa, pb, y, n)
    case .greater: binaryLoop(GreaterF.self, a, b, pa, pb, y, n)
    }
}

@inline(__always)
private func binaryLoop<F: BinaryFunction>(_: F.Type, _ a: FusedProgram.Source, _ b: FusedProgram.Source,
                                           _ pa: UnsafePointer<Float>?, _ pb: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    switch (pa, pb) {
    case let (x?, z?): for i in 0..<n { y[i] = F.apply(x[i], z[i]) }
    case let (x?, nil): let v = scalar(b); for i in 0..<n { y[i] = F.apply(x[i], v) }
    case let (nil, z?): let u = scalar(a); for i in 0..<n { y[i] = F.apply(u, z[i]) }
    case (nil, nil): y.update(repeating: F.apply(scalar(a), scalar(b)), count: n)
    }
}

/// Elements `start ..< start + count` of the loop, read from `base` through `runs`.
@inline(__always)
private func gather(_ base: UnsafePointer<Float>, _ runs: RunView, start: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
    let s = runs.strides[runs.rank - 1]
    forEachRun(runs, start: start, count: count) { done, at, run in
        let src = base + at, dst = out + done
        if s == 1 {
            dst.update(from: src, count: run)
        } else if s == 0 {
            let v = src[0]
            for i in 0..<run { dst[i] = v }
        } else {
            for i in 0..<run { dst[i] = src[i * s] }
        }
    }
}

/// Calls `body(done, at, run)` for the runs along the innermost axis of
/// `shape` that cover flat elements `start ..< start + count`: `run`
/// elements from the `done`-th, at element `at` of `offset + Σ index·strides`.
@inline(__always)
private func forEachRun(_ runs: RunView, start: Int, count: Int, _ body: (Int, Int, Int) -> Void) {
    let (shape, strides, rank, offset) = (runs.shape, runs.strides, runs.rank, runs.offset)
    // The multi-index of `start` (on the stack: no allocation per tile).
    withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { index in
        var rest = start
        var at = offset
        for a in (0..<rank).reversed() {
            let e = max(shape[a], 1)
            index[a] = rest % e
            rest /= e
            at += index[a] * strides[a]
        }
        let inner = shape[rank - 1], s = strides[rank - 1]
        var done = 0
        while done < count {
            let run = min(inner - index[rank - 1], count - done)
            body(done, at, run)
            done += run
            at += run * s
            index[rank - 1] += run
            // Carry into the outer axes.
            var a = rank - 1
            while a > 0, index[a] >= shape[a] {
                at -= index[a] * strides[a]
                index[a] = 0
                a -= 1
                index[a] += 1
                at += strides[a]
            }
        }
    }
}
