// FastMath.swift — vectorised exp, log, log1p, sqrt, tanh, sigmoid and
// sin/cos of 2πu on SIMD8<Float>, and the row helpers (map, sum, max) the
// kernels build on.
//
// libm's expf/logf/tanhf are scalar calls; these are branch-free polynomials
// in 8 lanes (one ymm register: GencKernels is built for Haswell), evaluated
// with fused multiply-adds, within a few ulp of libm (tested in
// FastMathTests). Swift's SIMD operators reach LLVM as per-lane code that
// the SLP vectoriser regroups, so a few patterns are avoided because they
// came out scalar when measured: SIMD→integer conversions (a magic-number
// add rounds instead, which also keeps NaN from trapping), comparisons of
// Int32 lanes (bit masks instead), `squareRoot()` (libm's errno path;
// `vsqrt` uses the vsqrtps intrinsic), and `p * m + c` chains inside `vlog`
// (the FMA intrinsic instead). The functions are `@_transparent`: with
// `@inline(__always)` the optimiser still left vexp, vlog and vtanh as a call
// per 8 lanes inside the row loops, spilling the vector around each call.
// Results per element do not depend on the element's position (the tail is
// padded, not computed differently).

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

typealias Vec8 = SIMD8<Float>

/// The bits of 1.5·2^23 (12_582_912), the magic number whose addition rounds
/// to an integer: a literal, because `Float.bitPattern` inside a
/// transparent function stayed a call per use.
let magicBits: Int32 = 0x4B40_0000

// MARK: - exp

/// e^x per lane (Cephes expf): x = n·ln2 + r, |r| <= ln2/2, e^r by a
/// degree-6 polynomial, then scaled by 2^n in two steps so that results
/// that are subnormal, 0 or +inf come out right.
@_transparent
func vexp(_ x: Vec8) -> Vec8 {
    var x = x
    x.replace(with: 88.8, where: x .> 88.8)
    x.replace(with: -104, where: x .< -104)
    let magic: Float = 12_582_912  // 1.5·2^23: adding it rounds to an integer
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    let r = fma8(n, Vec8(repeating: 2.121_944_4e-4), fma8(n, Vec8(repeating: -0.693_359_375), x))
    var p = Vec8(repeating: 1.987_569_15e-4)
    p = fma8(p, r, Vec8(repeating: 1.398_199_95e-3))
    p = fma8(p, r, Vec8(repeating: 8.333_451_9e-3))
    p = fma8(p, r, Vec8(repeating: 4.166_579_59e-2))
    p = fma8(p, r, Vec8(repeating: 1.666_666_55e-1))
    p = fma8(p, r, Vec8(repeating: 5.000_000_12e-1))
    p = fma8(p, r * r, r) + 1
    let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- magicBits
    let n1 = ni &>> 1
    let n2 = ni &- n1
    let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: Vec8.self)
    let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: Vec8.self)
    return p * s1 * s2
}

// MARK: - log

/// ln(x) per lane: x = (1 + f)·2^k with 1 + f in [√½, √2) by integer
/// arithmetic on the bits (as musl's logf, no selects), then ln(1 + f) by
/// Cephes logf's degree-9 polynomial. Subnormals are scaled up first;
/// 0 → −inf, negative → NaN, +inf → +inf, NaN → NaN.
@_transparent
func vlog(_ x: Vec8) -> Vec8 {
    let tiny = x .< Float.leastNormalMagnitude
    var xs = x
    xs.replace(with: x * 8_388_608, where: tiny)  // 2^23
    var k = SIMD8<Int32>(repeating: 0)
    k.replace(with: -23, where: tiny)
    var ix = unsafeBitCast(xs, to: SIMD8<Int32>.self) &+ (0x3f80_0000 - 0x3f35_04f3)
    k &+= (ix &>> 23) &- 0x7f
    ix = (ix & 0x007f_ffff) &+ 0x3f35_04f3
    let m = unsafeBitCast(ix, to: Vec8.self) - 1
    let ef = intToFloat(k)
    let z = m * m
    let p = logPolynomial(m)
    var y = p * m * z
    y += ef * -2.121_944_40e-4
    y -= 0.5 * z
    var r = m + y + ef * 0.693_359_375
    r.replace(with: .infinity, where: x .== .infinity)
    r.replace(with: -.infinity, where: x .== 0)
    r.replace(with: .nan, where: x .< 0 .| x .!= x)
    return r
}

