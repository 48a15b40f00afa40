// Pooling.swift — 2-D max and average pooling on NCHW, forward and backward.
//
// Windows start at o·stride − pad; output sizes use floor division
// (PyTorch's `ceil_mode=False`). Max pooling ignores padding (as −inf) and
// requires pad <= kernel/2 (PyTorch's rule), so every window holds at least
// one real element. Average pooling takes `countPadding`: true divides by
// KH·KW (PyTorch's default `count_include_pad=True`), false divides by the
// number of real elements in the window (TensorFlow's "SAME" pooling).
// 1-D pooling on (N, C, L) is this with H = 1, KH = 1.

// MARK: - Geometry

/// The shape of a 2-D pooling.
///
/// - input x: (N, C, H, W); output y: (N, C, OH, OW)
/// - OH = (H + 2·padH − KH) / strideH + 1, and likewise OW
public struct Pool2DGeometry: Hashable, Sendable {
    public var batch: Int
    public var channels: Int
    public var height: Int
    public var width: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padH: Int
    public var padW: Int

    /// A pooling; the stride defaults to the kernel (non-overlapping windows).
    public init(
        batch: Int, channels: Int, height: Int, width: Int,
        kernelH: Int, kernelW: Int, strideH: Int? = nil, strideW: Int? = nil,
        padH: Int = 0, padW: Int = 0
    ) {
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH ?? kernelH; self.strideW = strideW ?? kernelW
        self.padH = padH; self.padW = padW
    }

    public var outHeight: Int { floorDiv(height + 2 * padH - kernelH, strideH) + 1 }
    public var outWidth: Int { floorDiv(width + 2 * padW - kernelW, strideW) + 1 }

    /// Positive sizes, 0 <= pad <= kernel/2, and a non-empty output.
    public var isValid: Bool {
        batch > 0 && channels > 0 && height > 0 && width > 0
            && kernelH > 0 && kernelW > 0 && strideH > 0 && strideW > 0
            && padH >= 0 && padW >= 0 && 2 * padH <= kernelH && 2 * padW <= kernelW
            && outHeight > 0 && outWidth > 0
    }

    /// Floats in x, (N, C, H, W).
    public var inputCount: Int { batch * channels * height * width }
    /// Floats in y, (N, C, OH, OW).
    public var outputCount: Int { batch * channels * outHeight * outWidth }
}

// MARK: - Max pooling

/// y = the maximum over each window, and (optionally) where it was.
///
/// - x: (N, C, H, W)
/// - y: (N, C, OH, OW)
/// - argmax: (N, C, OH, OW) or nil — the index `h·W + w` of the maximum
///   within its (H, W) plane; the first one on ties (row-major order)
public func maxPool2dForward(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    argmax: UnsafeMutablePointer<Int32>?, geometry g: Pool2DGeometry
) {
    precondition(g.isValid, "maxPool2dForward: invalid geometry \(g)")
    precondition(g.height * g.width <= Int(Int32.max), "maxPool2dForward: plane too large")
    let (oh, ow) = (g.outHeight, g.outWidth)
    for plane in 0..<(g.batch * g.channels) {
        let xp = x + plane * g.height * g.width
        let yp = y + plane * oh * ow
        for i in 0..<oh {
            let (h0, h1) = windowRange(i, g.strideH, g.padH, g.kernelH, g.height)
            for j in 0..<ow {
                let (w0, w1) = windowRange(j, g.strideW, g.padW, g.kernelW, g.width)
                var best = -Float.infinity
                var at = h0 * g.width + w0
                for h in h0..<h1 {
                    for w in w0..<w1 where xp[h * g.width + w] > best {
                        best = xp[h * g.width + w]
                        at = h * g.width + w
                    }
                }
                yp[i * ow + j] = best
                argmax?[plane * oh * ow + i * ow + j] = Int32(truncatingIfNeeded: at)
            }
        }
    }
}

/// dx = dy routed to each window's maximum (summed where windows overlap).
///
/// - dy: (N, C, OH, OW)
/// - argmax: (N, C, OH, OW) from `maxPool2dForward`
/// - dx: (N, C, H, W), overwritten
public func maxPool2dBackward(
    dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
    dx: UnsafeMutablePointer<Float>, geometry g: Pool2DGeometry
) {
    precondition(g.isValid, "maxPool2dBackward: invalid geometry \(g)")
    let planeIn = g.height * g.width
    let planeOut = g.outHeight * g.outWidth
    dx.update(repeating: 0, count: g.inputCount)
    for plane in 0..<(g.batch * g.channels) {
        let dxp = dx + plane * planeIn
        for o in 0..<planeOut {
            let at = Int(argmax[plane * planeOut + o])
            precondition(at >= 0 && at < planeIn, "maxPool2dBackward: argmax out of range")
            dxp[at] += dy[plane * planeOut + o]
        }
    }
}

// MARK: - Average pooling

/// y = the mean over each window.
///
/// - x: (N, C, H, W)
/// - y: (N, C, OH, OW)
/// - countPadding: divide by KH·KW (true) or by the real elements in the window (false)
public func avgPool2dForward(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    geometry g: Pool2DGeometry, countPadding: Bool
) {
    precondition(g.isValid, "avgPool2dForward: invalid geometry \(g)")
    let (oh, ow) = (g.outHeight, g.outWidth)
    for plane in 0..<(g.batch * g.channels) {
        let xp = x + plane * g.height * g.width
        let yp = y + plane * oh * ow
        for i in 0..<oh {
            let (h0, h1) = windowRange(i, g.strideH, g.padH, g.kernelH, g.height)
            for j in 0..<ow {
                let (w0, w1) = windowRange(j, g.strideW, g.padW, g.kernelW, g.width)
                var s: Float = 0
                for h in h0..<h1 {
                    for w in w0..<w1 { s += xp[h * g.width + w] }
                }
                let n = countPadding ? g.kernelH * g.kernelW : (h1 - h0) * (w1 - w0)
                yp[i * ow + j] = s / Float(n)
            }
        }
    }
}

/// dx = each window's dy spread evenly over the window (summed where windows overlap).
///
/// - dy: (N, C, OH, OW)
/// - dx: (N, C, H, W), overwritten
/// - countPadding: as given to `avgPool2dForward`
public func avgPool2dBackward(
    dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
    geometry g: Pool2DGeometry, countPadding: Bool
) {
    precondition(g.isValid, "avgPool2dBackward: invalid geometry \(g)")
    let (oh, ow) = (g.outHeight, g.outWidth)
    dx.update(repeating: 0, count: g.inputCount)
    for plane in 0..<(g.batch * g.channels) {
        let dxp = dx + plane * g.height * g.width
        let dyp = dy + plane * oh * ow
        for i in 0..<oh {
            let (h0, h1) = windowRange(i, g.strideH, g.padH, g.kernelH, g.height)
            for j in 0..<ow {
                let (w0, w1) = windowRange(j, g.strideW, g.padW, g.kernelW, g.width)
                let n = countPadding ? g.kernelH * g.kernelW : (h1 - h0) * (w1 - w0)
                let share = dyp[i * ow + j] / Float(n)
                for h in h0..<h1 {
                    for w in w0..<w1 { dxp[h * g.width + w] += share }
                }
            }
        }
    }
}

// MARK: - Helpers

/// The input indices `lo..<hi` that window `o` covers, clipped to the input.
@inline(__always)
private func windowRange(_ o: Int, _ stride: Int, _ pad: Int, _ kernel: Int, _ size: Int) -> (Int, Int) {
    let start = o * stride - pad
    return (max(0, start), min(size, start + kernel))
}
