// PoolingNaive.swift — pooling by testing every kernel tap against the
// bounds, the way the definition reads.

/// Naive twin of `maxPool2dForward` (first maximum on ties, index h·W + w in its plane).
public func maxPool2dForwardNaive(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    argmax: UnsafeMutablePointer<Int32>, geometry g: Pool2DGeometry
) {
    let (oh, ow) = (g.outHeight, g.outWidth)
    for plane in 0..<(g.batch * g.channels) {
        for i in 0..<oh {
            for j in 0..<ow {
                var best = -Float.infinity
                var at = -1
                for ki in 0..<g.kernelH {
                    for kj in 0..<g.kernelW {
                        let h = i * g.strideH - g.padH + ki
                        let w = j * g.strideW - g.padW + kj
                        guard h >= 0 && h < g.height && w >= 0 && w < g.width else { continue }
                        let v = x[plane * g.height * g.width + h * g.width + w]
                        if at < 0 || v > best { best = v; at = h * g.width + w }
                    }
                }
                y[(plane * oh + i) * ow + j] = best
                argmax[(plane * oh + i) * ow + j] = Int32(at)
            }
        }
    }
}

/// Naive twin of `avgPool2dForward`.
public func avgPool2dForwardNaive(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    geometry g: Pool2DGeometry, countPadding: Bool
) {
    let (oh, ow) = (g.outHeight, g.outWidth)
    for plane in 0..<(g.batch * g.channels) {
        for i in 0..<oh {
            for j in 0..<ow {
                var s = 0.0
                var real = 0
                for ki in 0..<g.kernelH {
                    for kj in 0..<g.kernelW {
                        let h = i * g.strideH - g.padH + ki
                        let w = j * g.strideW - g.padW + kj
                        guard h >= 0 && h < g.height && w >= 0 && w < g.width else { continue }
                        s += Double(x[plane * g.height * g.width + h * g.width + w])
                        real += 1
                    }
                }
                let n = countPadding ? g.kernelH * g.kernelW : real
                y[(plane * oh + i) * ow + j] = Float(s / Double(n))
            }
        }
    }
}