/// Cephes logf's polynomial P(m), ln(1 + m) ≈ m − m²/2 + m³·P(m), by
/// Horner's rule in fused multiply-adds (the intrinsic keeps the chain in
/// vector registers: written as `p * m + c`, LLVM's SLP vectoriser split it
/// into scalar lanes inside vlog, 3× slower).
@_transparent
func logPolynomial(_ m: Vec8) -> Vec8 {
    var p = Vec8(repeating: 7.037_683_629_2e-2)
    p = fma8(p, m, Vec8(repeating: -1.151_461_031_0e-1))
    p = fma8(p, m, Vec8(repeating: 1.167_699_874_0e-1))
    p = fma8(p, m, Vec8(repeating: -1.242_014_084_6e-1))
    p = fma8(p, m, Vec8(repeating: 1.424_932_278_7e-1))
    p = fma8(p, m, Vec8(repeating: -1.666_805_766_5e-1))
    p = fma8(p, m, Vec8(repeating: 2.000_071_476_5e-1))
    p = fma8(p, m, Vec8(repeating: -2.499_999_399_3e-1))
    p = fma8(p, m, Vec8(repeating: 3.333_333_117_4e-1))
    return p
}

/// a·b + c per lane, rounded once (vfmadd231ps: GencKernels is built for
/// Haswell, which has FMA; elsewhere Swift's fused `addingProduct`).
@_transparent
func fma8(_ a: Vec8, _ b: Vec8, _ c: Vec8) -> Vec8 {
    #if arch(x86_64)
    return _mm256_fmadd_ps(a, b, c)
    #else
    return c.addingProduct(a, b)
    #endif
}

/// ln(1 + u) per lane, accurate for tiny u: ln(w)·u/(w − 1) with w = 1 + u
/// (Goldberg's trick), u itself where w rounds to 1.
@_transparent
func vlog1p(_ u: Vec8) -> Vec8 {
    let w = 1 + u
    var r = vlog(w) * (u / (w - 1))
    r.replace(with: u, where: w .== 1)
    r.replace(with: .infinity, where: u .== .infinity)
    return r
}

// MARK: - sin, cos

/// (sin 2πu, cos 2πu) per lane, for |u| up to about 2^20: u is cut into a
/// quarter turn q/4 plus |f| <= 1/8, and 2πf goes through Cephes's
/// sinf/cosf polynomials.
@inline(__always)
func vsincos2pi(_ u: Vec8) -> (sin: Vec8, cos: Vec8) {
    let magic: Float = 12_582_912
    let t = u * 4 + magic
    let q = unsafeBitCast(t, to: SIMD8<Int32>.self) &- magicBits
    let a = (u - (t - magic) * 0.25) * (2 * Float.pi)
    let z = a * a
    var s = Vec8(repeating: -1.951_529_589_1e-4)
    s = s * z + 8.332_160_873_6e-3
    s = s * z - 1.666_665_461_1e-1
    s = s * z * a + a
    var c = Vec8(repeating: 2.443_315_711_809_948e-5)
    c = c * z - 1.388_731_625_493_765e-3
    c = c * z + 4.166_664_568_298_827e-2
    c = c * z * z - 0.5 * z + 1
    // Quarter turns: odd q swaps sin and cos; the signs follow bit 1 of q
    // (sin) and of q + 1 (cos). Done with integer bit operations: SIMD
    // comparisons of Int32 lanes are not vectorised.
    let swap = 0 &- (q & 1)  // all ones where q is odd
    let sBits = unsafeBitCast(s, to: SIMD8<Int32>.self)
    let cBits = unsafeBitCast(c, to: SIMD8<Int32>.self)
    let sinBits = ((cBits & swap) | (sBits & ~swap)) ^ ((q & 2) &<< 30)
    let cosBits = ((sBits & swap) | (cBits & ~swap)) ^ (((q &+ 1) & 2) &<< 30)
    let (sinR, cosR) = (unsafeBitCast(sinBits, to: Vec8.self), unsafeBitCast(cosBits, to: Vec8.self))
    return (sinR, cosR)
}

// MARK: - tanh, sigmoid

/// tanh(x) per lane: an odd polynomial for |x| < 0.625 (Cephes tanhf),
/// else 1 − 2/(e^{2|x|} + 1) with x's sign.
@_transparent
func vtanh(_ x: Vec8) -> Vec8 {
    var ax = x
    ax.replace(with: -x, where: x .< 0)
    ax.replace(with: 10, where: ax .> 10)  // tanh(10) rounds to 1
    var big = 1 - 2 / (vexp(ax + ax) + 1)
    big.replace(with: -big, where: x .< 0)
    let z = x * x
    var p = Vec8(repeating: -5.704_988_72e-3)
    p = fma8(p, z, Vec8(repeating: 2.063_908_88e-2))
    p = fma8(p, z, Vec8(repeating: -5.373_971_55e-2))
    p = fma8(p, z, Vec8(repeating: 1.333_144_22e-1))
    p = fma8(p, z, Vec8(repeating: -3.333_328_19e-1))
    var result = fma8(p * z, x, x)
    result.replace(with: big, where: ax .>= 0.625)
    return result
}

