// Random.swift — counter-based random numbers (Philox 4x32-10).
//
// Element i of a stream is a pure function of (seed, i): the fill functions
// give the same numbers whatever the thread count, block size or the split
// of one fill into several at different offsets. Each Philox call turns the
// counter i/4 (and the seed as key) into four 32-bit words; element i uses
// word i % 4. Uniforms take the top 24 bits; normals pair words (0,1) and
// (2,3) through Box–Muller (cos for the even element, sin for the odd).
//
// Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC 2011).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Philox 4x32-10

/// The Philox 4x32 bijection with 10 rounds.
///
/// - counter: four 32-bit words; key: two
/// - Returns: four pseudo-random 32-bit words
public func philox4x32(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
    var c = counter
    var k = key
    for round in 0..<10 {
        if round > 0 { k &+= SIMD2(0x9E37_79B9, 0xBB67_AE85) }
        let p0 = UInt64(0xD251_1F53) * UInt64(c[0])
        let p1 = UInt64(0xCD9E_8D57) * UInt64(c[2])
        c = SIMD4(
            UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k[0],
            UInt32(truncatingIfNeeded: p1),
            UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k[1],
            UInt32(truncatingIfNeeded: p0))
    }
    return c
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

/// The normal variate of lane `lane` (0...3) of one Philox block.
@inline(__always)
func boxMuller(_ words: SIMD4<UInt32>, lane: Int) -> Float {
    let pair = lane & ~1
    let r = (-2 * logf(unitFloatOpenZero(words[pair]))).squareRoot()
    let theta = 2 * Float.pi * unitFloat(words[pair + 1])
    return r * (lane & 1 == 0 ? cosf(theta) : sinf(theta))
}

// MARK: - Fills

/// out[i] = uniform on [low, high) for element `offset + i` of stream `seed`.
///
/// - out: (count)
public func fillUniform(
    _ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, offset: UInt64 = 0,
    low: Float = 0, high: Float = 1, threads: Int = 1
) {
    let span = high - low
    fillBlocks(out, count, seed, offset, threads) { w, lane in low + span * unitFloat(w[lane]) }
}

/// out[i] = normal(mean, std) for element `offset + i` of stream `seed`.
///
/// - out: (count)
public func fillNormal(
    _ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, offset: UInt64 = 0,
    mean: Float = 0, std: Float = 1, threads: Int = 1
) {
    fillBlocks(out, count, seed, offset, threads) { w, lane in mean + std * boxMuller(w, lane: lane) }
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
    let scale = 1 / keep
    fillBlocks(out, count, seed, offset, threads) { w, lane in unitFloat(w[lane]) < keep ? scale : 0 }
}

/// Writes value(block words, lane) for elements offset..<offset+count, one
/// Philox call per 4 elements, in parallel blocks.
@inline(__always)
private func fillBlocks(
    _ out: UnsafeMutablePointer<Float>, _ count: Int, _ seed: UInt64, _ offset: UInt64,
    _ threads: Int, _ value: (SIMD4<UInt32>, Int) -> Float
) {
    let t = count >= parallelThreshold ? threads : 1
    parallelFor(count: count, grain: elementwiseGrain, threads: t) { range in
        var i = range.lowerBound
        while i < range.upperBound {
            let e = offset &+ UInt64(i)
            let words = philoxBlock(seed: seed, block: e >> 2)
            var lane = Int(e & 3)
            while lane < 4 && i < range.upperBound {
                out[i] = value(words, lane)
                lane += 1
                i += 1
            }
        }
    }
}
