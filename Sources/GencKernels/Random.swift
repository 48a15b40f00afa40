// Random.swift — counter-based random numbers (Philox 4x32-10).
//
// Element i of a stream is a pure function of (seed, i): the fill functions
// give the same numbers whatever the thread count, block size or the split
// of one fill into several at different offsets. Each Philox call turns the
// counter i/4 (and the seed as key) into four 32-bit words; element i uses
// word i % 4. Uniforms take the top 24 bits; normals pair words (0,1) and
// (2,3) through Box–Muller (cos for the even element, sin for the odd),
// with the vectorised log and sin/cos of FastMath.swift. The fills work 16
// elements (4 blocks) at a time, which changes no element's value.
//
// Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC 2011).

// MARK: - Philox 4x32-10

/// The Philox 4x32 bijection with 10 rounds.
///
/// - counter: four 32-bit words; key: two
/// - Returns: four pseudo-random 32-bit words
@inline(__always)
public func philox4x32(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
    var (c0, c1, c2, c3) = (counter[0], counter[1], counter[2], counter[3])
    var (k0, k1) = (key[0], key[1])
    for round in 0..<10 {
        if round > 0 { k0 &+= 0x9E37_79B9; k1 &+= 0xBB67_AE85 }
        let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
        let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
        (c0, c1, c2, c3) = (
            UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0,
            UInt32(truncatingIfNeeded: p1),
            UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1,
            UInt32(truncatingIfNeeded: p0))
    }
    return SIMD4(c0, c1, c2, c3)
}

/// The four words of block `block` of stream `seed`.
@inline(__always)
func philoxBlock(seed: UInt64, block: UInt64) -> SIMD4<UInt32> {
    philox4x32(
        counter: SIMD4(UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: block >> 32), 0, 0),
        key: SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
}

// MARK: - Word → number

/// A uniform in [0, 1) from the top 24 bits of a word.
@inline(__always)
func unitFloat(_ w: UInt32) -> Float { Float(w >> 8) * 0x1p-24 }

/// A uniform in (0, 1] (safe for log) from the top 24 bits of a word.
@inline(__always)
func unitFloatOpenZero(_ w: UInt32) -> Float { Float((w >> 8) + 1) * 0x1p-24 }

/// The normal variate of lane `lane` (0...3) of one Philox block: words
/// (0,1) give lanes 0 (cos) and 1 (sin), words (2,3) lanes 2 and 3.
@inline(__always)
func boxMuller(_ words: SIMD4<UInt32>, lane: Int) -> Float {
    let pair = lane & ~1
    var u1 = Vec8(repeating: 1), u2 = Vec8(repeating: 0)
    u1[0] = unitFloatOpenZero(words[pair])
    u2[0] = unitFloat(words[pair + 1])
    let (r, s, c) = polar(u1, u2)
    return r[0] * (lane & 1 == 0 ? c[0] : s[0])
}

/// The 16 normal variates of the words of 4 consecutive Philox blocks (as `boxMuller`
/// lane by lane, bit for bit: the vector functions are lane-independent).
@inline(__always)
func boxMuller16(_ words: SIMD16<UInt32>) -> SIMD16<Float> {
    var u1 = Vec8(), u2 = Vec8()
    for j in 0..<8 {
        u1[j] = unitFloatOpenZero(words[2 * j])
        u2[j] = unitFloat(words[2 * j + 1])
    }
    let (r, s, c) = polar(u1, u2)
    var out = SIMD16<Float>()
    for j in 0..<8 {
        out[2 * j] = r[j] * c[j]
        out[2 * j + 1] = r[j] * s[j]
    }
    return out
}

/// Box–Muller's radius √(−2 ln u1) and the sine and cosine of the angle 2π·u2.
/// Not inlined, so that LLVM keeps the lanes in vector registers (see `logPolynomial`).
@inline(never)
private func polar(_ u1: Vec8, _ u2: Vec8) -> (Vec8, Vec8, Vec8) {
    let r = vsqrt(-2 * vlog(u1))
    let (s, c) = vsincos2pi(u2)
    return (r, s, c)
}

