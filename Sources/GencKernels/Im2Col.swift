// Im2Col.swift — unrolling one image into the column matrix a convolution
// multiplies, and folding such a matrix back (its adjoint).
//
// Row r = (c·KH + ki)·KW + kj of the column matrix holds, for every output
// position (oh, ow), the input pixel x[c, oh·sh − ph + ki, ow·sw − pw + kj],
// or 0 where that falls in the padding. Per row, the valid `ow` form one
// interval, so the inner loops have no bounds tests. Channels are
// independent (their rows of the matrix, their plane of the image), so
// `threads` > 1 splits them; the result does not depend on the split.

// MARK: - im2col

/// Unrolls one image into its column matrix.
///
/// - x: (C, H, W) — one image of the batch
/// - col: (C·KH·KW, OH·OW) with row stride `ld` (OH·OW when nil; more when
///   the columns of several images sit side by side), the image's OH·OW
///   columns of every row written
public func im2col(
    _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry,
    ld: Int? = nil, threads: Int = 1
) {
    forChannels(g, threads, Im2ColChannel(x: x, col: col, g: g, ld: ld ?? g.colCols))
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
public func col2imAdd(
    _ col: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry,
    ld: Int? = nil, threads: Int = 1
) {
    forChannels(g, threads, Col2ImChannel(col: col, x: x, g: g, ld: ld ?? g.colCols))
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

// MARK: - Helpers

/// Calls body(c) for every channel, split over threads when the column
/// matrix is big enough to pay for it.
@inline(__always)
private func forChannels<Body: IndexBody>(_ g: Conv2DGeometry, _ threads: Int, _ body: Body) {
    let t = g.colRows * g.colCols >= parallelThreshold / 2 ? threads : 1
    let grain = max(1, (g.channels + t - 1) / max(1, t))
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
