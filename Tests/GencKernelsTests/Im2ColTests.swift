import XCTest
import GencKernels

/// im2col and col2im, through the stride phases (with a scratch) and
/// directly (without), against their definition: rows of the column matrix
/// hold x[c, oh·sh − ph + ki, ow·sw − pw + kj] or 0. Widths go past one
/// vector (8) so that whole vectors, the overlapping last vector and short
/// rows are all taken; the column matrix sits among other images' columns
/// (`ld`), which must not be touched except where `spare` allows.
final class Im2ColTests: XCTestCase {
    static func geometries(_ rng: inout TestRNG) -> [Conv2DGeometry] {
        var gs = [
            Conv2DGeometry(batch: 1, channels: 3, height: 14, width: 14, filters: 1, kernelH: 4, kernelW: 4,
                           strideH: 2, strideW: 2, padH: 1, padW: 1),  // DCGAN's 7×7 output
            Conv2DGeometry(batch: 1, channels: 2, height: 28, width: 28, filters: 1, kernelH: 4, kernelW: 4,
                           strideH: 2, strideW: 2, padH: 1, padW: 1),  // 14×14
            Conv2DGeometry(batch: 1, channels: 2, height: 5, width: 33, filters: 1, kernelH: 3, kernelW: 3,
                           padH: 1, padW: 1),  // stride 1, rows of 33
            Conv2DGeometry(batch: 1, channels: 1, height: 2, width: 2, filters: 1, kernelH: 5, kernelW: 5,
                           padH: 2, padW: 2),  // kernel larger than the image
            Conv2DGeometry(batch: 1, channels: 1, height: 9, width: 40, filters: 1, kernelH: 2, kernelW: 7,
                           strideH: 3, strideW: 3, padH: 0, padW: 2),
        ]
        while gs.count < 40 {
            let g = Conv2DGeometry(
                batch: 1, channels: rng.int(1...3), height: rng.int(1...12), width: rng.int(1...40),
                filters: 1, kernelH: rng.int(1...5), kernelW: rng.int(1...5),
                strideH: rng.int(1...3), strideW: rng.int(1...3), padH: rng.int(0...2), padW: rng.int(0...2))
            if g.isValid { gs.append(g) }
        }
        return gs
    }

    /// The column matrix by its definition, (C·KH·KW, OH·OW).
    static func reference(_ x: [Float], _ g: Conv2DGeometry) -> [Float] {
        let (oh, ow) = (g.outHeight, g.outWidth)
        var col = [Float](repeating: 0, count: g.channels * g.kernelH * g.kernelW * oh * ow)
        for c in 0..<g.channels { for ki in 0..<g.kernelH { for kj in 0..<g.kernelW {
            let r = (c * g.kernelH + ki) * g.kernelW + kj
            for y in 0..<oh { for o in 0..<ow {
                let (h, w) = (y * g.strideH - g.padH + ki, o * g.strideW - g.padW + kj)
                if h >= 0, h < g.height, w >= 0, w < g.width {
                    col[r * oh * ow + y * ow + o] = x[(c * g.height + h) * g.width + w]
                }
            } }
        } } }
        return col
    }

    func testIm2colMatchesDefinitionAndStaysInItsColumns() {
        var rng = TestRNG(41)
        for g in Self.geometries(&rng) {
            let x = rng.array(g.channels * g.height * g.width)
            let ref = Self.reference(x, g)
            let (rows, p) = (g.channels * g.kernelH * g.kernelW, g.outHeight * g.outWidth)
            // Three images' columns side by side; this one is the middle (spare:
            // the third's, written later) or the last (spare 0), 16 sentinels after.
            for (slot, spare) in [(1, p), (2, 0)] {
                for useScratch in [true, false] {
                    let ld = 3 * p
                    var col = [Float](repeating: .nan, count: rows * ld + 16)
                    var scratch = [Float](repeating: .nan, count: g.phaseScratchCount)
                    col.withUnsafeMutableBufferPointer { c in
                        scratch.withUnsafeMutableBufferPointer { s in
                            im2col(x, c.baseAddress! + slot * p, g, ld: ld, spare: spare,
                                   scratch: useScratch ? s.baseAddress! : nil)
                        }
                    }
                    let what = "\(g) scratch \(useScratch) slot \(slot)"
                    for r in 0..<rows {
                        for i in 0..<p {
                            XCTAssertEqual(col[r * ld + slot * p + i], ref[r * p + i], "\(what) row \(r) column \(i)")
                        }
                        for i in 0..<p {  // the first image's columns are never touched
                            XCTAssertTrue(col[r * ld + i].isNaN, "\(what) wrote row \(r) column \(i) of image 0")
                        }
                        if r + 1 < rows, slot == 1 {
                            // Row r's spare is image 2's columns; row r + 1's image 0 is not.
                            XCTAssertTrue(col[(r + 1) * ld].isNaN, "\(what) ran past row \(r)'s spare")
                        }
                    }
                    for i in rows * ld ..< rows * ld + 16 where slot == 2 {
                        XCTAssertTrue(col[i].isNaN, "\(what) wrote past the matrix at \(i)")
                    }
                }
            }
        }
    }

    func testCol2imIsTheAdjointAndTheSameBitsEitherWay() {
        var rng = TestRNG(42)
        for g in Self.geometries(&rng) {
            let (rows, p) = (g.channels * g.kernelH * g.kernelW, g.outHeight * g.outWidth)
            let ld = 2 * p
            let col = rng.array(rows * ld)
            let imageCount = g.channels * g.height * g.width
            // Reference: x[c, h, w] = Σ over the taps that read it, in tap order.
            var ref = [Float](repeating: 0, count: imageCount)
            for c in 0..<g.channels { for ki in 0..<g.kernelH { for kj in 0..<g.kernelW {
                let r = (c * g.kernelH + ki) * g.kernelW + kj
                for y in 0..<g.outHeight { for o in 0..<g.outWidth {
                    let (h, w) = (y * g.strideH - g.padH + ki, o * g.strideW - g.padW + kj)
                    if h >= 0, h < g.height, w >= 0, w < g.width {
                        ref[(c * g.height + h) * g.width + w] += col[r * ld + p + y * g.outWidth + o]
                    }
                } }
            } } }
            var results: [[Float]] = []
            for useScratch in [true, false] {
                var x = [Float](repeating: 0, count: imageCount + 16)
                var scratch = [Float](repeating: .nan, count: g.phaseScratchCount)
                x.withUnsafeMutableBufferPointer { xb in
                    scratch.withUnsafeMutableBufferPointer { s in
                        col.withUnsafeBufferPointer { cb in
                            col2imAdd(cb.baseAddress! + p, xb.baseAddress!, g, ld: ld,
                                      scratch: useScratch ? s.baseAddress! : nil)
                        }
                    }
                }
                XCTAssertEqual(Array(x[imageCount...]), [Float](repeating: 0, count: 16), "\(g) wrote past the image")
                assertClose(Array(x[..<imageCount]), ref, rtol: 1e-5, "\(g) scratch \(useScratch)")
                results.append(x)
            }
            let differ = results[0].indices.first { results[0][$0].bitPattern != results[1][$0].bitPattern }
            XCTAssertNil(differ, "\(g): phases and direct differ at \(differ ?? -1)")
        }
    }
}