// MARK: - Fills

/// out[i] = low + (high − low)·u, u uniform on [0, 1), for element `offset + i` of stream `seed`.
///
/// - out: (count)
public func fillUniform(
    _ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, offset: UInt64 = 0,
    low: Float = 0, high: Float = 1, threads: Int = 1
) {
    fillGroups(out, count, seed, offset, threads, Uniforms(low: low, span: high - low))
}

private struct Uniforms: PhiloxValues {
    let low: Float, span: Float
    @inline(__always)
    func values(_ bits: SIMD16<UInt32>) -> SIMD16<Float> { low + span * uniforms16(bits) }
}

/// out[i] = normal(mean, std) for element `offset + i` of stream `seed`.
///
/// - out: (count)
public func fillNormal(
    _ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, offset: UInt64 = 0,
    mean: Float = 0, std: Float = 1, threads: Int = 1
) {
    fillGroups(out, count, seed, offset, threads, Normals(mean: mean, std: std))
}

private struct Normals: PhiloxValues {
    let mean: Float, std: Float
    @inline(__always)
    func values(_ bits: SIMD16<UInt32>) -> SIMD16<Float> { mean + std * boxMuller16(bits) }
}

/// out[i] = 1/keep with probability `keep`, else 0 (an inverted-dropout
/// mask), from the same uniforms as `fillUniform`: kept where u < keep.
///
/// - out: (count)
public func fillDropoutMask(
    _ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, offset: UInt64 = 0,
    keep: Float, threads: Int = 1
) {
    precondition(keep > 0 && keep <= 1, "fillDropoutMask: keep must be in (0, 1]")
    fillGroups(out, count, seed, offset, threads, DropoutMask(keep: keep, scale: 1 / keep))
}

private struct DropoutMask: PhiloxValues {
    let keep: Float, scale: Float
    @inline(__always)
    func values(_ bits: SIMD16<UInt32>) -> SIMD16<Float> {
        var mask = SIMD16<Float>(repeating: 0)
        mask.replace(with: scale, where: uniforms16(bits) .< keep)
        return mask
    }
}

/// The 16 uniforms [0, 1) of the words of 4 consecutive Philox blocks.
@inline(__always)
private func uniforms16(_ words: SIMD16<UInt32>) -> SIMD16<Float> {
    var u = SIMD16<Float>()
    for k in 0..<16 { u[k] = unitFloat(words[k]) }
    return u
}

/// What a fill makes of 16 Philox words.
private protocol PhiloxValues {
    func values(_ bits: SIMD16<UInt32>) -> SIMD16<Float>
}

/// Writes elements offset..<offset+count from groups of 16 (4 Philox
/// blocks, starting at a multiple of 16), in parallel blocks.
@inline(__always)
private func fillGroups<Values: PhiloxValues>(
    _ out: UnsafeMutablePointer<Float>, _ count: Int, _ seed: UInt64, _ offset: UInt64,
    _ threads: Int, _ values: Values
) {
    let t = count >= parallelThreshold ? threads : 1
    parallelFor(count: count, grain: elementwiseGrain, threads: t,
                PhiloxFill(out: out, seed: seed, offset: offset, values: values))
}

private struct PhiloxFill<Values: PhiloxValues>: ParallelBody {
    let out: UnsafeMutablePointer<Float>, seed: UInt64, offset: UInt64, values: Values

    func run(_ range: Range<Int>) {
        var i = range.lowerBound
        while i < range.upperBound {
            let e = offset &+ UInt64(i)
            let first = (e >> 4) << 2
            let v = values.values(SIMD16(
                lowHalf: SIMD8(lowHalf: philoxBlock(seed: seed, block: first),
                               highHalf: philoxBlock(seed: seed, block: first + 1)),
                highHalf: SIMD8(lowHalf: philoxBlock(seed: seed, block: first + 2),
                                highHalf: philoxBlock(seed: seed, block: first + 3))))
            var lane = Int(e & 15)
            while lane < 16 && i < range.upperBound {
                out[i] = v[lane]
                lane += 1
                i += 1
            }
        }
    }
}
