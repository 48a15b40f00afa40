// ConvTranspose2D.swift — the transposed 2-D convolution and its gradients.
//
// A transposed convolution is the input-gradient of the convolution
// `g.conv` (ConvGeometry.swift), with PyTorch's weight layout
// (Cin, Cout, KH, KW) being exactly that convolution's (F, C, KH, KW). So:
//   forward        = conv2dInputGrad  (dy: x, dx: y)
//   input-gradient = conv2dForward    (x: dy, y: dx)
//   filter-grad    = conv2dFilterGrad (x: dy, dy: x)

/// y = conv_transpose2d(x, w) (+ bias per output channel).
///
/// - x: (N, Cin, H, W)
/// - w: (Cin, Cout, KH, KW)
/// - bias: (Cout), or nil
/// - y: (N, Cout, OH, OW), overwritten; OH = (H−1)·sh − 2·ph + KH + outputPadH
/// - workspace: `g.workspaceCount` floats
public func convTranspose2dForward(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, geometry g: ConvTranspose2DGeometry,
    workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
) {
    precondition(g.isValid, "convTranspose2dForward: invalid geometry \(g)")
    conv2dInputGrad(dy: x, w: w, dx: y, geometry: g.conv, workspace: workspace, threads: threads)
    if let bias {
        addChannelBias(y, bias: bias, batch: g.batch, channels: g.outChannels,
                       spatial: g.outHeight * g.outWidth)
    }
}

/// dx = the gradient of conv_transpose2d with respect to its input.
///
/// - dy: (N, Cout, OH, OW)
/// - w: (Cin, Cout, KH, KW)
/// - dx: (N, Cin, H, W), overwritten
/// - workspace: `g.workspaceCount` floats
public func convTranspose2dInputGrad(
    dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, geometry g: ConvTranspose2DGeometry,
    workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
) {
    precondition(g.isValid, "convTranspose2dInputGrad: invalid geometry \(g)")
    conv2dForward(x: dy, w: w, bias: nil, y: dx, geometry: g.conv, workspace: workspace, threads: threads)
}

/// dw = the gradient of conv_transpose2d with respect to its weight, summed over the batch.
///
/// - x: (N, Cin, H, W)
/// - dy: (N, Cout, OH, OW)
/// - dw: (Cin, Cout, KH, KW), overwritten (or added to when `accumulate`)
/// - workspace: `g.workspaceCount` floats
public func convTranspose2dFilterGrad(
    x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dw: UnsafeMutablePointer<Float>, geometry g: ConvTranspose2DGeometry,
    workspace: UnsafeMutablePointer<Float>?, accumulate: Bool = false, threads: Int = 1
) {
    precondition(g.isValid, "convTranspose2dFilterGrad: invalid geometry \(g)")
    conv2dFilterGrad(x: dy, dy: x, dw: dw, geometry: g.conv,
                     workspace: workspace, accumulate: accumulate, threads: threads)
}
