// ConvNaive.swift — direct-loop convolutions the im2col kernels are tested
// against. Each follows the textbook definition (Double accumulation), not
// the matrix formulation.

// MARK: - Conv2D

/// Naive twin of `conv2dForward`. x: (N, C, H, W); w: (F, C, KH, KW); bias: (F) or nil; y: (N, F, OH, OW).
public func conv2dForwardNaive(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, geometry g: Conv2DGeometry
) {
    let (oh, ow) = (g.outHeight, g.outWidth)
    for n in 0..<g.batch {
        for f in 0..<g.filters {
            for i in 0..<oh {
                for j in 0..<ow {
                    var acc = Double(bias?[f] ?? 0)
                    for c in 0..<g.channels {
                        for ki in 0..<g.kernelH {
                            for kj in 0..<g.kernelW {
                                let h = i * g.strideH - g.padH + ki
                                let v = j * g.strideW - g.padW + kj
                                guard h >= 0 && h < g.height && v >= 0 && v < g.width else { continue }
                                let xv = x[((n * g.channels + c) * g.height + h) * g.width + v]
                                let wv = w[((f * g.channels + c) * g.kernelH + ki) * g.kernelW + kj]
                                acc += Double(xv) * Double(wv)
                            }
                        }
                    }
                    y[((n * g.filters + f) * oh + i) * ow + j] = Float(acc)
                }
            }
        }
    }
}

/// Naive twin of `conv2dInputGrad`: dx[n,c,h,w] = Σ dy[n,f,i,j]·w[f,c,ki,kj] over the taps that read x[n,c,h,w].
public func conv2dInputGradNaive(
    dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, geometry g: Conv2DGeometry
) {
    var acc = [Double](repeating: 0, count: g.inputCount)
    forEachTap(g) { xi, wi, yi in acc[xi] += Double(dy[yi]) * Double(w[wi]) }
    for i in 0..<acc.count { dx[i] = Float(acc[i]) }
}

/// Naive twin of `conv2dFilterGrad`: dw[f,c,ki,kj] = Σ dy[n,f,i,j]·x[n,c,h,w].
public func conv2dFilterGradNaive(
    x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dw: UnsafeMutablePointer<Float>, geometry g: Conv2DGeometry
) {
    var acc = [Double](repeating: 0, count: g.weightCount)
    forEachTap(g) { xi, wi, yi in acc[wi] += Double(dy[yi]) * Double(x[xi]) }
    for i in 0..<acc.count { dw[i] = Float(acc[i]) }
}

/// Calls body(x index, w index, y index) for every multiply of the convolution.
private func forEachTap(_ g: Conv2DGeometry, _ body: (Int, Int, Int) -> Void) {
    let (oh, ow) = (g.outHeight, g.outWidth)
    for n in 0..<g.batch {
        for f in 0..<g.filters {
            for i in 0..<oh {
                for j in 0..<ow {
                    let yi = ((n * g.filters + f) * oh + i) * ow + j
                    for c in 0..<g.channels {
                        for ki in 0..<g.kernelH {
                            for kj in 0..<g.kernelW {
                                let h = i * g.strideH - g.padH + ki
                                let v = j * g.strideW - g.padW + kj
                                guard h >= 0 && h < g.height && v >= 0 && v < g.width else { continue }
                                body(((n * g.channels + c) * g.height + h) * g.width + v,
                                     ((f * g.channels + c) * g.kernelH + ki) * g.kernelW + kj, yi)
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - ConvTranspose2D

/// Naive twin of `convTranspose2dForward`, from the scatter definition:
/// y[n, co, i·s − p + ki, j·s − p + kj] += x[n, ci, i, j] · w[ci, co, ki, kj].
///
/// x: (N, Cin, H, W); w: (Cin, Cout, KH, KW); bias: (Cout) or nil; y: (N, Cout, OH, OW).
public func convTranspose2dForwardNaive(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, geometry g: ConvTranspose2DGeometry
) {
    let (oh, ow) = (g.outHeight, g.outWidth)
    var acc = [Double](repeating: 0, count: g.outputCount)
    for n in 0..<g.batch {
        for co in 0..<g.outChannels {
            for p in 0..<(oh * ow) {
                acc[(n * g.outChannels + co) * oh * ow + p] = Double(bias?[co] ?? 0)
            }
        }
        for ci in 0..<g.inChannels {
            for i in 0..<g.height {
                for j in 0..<g.width {
                    let xv = Double(x[((n * g.inChannels + ci) * g.height + i) * g.width + j])
                    for co in 0..<g.outChannels {
                        for ki in 0..<g.kernelH {
                            for kj in 0..<g.kernelW {
                                let h = i * g.strideH - g.padH + ki
                                let v = j * g.strideW - g.padW + kj
                                guard h >= 0 && h < oh && v >= 0 && v < ow else { continue }
                                let wv = w[((ci * g.outChannels + co) * g.kernelH + ki) * g.kernelW + kj]
                                acc[((n * g.outChannels + co) * oh + h) * ow + v] += xv * Double(wv)
                            }
                        }
                    }
                }
            }
        }
    }
    for i in 0..<acc.count { y[i] = Float(acc[i]) }
}

// MARK: - Conv1D

/// Naive twin of `conv1dForward`. x: (N, C, L); w: (F, C, K); bias: (F) or nil; y: (N, F, OL).
public func conv1dForwardNaive(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, geometry g: Conv1DGeometry
) {
    let ol = g.outLength
    for n in 0..<g.batch {
        for f in 0..<g.filters {
            for o in 0..<ol {
                var acc = Double(bias?[f] ?? 0)
                for c in 0..<g.channels {
                    for k in 0..<g.kernel {
                        let l = o * g.stride - g.pad + k
                        guard l >= 0 && l < g.length else { continue }
                        acc += Double(x[(n * g.channels + c) * g.length + l])
                            * Double(w[(f * g.channels + c) * g.kernel + k])
                    }
                }
                y[(n * g.filters + f) * ol + o] = Float(acc)
            }
        }
    }
}
