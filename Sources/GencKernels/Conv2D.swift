// Conv2D.swift — 2-D convolution forward, input-gradient and filter-gradient
// by im2col + sgemm, one image at a time.
//
// Per image n, with col = im2col(x[n]) of shape (C·KH·KW, OH·OW) and the
// weight viewed as a matrix W (F, C·KH·KW):
//   forward        y[n]  = W · col                       (F, OH·OW)
//   input-gradient dx[n] = col2im(Wᵀ · dy[n])
//   filter-grad    dw   += dy[n] · colᵀ                  (F, C·KH·KW)
// A pointwise convolution (1×1, stride 1, no padding) skips im2col: the
// image is its own column matrix. The workspace holds one image's column
// matrix (`Conv2DGeometry.workspaceCount` floats); nothing is allocated here.
// `threads` splits im2col/col2im over channels and each sgemm into blocks
// (GEMM.swift); neither split changes a result.

// MARK: - Forward

/// y = conv2d(x, w) (+ bias per output channel).
///
/// - x: (N, C, H, W)
/// - w: (F, C, KH, KW)
/// - bias: (F), or nil
/// - y: (N, F, OH, OW), overwritten
/// - workspace: `g.workspaceCount` floats
///
/// - Complexity: 2·N·F·C·KH·KW·OH·OW flops.
public func conv2dForward(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, geometry g: Conv2DGeometry,
    workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
) {
    precondition(g.isValid, "conv2dForward: invalid geometry \(g)")
    let (k, p) = (g.colRows, g.colCols)
    for n in 0..<g.batch {
        let xn = x + n * g.channels * g.height * g.width
        let yn = y + n * g.filters * p
        let col = columns(of: xn, g, workspace, threads)
        if let bias {
            for f in 0..<g.filters { (yn + f * p).update(repeating: bias[f], count: p) }
        }
        sgemm(transA: false, transB: false, m: g.filters, n: p, k: k,
              alpha: 1, a: w, lda: k, b: col, ldb: p,
              beta: bias == nil ? 0 : 1, c: yn, ldc: p, threads: threads)
    }
}

// MARK: - Input gradient

/// dx = the gradient of conv2d with respect to its input (also: the transposed convolution).
///
/// - dy: (N, F, OH, OW)
/// - w: (F, C, KH, KW)
/// - dx: (N, C, H, W), overwritten
/// - workspace: `g.workspaceCount` floats
public func conv2dInputGrad(
    dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, geometry g: Conv2DGeometry,
    workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
) {
    precondition(g.isValid, "conv2dInputGrad: invalid geometry \(g)")
    let (k, p) = (g.colRows, g.colCols)
    let imageCount = g.channels * g.height * g.width
    for n in 0..<g.batch {
        let dyn = dy + n * g.filters * p
        let dxn = dx + n * imageCount
        if g.isPointwise {
            sgemm(transA: true, transB: false, m: k, n: p, k: g.filters,
                  alpha: 1, a: w, lda: k, b: dyn, ldb: p, beta: 0, c: dxn, ldc: p, threads: threads)
            continue
        }
        guard let col = workspace else { preconditionFailure("conv2dInputGrad: workspace required") }
        sgemm(transA: true, transB: false, m: k, n: p, k: g.filters,
              alpha: 1, a: w, lda: k, b: dyn, ldb: p, beta: 0, c: col, ldc: p, threads: threads)
        dxn.update(repeating: 0, count: imageCount)
        col2imAdd(col, dxn, g, threads: threads)
    }
}

// MARK: - Filter gradient

/// dw = the gradient of conv2d with respect to its weight, summed over the batch.
///
/// - x: (N, C, H, W)
/// - dy: (N, F, OH, OW)
/// - dw: (F, C, KH, KW), overwritten (or added to when `accumulate`)
/// - workspace: `g.workspaceCount` floats
public func conv2dFilterGrad(
    x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dw: UnsafeMutablePointer<Float>, geometry g: Conv2DGeometry,
    workspace: UnsafeMutablePointer<Float>?, accumulate: Bool = false, threads: Int = 1
) {
    precondition(g.isValid, "conv2dFilterGrad: invalid geometry \(g)")
    let (k, p) = (g.colRows, g.colCols)
    for n in 0..<g.batch {
        let xn = x + n * g.channels * g.height * g.width
        let col = columns(of: xn, g, workspace, threads)
        sgemm(transA: false, transB: true, m: g.filters, n: k, k: p,
              alpha: 1, a: dy + n * g.filters * p, lda: p, b: col, ldb: p,
              beta: (n == 0 && !accumulate) ? 0 : 1, c: dw, ldc: k, threads: threads)
    }
}

// MARK: - Helpers

/// One image's column matrix: the image itself when pointwise, else im2col into the workspace.
@inline(__always)
private func columns(
    of xn: UnsafePointer<Float>, _ g: Conv2DGeometry, _ workspace: UnsafeMutablePointer<Float>?,
    _ threads: Int
) -> UnsafePointer<Float> {
    if g.isPointwise { return xn }
    guard let workspace else { preconditionFailure("conv2d: workspace required (\(g.workspaceCount) floats)") }
    im2col(xn, workspace, g, threads: threads)
    return UnsafePointer(workspace)
}
