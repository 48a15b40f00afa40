// FusedAdam.swift — the Adam update of one parameter in one pass, for fused
// loops whose body is exactly that update: the same operations in the same
// order as the interpreter, so the same bits, eight lanes at a time in
// vector registers instead of thirteen passes over tile-sized rows.
//
// The body it recognises is what the optimizer lowering emits for Adam
// (GencAutodiff/Optimizer.swift), after fusion, optionally after one add that
// sums two gradient contributions (a weight used twice):
//
//     d  = g − m
//     m' = g − d·(1 − w)        or  m + d·w         (torch.lerp's two forms)
//     v' = v·β2 + (g·g)·(1 − β2)
//     p' = p − s · (m' / (√v' / c + ε))
//
// where s (the step size) and c (√ of the second bias correction) are
// per-step scalars read with stride 0, and the other operands are anything
// the loop can read. IEEE addition and multiplication are commutative bit for
// bit, so the operands of an add or a multiply may come in either order;
// subtraction and division must match exactly. Anything else, or a body
// with sinks or other results, runs on the interpreter.

/// One Adam body, matched: the operand of each role, the constants, and the
/// registers the interpreter would hold m', v', p' (and the summed gradient) in.
struct FusedAdam {
    /// The gradient: a value read, or (`gSum`) register 0, the sum of two.
    var g: FusedProgram.Source
    var gSum: (FusedProgram.Source, FusedProgram.Source)?
    var m: FusedProgram.Source
    var v: FusedProgram.Source
    var p: FusedProgram.Source
    var stepSize: FusedProgram.Source
    var bc2Sqrt: FusedProgram.Source
    /// m' = g − d·lerpFactor (true) or m + d·lerpFactor (false).
    var lerpFromEnd: Bool
    var lerpFactor: Float
    var beta2: Float
    var oneMinusBeta2: Float
    var eps: Float
    /// The registers of the body's values that results store (the sum's only if one does).
    var gRegister: Int?
    var mRegister: Int
    var vRegister: Int
    var pRegister: Int

    /// The match of `body` (and its results), or nil.
    static func match(_ body: [FusedProgram.Instruction], results: [Int], sinks: Int) -> FusedAdam? {
        guard sinks == 0 else { return nil }
        let base: Int
        var gSum: (FusedProgram.Source, FusedProgram.Source)?
        if body.count == 14, case let .binary(.add, a, b) = body[0] {
            base = 1
            gSum = (a, b)
        } else if body.count == 13 {
            base = 0
        } else {
            return nil
        }
        func register(_ s: FusedProgram.Source, _ j: Int) -> Bool {
            if case let .register(r) = s { return r == base + j }
            return false
        }
        func scalar(_ s: FusedProgram.Source) -> Float? {
            if case let .scalar(v) = s { return v }
            return nil
        }
        func same(_ a: FusedProgram.Source, _ b: FusedProgram.Source) -> Bool {
            switch (a, b) {
            case let (.input(x), .input(y)): return x == y
            case let (.register(x), .register(y)): return x == y
            case let (.scalar(x), .scalar(y)): return x.bitPattern == y.bitPattern
            default: return false
            }
        }
        /// The binary op at `j`, its operands (in the interpreter's order).
        func binary(_ j: Int, _ op: BinaryOp) -> (FusedProgram.Source, FusedProgram.Source)? {
            if case let .binary(o, a, b) = body[base + j], o == op { return (a, b) }
            return nil
        }
        /// `j` is `op(register k, x)` or (add, multiply only) `op(x, register k)`: x.
        func other(_ j: Int, _ op: BinaryOp, register k: Int) -> FusedProgram.Source? {
            guard let (a, b) = binary(j, op) else { return nil }
            if register(a, k), !register(b, k) { return b }
            if op == .add || op == .mul, register(b, k), !register(a, k) { return a }
            return nil
        }
        // d = g − m, where g is the sum's register or a value read.
        guard let (g, m) = binary(0, .sub), !isRegister(m) else { return nil }
        if gSum != nil {
            guard case .register(0) = g else { return nil }
        } else if isRegister(g) {
            return nil
        }
        // m' from d·factor
        guard let f = other(1, .mul, register: 0), let factor = scalar(f) else { return nil }
        let lerpFromEnd: Bool
        if let (a, b) = binary(2, .sub), same(a, g), register(b, 1) {
            lerpFromEnd = true
        } else if let mm = other(2, .add, register: 1), same(mm, m) {
            lerpFromEnd = false
        } else {
            return nil
        }
        // v' = v·β2 + (g·g)·(1 − β2)
        guard let (v, beta2) = scalarProduct(body[base + 3]), !isRegister(v) else { return nil }
        guard let (ga, gb) = binary(4, .mul), same(ga, g), same(gb, g) else { return nil }
        guard let c2 = other(5, .mul, register: 4), let oneMinusBeta2 = scalar(c2) else { return nil }
        guard let (x6, y6) = binary(6, .add),
              (register(x6, 3) && register(y6, 5)) || (register(x6, 5) && register(y6, 3)) else { return nil }
        // p' = p − s · (m' / (√v' / c + ε))
        guard case let .unary(.sqrt, s7) = body[base + 7], register(s7, 6) else { return nil }
        guard let (a8, bc2Sqrt) = binary(8, .div), register(a8, 7), !isRegister(bc2Sqrt) else { return nil }
        guard let e9 = other(9, .add, register: 8), let eps = scalar(e9) else { return nil }
        guard let (a10, b10) = binary(10, .div), register(a10, 2), register(b10, 9) else { return nil }
        guard let stepSize = other(11, .mul, register: 10), !isRegister(stepSize) else { return nil }
        guard let (p, b12) = binary(12, .sub), register(b12, 11), !isRegister(p) else { return nil }
        // Results: only the gradient sum, m', v' and p' (the interpreter stores any register).
        for r in results where ![base + 2, base + 6, base + 12].contains(r) && !(gSum != nil && r == 0) { return nil }
        if let (a, b) = gSum, isRegister(a) || isRegister(b) { return nil }
        return FusedAdam(g: g, gSum: gSum, m: m, v: v, p: p, stepSize: stepSize, bc2Sqrt: bc2Sqrt,
                         lerpFromEnd: lerpFromEnd, lerpFactor: factor, beta2: beta2, oneMinusBeta2: oneMinusBeta2, eps: eps,
                         gRegister: gSum != nil && results.contains(0) ? 0 : nil, mRegister: base + 2, vRegister: base + 6, pRegister: base + 12)
    }

