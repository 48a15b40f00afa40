// Im2Col.swift — unrolling one image into the column matrix a convolution
// multiplies, and folding such a matrix back (its adjoint).
//
// Row r = (c·KH + ki)·KW + kj of the column matrix holds, for every output
// position (oh, ow), the input pixel x[c, oh·sh − ph + ki, ow·sw − pw + kj],
// or 0 where that falls in the padding. Channels are independent (their
// rows of the matrix, their plane of the image), so `threads` > 1 splits
// them; the result does not depend on the split.
//
// With a scratch (`Conv2DGeometry.phaseScratchCount` floats) and one
// thread, a channel goes through its stride phases: the zero-padded plane
// split into planes, phase (a, b) holding every pixel whose padded row is
// a mod sh and column b mod sw (`loadPhases`; only the phases a tap reads,
// a < min(sh, KH) and b < min(sw, KW)). Row (ki, kj) of the
// column matrix is then an OH×OW window of phase (ki mod sh, kj mod sw) at
// (ki / sh, kj / sw): OH contiguous copies and no padding tests. A strided
// gather of a pixel happens once (into its phase), not once per kernel
// tap, and the copies are whole vectors. DCGAN's 4×4, stride-2 layers
// have rows of 7 outputs, where the direct path spends ~18 cycles a row,
// most of it bookkeeping (divisions by the stride among it): through the
// phases, im2col of 64 images of 64×14×14 takes 1.43 ms, not 2.07, and
// col2im 1.96, not 2.64 (docs/performance.md). col2im is the adjoint:
// the windows are added into zeroed phases, which are then added into the
// image. Without a scratch (or split over threads) each row is filled
// directly: per row the valid `ow` form one interval, so the inner loops
// have no bounds tests.

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

// MARK: - im2col

/// Unrolls one image into its column matrix.
///
/// - x: (C, H, W) — one image of the batch
/// - col: (C·KH·KW, OH·OW) with row stride `ld` (OH·OW when nil; more when
///   the columns of several images sit side by side), the image's OH·OW
///   columns of every row written
/// - spare: floats after the image's OH·OW columns of each row that are
///   written later (the next images' columns of a group), which a vector
///   store may run into
/// - scratch: `g.phaseScratchCount` floats, or nil
public func im2col(
    _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry,
    ld: Int? = nil, spare: Int = 0, scratch: UnsafeMutablePointer<Float>? = nil, threads: Int = 1
) {
    let ld = ld ?? g.colCols
    let t = channelThreads(g, threads)
    if let scratch, t == 1 {
        let layout = PhaseLayout(g)
        for c in 0..<g.channels {
            loadPhases(x + c * g.height * g.width, g, layout, into: scratch)
            im2colPhases(col, g, layout, c, ld, spare, scratch)
        }
        return
    }
    forChannels(g, t, Im2ColChannel(x: x, col: col, g: g, ld: ld))
}

private struct Im2ColChannel: IndexBody {
    let x: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>, g: Conv2DGeometry, ld: Int
    func run(_ c: Int) { im2colChannel(x, col, g, c, ld) }
}

/// im2col for the rows of channel c.
private func im2colChannel(
    _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, _ c: Int, _ ld: Int
) {
    let (oh, ow) = (g.outHeight, g.outWidth)
    var row = c * g.kernelH * g.kernelW
    let plane = x + c * g.height * g.width
    let positions = oh * ow
    for ki in 0..<g.kernelH {
        let (top, bottom) = validOutputRange(offset: ki - g.padH, stride: g.strideH, inSize: g.height, outSize: oh)
        for kj in 0..<g.kernelW {
            let dst = col + row * ld
            row += 1
            let (lo, hi) = validOutputRange(offset: kj - g.padW, stride: g.strideW, inSize: g.width, outSize: ow)
            // One fill for the padding of the whole row (small outputs: one
            // call, not two per output row), then the valid rectangle.
            if top > 0 || bottom < oh || lo > 0 || hi < ow { dst.update(repeating: 0, count: positions) }
            guard top < bottom, lo < hi else { continue }
            for y in top..<bottom {
                let d = dst + y * ow
                let src = plane + (y * g.strideH - g.padH + ki) * g.width + (kj - g.padW)
                if g.strideW == 1 {
                    (d + lo).update(from: src + lo, count: hi - lo)
                } else {
                    for o in lo..<hi { d[o] = src[o * g.strideW] }
                }
            }
        }
    }
}