/// log(1 + e^x) per lane, as max(x, 0) + log1p(e^{−|x|}).
@_transparent
func vsoftplus(_ v: Vec8) -> Vec8 {
    var pos = v, neg = v
    pos.replace(with: 0, where: v .< 0)
    neg.replace(with: -v, where: v .> 0)  // −|v|
    return pos + vlog1p(vexp(neg))
}

/// 1 / (1 + e^{−x}) per lane.
@_transparent
func vsigmoid(_ x: Vec8) -> Vec8 {
    1 / (1 + vexp(-x))
}

/// √x per lane, correctly rounded: the hardware square root (`vsqrtps`,
/// 8 lanes). Float's `squareRoot()` on Linux keeps libm's errno path
/// (sqrtss plus a call), which blocks vectorisation, so the instruction is
/// reached through its intrinsic. Negative → NaN, +inf → +inf, ±0 → ±0.
/// Elsewhere than x86-64 (this package builds GencKernels for Haswell, so
/// only as a fallback) it is a Newton iteration within about 1 ulp.
@inline(__always)
func vsqrt(_ x: Vec8) -> Vec8 {
    #if arch(x86_64)
    return _mm256_sqrt_ps(x)
    #else
    let tiny = x .< Float.leastNormalMagnitude
    var xs = x
    xs.replace(with: x * 16_777_216, where: tiny)  // 2^24
    let bits = unsafeBitCast(xs, to: SIMD8<Int32>.self)
    var y = unsafeBitCast(0x5f37_59df &- (bits &>> 1), to: Vec8.self)
    let half = 0.5 * xs
    y = y * (1.5 - half * y * y)
    y = y * (1.5 - half * y * y)
    var s = xs * y
    s += 0.5 * y * (xs - s * s)
    s.replace(with: s * 2.441_406_25e-4, where: tiny)  // 2^-12
    s.replace(with: .infinity, where: x .== .infinity)
    s.replace(with: .nan, where: x .< 0)
    return s
    #endif
}

/// Float(e) per lane for |e| < 2^22, through the magic-number add (no SIMD conversion).
@inline(__always)
func intToFloat(_ e: SIMD8<Int32>) -> Vec8 {
    let magic: Float = 12_582_912
    return unsafeBitCast(e &+ magicBits, to: Vec8.self) - magic
}

// MARK: - Row helpers

/// y[i] = f(x[i]) for i in 0..<count, 8 lanes at a time; x and y may be the same buffer.
@inline(__always)
func map8(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
    _ f: (Vec8) -> Vec8
) {
    var i = 0
    // Two vectors a step: their chains are independent, so they overlap.
    while i + 16 <= count {
        let a = f(load8(x + i)), b = f(load8(x + i + 8))
        store8(a, y + i)
        store8(b, y + i + 8)
        i += 16
    }
    while i + 8 <= count {
        store8(f(load8(x + i)), y + i)
        i += 8
    }
    if i < count {
        var v = Vec8(repeating: 0)
        for j in 0..<(count - i) { v[j] = x[i + j] }
        let r = f(v)
        for j in 0..<(count - i) { y[i + j] = r[j] }
    }
}

/// Σ x[i], in 8 lanes then across them.
@inline(__always)
func sum8(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc0 = Vec8(repeating: 0), acc1 = Vec8(repeating: 0)
    var i = 0
    while i + 16 <= count {
        acc0 += load8(x + i)
        acc1 += load8(x + i + 8)
        i += 16
    }
    var s = (acc0 + acc1).sum()
    while i < count { s += x[i]; i += 1 }
    return s
}

/// max x[i] (−inf for an empty row).
@inline(__always)
func max8(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = Vec8(repeating: -.infinity)
    var i = 0
    while i + 8 <= count {
        let v = load8(x + i)
        acc.replace(with: v, where: v .> acc)
        i += 8
    }
    var m = acc.max()
    while i < count { if x[i] > m { m = x[i] }; i += 1 }
    return m
}

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Vec8 {
    UnsafeRawPointer(p).loadUnaligned(as: Vec8.self)
}

@inline(__always)
func store8(_ v: Vec8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec8.self)
}