    private static func isRegister(_ s: FusedProgram.Source) -> Bool {
        if case .register = s { return true }
        return false
    }

    /// `x · c` or `c · x` with c a constant and x not one: (x, c).
    private static func scalarProduct(_ i: FusedProgram.Instruction) -> (FusedProgram.Source, Float)? {
        guard case let .binary(.mul, a, b) = i else { return nil }
        if case let .scalar(c) = b, !isScalar(a) { return (a, c) }
        if case let .scalar(c) = a, !isScalar(b) { return (b, c) }
        return nil
    }

    private static func isScalar(_ s: FusedProgram.Source) -> Bool {
        if case .scalar = s { return true }
        return false
    }
}

/// An operand of the one-pass loop: a row of the tile, or one value.
private struct Lane {
    var row: UnsafePointer<Float>?
    var value: Float
    @inline(__always) func load(_ i: Int) -> Vec8 {
        if let row { return load8(row + i) }
        return Vec8(repeating: value)
    }
    @inline(__always) func loadTail(_ i: Int, _ count: Int) -> Vec8 {
        guard let row else { return Vec8(repeating: value) }
        var v = Vec8(repeating: 0)
        for j in 0..<count { v[j] = row[i + j] }
        return v
    }
}

/// Computes `n` elements of the matched body into the registers its results
/// store (rows of `tile` floats at `scratch`), reading each operand from
/// its row of the tile (nil: the operand is a constant). The interpreter's
/// operations, in its order.
@inline(__always)
func fusedAdamTile(_ a: FusedAdam, _ n: Int, _ tile: Int, _ scratch: UnsafeMutablePointer<Float>,
                   g: UnsafePointer<Float>?, g1: UnsafePointer<Float>?, m: UnsafePointer<Float>?, v: UnsafePointer<Float>?,
                   p: UnsafePointer<Float>?, stepSize: UnsafePointer<Float>?, bc2Sqrt: UnsafePointer<Float>?) {
    func lane(_ s: FusedProgram.Source, _ row: UnsafePointer<Float>?) -> Lane {
        if case let .scalar(v) = s { return Lane(row: nil, value: v) }
        return Lane(row: row, value: 0)
    }
    let g0 = lane(a.gSum?.0 ?? a.g, g), g1 = a.gSum.map { lane($0.1, g1) }
    let m = lane(a.m, m), v = lane(a.v, v), p = lane(a.p, p), s = lane(a.stepSize, stepSize), c = lane(a.bc2Sqrt, bc2Sqrt)
    let gOut = a.gRegister.map { scratch + $0 * tile }
    let mOut = scratch + a.mRegister * tile, vOut = scratch + a.vRegister * tile, pOut = scratch + a.pRegister * tile
    let factor = Vec8(repeating: a.lerpFactor), beta2 = Vec8(repeating: a.beta2)
    let oneMinusBeta2 = Vec8(repeating: a.oneMinusBeta2), eps = Vec8(repeating: a.eps)
    @inline(__always) func step(_ g: Vec8, _ m: Vec8, _ v: Vec8, _ p: Vec8, _ s: Vec8, _ c: Vec8) -> (Vec8, Vec8, Vec8) {
        let d = g - m
        let m1 = a.lerpFromEnd ? g - d * factor : m + d * factor
        let v1 = v * beta2 + (g * g) * oneMinusBeta2
        let p1 = p - s * (m1 / (vsqrt(v1) / c + eps))
        return (m1, v1, p1)
    }
    var i = 0
    while i + 8 <= n {
        var g = g0.load(i)
        if let g1 { g = g + g1.load(i) }
        if let gOut { store8(g, gOut + i) }
        let (m1, v1, p1) = step(g, m.load(i), v.load(i), p.load(i), s.load(i), c.load(i))
        store8(m1, mOut + i)
        store8(v1, vOut + i)
        store8(p1, pOut + i)
        i += 8
    }
    if i < n {
        let k = n - i
        var g = g0.loadTail(i, k)
        if let g1 { g = g + g1.loadTail(i, k) }
        let (m1, v1, p1) = step(g, m.loadTail(i, k), v.loadTail(i, k), p.loadTail(i, k), s.loadTail(i, k), c.loadTail(i, k))
        for j in 0..<k {
            gOut?[i + j] = g[j]
            mOut[i + j] = m1[j]
            vOut[i + j] = v1[j]
            pOut[i + j] = p1[j]
        }
    }
}