// MARK: - col2im

/// Folds a column matrix back into an image, adding into it (the adjoint of `im2col`).
///
/// - col: (C·KH·KW, OH·OW) with row stride `ld` (OH·OW when nil)
/// - x: (C, H, W), accumulated into: x += col2im(col); zero it first for a plain fold
/// - scratch: `g.phaseScratchCount` floats, or nil
public func col2imAdd(
    _ col: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry,
    ld: Int? = nil, scratch: UnsafeMutablePointer<Float>? = nil, threads: Int = 1
) {
    let ld = ld ?? g.colCols
    let t = channelThreads(g, threads)
    if let scratch, t == 1 {
        let layout = PhaseLayout(g)
        for c in 0..<g.channels { col2imPhases(col, x, g, layout, c, ld, scratch) }
        return
    }
    forChannels(g, t, Col2ImChannel(col: col, x: x, g: g, ld: ld))
}

private struct Col2ImChannel: IndexBody {
    let col: UnsafePointer<Float>, x: UnsafeMutablePointer<Float>, g: Conv2DGeometry, ld: Int
    func run(_ c: Int) { col2imChannel(col, x, g, c, ld) }
}

/// col2im for the rows of channel c, into plane c.
private func col2imChannel(
    _ col: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, _ c: Int, _ ld: Int
) {
    let (oh, ow) = (g.outHeight, g.outWidth)
    var row = c * g.kernelH * g.kernelW
    let plane = x + c * g.height * g.width
    for ki in 0..<g.kernelH {
        for kj in 0..<g.kernelW {
            let src = col + row * ld
            let (lo, hi) = validOutputRange(
                offset: kj - g.padW, stride: g.strideW, inSize: g.width, outSize: ow)
            row += 1
            guard lo < hi else { continue }
            for y in 0..<oh {
                let ih = y * g.strideH - g.padH + ki
                guard ih >= 0 && ih < g.height else { continue }
                let s = src + y * ow
                let d = plane + ih * g.width + (kj - g.padW)
                if g.strideW == 1 {
                    for o in lo..<hi { d[o] += s[o] }
                } else {
                    for o in lo..<hi { d[o * g.strideW] += s[o] }
                }
            }
        }
    }
}

// MARK: - Through the stride phases

// Integer division by a stride is slow (a `div` of 10–40 cycles), and the
// direct path spends one per kernel tap and output row; here the sizes are
// worked out once per call (`PhaseLayout`) and the phase of each tap and
// row is counted, not divided.

/// The sizes of one channel's stride phases, computed once per call.
private struct PhaseLayout {
    let outH: Int, outW: Int
    /// Row and column phases kept (those a tap reads), the rows and columns
    /// of each; floats in all of them, slack included.
    let rowPhases: Int, colPhases: Int, rows: Int, cols: Int, scratchCount: Int
    init(_ g: Conv2DGeometry) {
        (outH, outW) = (g.outHeight, g.outWidth)
        (rowPhases, colPhases) = (g.rowPhases, g.colPhases)
        (rows, cols, scratchCount) = (g.phaseRows, g.phaseCols, g.phaseScratchCount)
    }
}

/// im2col for the rows of channel c, from its phases (`loadPhases`) in `scratch`.
@inline(__always)
private func im2colPhases(
    _ col: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, _ l: PhaseLayout,
    _ c: Int, _ ld: Int, _ spare: Int, _ scratch: UnsafeMutablePointer<Float>
) {
    let positions = l.outH * l.outW
    var row = c * g.kernelH * g.kernelW
    forTaps(g, l, scratch) { window in
        let dst = col + row * ld
        row += 1
        let writeLimit = dst + positions + spare
        for y in 0..<l.outH { copyRow(window + y * l.cols, to: dst + y * l.outW, count: l.outW, writeLimit: writeLimit) }
    }
}

/// col2im for the rows of channel c, into plane c, through its phases in `scratch`.
@inline(__always)
private func col2imPhases(
    _ col: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, _ l: PhaseLayout,
    _ c: Int, _ ld: Int, _ scratch: UnsafeMutablePointer<Float>
) {
    scratch.update(repeating: 0, count: l.scratchCount)
    let readLimit = col + (g.colRows - 1) * ld + l.outH * l.outW
    var row = c * g.kernelH * g.kernelW
    forTaps(g, l, scratch) { window in
        let src = col + row * ld
        row += 1
        for y in 0..<l.outH { addRow(src + y * l.outW, into: window + y * l.cols, count: l.outW, readLimit: readLimit) }
    }
    // x[h, w] += phase (a, b) at (u, v), for h = u·sh + a − ph and w = v·sw + b − pw.
    let plane = x + c * g.height * g.width
    forPhaseRows(g, l) { h, phaseRow, lo, hi, b in
        let d = plane + h * g.width + (b - g.padW)
        let s = scratch + phaseRow
        if g.strideW == 1 {
            for v in lo..<hi { d[v] += s[v] }
        } else {
            for v in lo..<hi { d[v * g.strideW] += s[v] }
        }
    }
}

/// The phases of plane (H, W) — one image's channel — into `p`
/// (`g.phaseScratchCount` floats, the 8 past the phases included, zeroed).
@inline(__always)
private func loadPhases(
    _ plane: UnsafePointer<Float>, _ g: Conv2DGeometry, _ l: PhaseLayout, into p: UnsafeMutablePointer<Float>
) {
    p.update(repeating: 0, count: l.scratchCount)
    forPhaseRows(g, l) { h, phaseRow, lo, hi, b in
        let s = plane + h * g.width + (b - g.padW)
        let d = p + phaseRow
        if g.strideW == 1 {
            (d + lo).update(from: s + lo, count: hi - lo)
        } else {
            for v in lo..<hi { d[v] = s[v * g.strideW] }
        }
    }
}

/// Calls body(window) for each kernel tap (ki, kj) in row-major order:
/// the start of its OH×OW window, phase (ki mod sh, kj mod sw) at
/// (ki / sh, kj / sw), in row stride `l.cols`.
@inline(__always)
private func forTaps(
    _ g: Conv2DGeometry, _ l: PhaseLayout, _ phases: UnsafeMutablePointer<Float>,
    _ body: (UnsafeMutablePointer<Float>) -> Void
) {
    let phaseCount = l.rows * l.cols
    var (ka, kq) = (0, 0)  // ki mod sh, ki / sh
    for _ in 0..<g.kernelH {
        var (ja, jq) = (0, 0)  // kj mod sw, kj / sw
        for _ in 0..<g.kernelW {
            body(phases + (ka * l.colPhases + ja) * phaseCount + kq * l.cols + jq)
            ja += 1
            if ja == g.strideW { (ja, jq) = (0, jq + 1) }
        }
        ka += 1
        if ka == g.strideH { (ka, kq) = (0, kq + 1) }
    }
}

/// Calls body(h, phaseRow, lo, hi, b) for each column phase b and image
/// row h: phase element phaseRow + v, for v in lo..<hi, holds pixel
/// (h, v·sw + b − pw). Rows of no phase (past the last window) are skipped.
@inline(__always)
private func forPhaseRows(_ g: Conv2DGeometry, _ l: PhaseLayout, _ body: (Int, Int, Int, Int, Int) -> Void) {
    let (firstU, firstA) = (g.padH / g.strideH, g.padH % g.strideH)  // the phase of row 0
    for b in 0..<l.colPhases {
        let (lo, hi) = validOutputRange(offset: b - g.padW, stride: g.strideW, inSize: g.width, outSize: l.cols)
        var (u, a) = (firstU, firstA)
        for h in 0..<g.height {
            guard u < l.rows else { break }  // u grows with h
            if a < l.rowPhases { body(h, ((a * l.colPhases + b) * l.rows + u) * l.cols, lo, hi, b) }
            a += 1
            if a == g.strideH { (a, u) = (0, u + 1) }
        }
    }
}

/// d[0..<count] = s[0..<count]. s may be read 8 floats past count (the
/// phases have that slack); d up to `writeLimit` (written later).
@inline(__always)
private func copyRow(_ s: UnsafePointer<Float>, to d: UnsafeMutablePointer<Float>, count: Int,
                     writeLimit: UnsafeMutablePointer<Float>) {
    let (src, dst) = (UnsafeRawPointer(s), UnsafeMutableRawPointer(d))
    if count >= 8 {
        var i = 0
        while i + 8 <= count {
            (dst + 4 * i).storeBytes(of: (src + 4 * i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        // The last vector ends at count, overlapping the one before.
        if i < count {
            let j = count - 8
            (dst + 4 * j).storeBytes(of: (src + 4 * j).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
        }
    } else if d + 8 <= writeLimit {
        dst.storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
    } else {
        d.update(from: s, count: count)
    }
}

/// d[0..<count] += s[0..<count]; d's next 8 floats keep their bits (they
/// may be rewritten: the phases' slack). s may be read up to `readLimit`.
@inline(__always)
private func addRow(_ s: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count: Int,
                    readLimit: UnsafePointer<Float>) {
    let (src, dst) = (UnsafeRawPointer(s), UnsafeMutableRawPointer(d))
    var i = 0
    while i + 8 <= count {
        let sum = (dst + 4 * i).loadUnaligned(as: SIMD8<Float>.self) + (src + 4 * i).loadUnaligned(as: SIMD8<Float>.self)
        (dst + 4 * i).storeBytes(of: sum, as: SIMD8<Float>.self)
        i += 8
    }
    guard i < count else { return }
    if s + i + 8 <= readLimit {
        let old = (dst + 4 * i).loadUnaligned(as: SIMD8<Float>.self)
        let sum = old + (src + 4 * i).loadUnaligned(as: SIMD8<Float>.self)
        (dst + 4 * i).storeBytes(of: firstLanes(count - i, of: sum, else: old), as: SIMD8<Float>.self)
    } else {
        for l in i..<count { d[l] += s[l] }
    }
}

/// Lanes 0..<n of `new`, the rest of `old` (vblendvps: SIMD8's
/// `replacing(with:where:)` compiles to a loop over the lanes).
@inline(__always)
private func firstLanes(_ n: Int, of new: SIMD8<Float>, else old: SIMD8<Float>) -> SIMD8<Float> {
    let lane = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
    #if arch(x86_64)
    // Sign bit set in lanes below n.
    let mask = unsafeBitCast(lane &- SIMD8(repeating: Int32(truncatingIfNeeded: n)), to: SIMD4<Int64>.self)
    return _mm256_blendv_ps(old, new, _mm256_castsi256_ps(mask))
    #else
    return old.replacing(with: new, where: lane .< SIMD8(repeating: Int32(truncatingIfNeeded: n)))
    #endif
}

// MARK: - Helpers

/// The threads to split channels over: `threads` when the column matrix
/// is big enough to pay for it, else 1.
@inline(__always)
private func channelThreads(_ g: Conv2DGeometry, _ threads: Int) -> Int {
    g.colRows * g.colCols >= parallelThreshold / 2 ? max(1, threads) : 1
}

/// Calls body(c) for every channel, split over `t` threads.
@inline(__always)
private func forChannels<Body: IndexBody>(_ g: Conv2DGeometry, _ t: Int, _ body: Body) {
    let grain = max(1, (g.channels + t - 1) / t)
    parallelFor(count: g.channels, grain: grain, threads: t, EachIndex(body))
}

/// The output positions `lo..<hi` whose input index `o·stride + offset`
/// lies in `0..<inSize`, clipped to `0..<outSize`; `lo == hi` when there are none.
@inline(__always)
func validOutputRange(offset: Int, stride: Int, inSize: Int, outSize: Int) -> (Int, Int) {
    let lo = min(outSize, max(0, ceilDiv(-offset, stride)))
    let hi = min(outSize, floorDiv(inSize - 1 - offset, stride) + 1)
    return (lo, max(lo, hi))
}
