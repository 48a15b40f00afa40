// Conv1D.swift — 1-D convolution and its transpose on (N, C, L), as the
// 2-D kernels with H = 1 and KH = 1 (no copy: the layouts coincide).

// MARK: - Geometry

/// The shape of a 1-D convolution.
///
/// - input x: (N, C, L); weight w: (F, C, K); output y: (N, F, OL)
/// - OL = (L + 2·pad − K) / stride + 1
public struct Conv1DGeometry: Hashable, Sendable {
    public var batch: Int
    public var channels: Int
    public var length: Int
    public var filters: Int
    public var kernel: Int
    public var stride: Int
    public var pad: Int

    public init(batch: Int, channels: Int, length: Int, filters: Int,
                kernel: Int, stride: Int = 1, pad: Int = 0) {
        self.batch = batch; self.channels = channels; self.length = length
        self.filters = filters; self.kernel = kernel; self.stride = stride; self.pad = pad
    }

    /// The same convolution as a 2-D one on (N, C, 1, L).
    public var conv2d: Conv2DGeometry {
        Conv2DGeometry(batch: batch, channels: channels, height: 1, width: length,
                       filters: filters, kernelH: 1, kernelW: kernel,
                       strideH: 1, strideW: stride, padH: 0, padW: pad)
    }

    public var outLength: Int { conv2d.outWidth }
    public var isValid: Bool { conv2d.isValid }
    public var workspaceCount: Int { conv2d.workspaceCount }
    /// What the kernels need on `threads` threads: the 2-D convolution's
    /// column matrix per batch worker, and the filter gradient's partials.
    public func workspaceCount(threads: Int, filterGradient: Bool) -> Int {
        conv2d.workspaceCount(threads: threads, filterGradient: filterGradient)
    }
}

/// The shape of a 1-D transposed convolution (PyTorch's `ConvTranspose1d`).
///
/// - input x: (N, Cin, L); weight w: (Cin, Cout, K); output y: (N, Cout, OL)
/// - OL = (L − 1)·stride − 2·pad + K + outputPad, with 0 <= outputPad < stride
public struct ConvTranspose1DGeometry: Hashable, Sendable {
    public var batch: Int
    public var inChannels: Int
    public var length: Int
    public var outChannels: Int
    public var kernel: Int
    public var stride: Int
    public var pad: Int
    public var outputPad: Int

    public init(batch: Int, inChannels: Int, length: Int, outChannels: Int,
                kernel: Int, stride: Int = 1, pad: Int = 0, outputPad: Int = 0) {
        self.batch = batch; self.inChannels = inChannels; self.length = length
        self.outChannels = outChannels; self.kernel = kernel; self.stride = stride
        self.pad = pad; self.outputPad = outputPad
    }

    /// The same transposed convolution as a 2-D one on (N, Cin, 1, L).
    public var convTranspose2d: ConvTranspose2DGeometry {
        ConvTranspose2DGeometry(
            batch: batch, inChannels: inChannels, height: 1, width: length,
            outChannels: outChannels, kernelH: 1, kernelW: kernel,
            strideH: 1, strideW: stride, padH: 0, padW: pad,
            outputPadH: 0, outputPadW: outputPad)
    }

    public var outLength: Int { convTranspose2d.outWidth }
    public var isValid: Bool { convTranspose2d.isValid }
    public var workspaceCount: Int { convTranspose2d.workspaceCount }
}

// MARK: - Convolution

/// y = conv1d(x, w) (+ bias). x: (N, C, L); w: (F, C, K); bias: (F) or nil; y: (N, F, OL).
public func conv1dForward(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, geometry g: Conv1DGeometry,
    workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
) {
    conv2dForward(x: x, w: w, bias: bias, y: y, geometry: g.conv2d, workspace: workspace, threads: threads)
}

/// dx from dy. dy: (N, F, OL); w: (F, C, K); dx: (N, C, L), overwritten.
public func conv1dInputGrad(
    dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, geometry g: Conv1DGeometry,
    workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
) {
    conv2dInputGrad(dy: dy, w: w, dx: dx, geometry: g.conv2d, workspace: workspace, threads: threads)
}

/// dw summed over the batch. x: (N, C, L); dy: (N, F, OL); dw: (F, C, K).
public func conv1dFilterGrad(
    x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dw: UnsafeMutablePointer<Float>, geometry g: Conv1DGeometry,
    workspace: UnsafeMutablePointer<Float>?, accumulate: Bool = false, threads: Int = 1
) {
    conv2dFilterGrad(x: x, dy: dy, dw: dw, geometry: g.conv2d,
                     workspace: workspace, accumulate: accumulate, threads: threads)
}

// MARK: - Transposed convolution

/// y = conv_transpose1d(x, w) (+ bias). x: (N, Cin, L); w: (Cin, Cout, K); bias: (Cout) or nil; y: (N, Cout, OL).
public func convTranspose1dForward(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, geometry g: ConvTranspose1DGeometry,
    workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
) {
    convTranspose2dForward(x: x, w: w, bias: bias, y: y, geometry: g.convTranspose2d,
                           workspace: workspace, threads: threads)
}

/// dx from dy. dy: (N, Cout, OL); w: (Cin, Cout, K); dx: (N, Cin, L), overwritten.
public func convTranspose1dInputGrad(
    dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, geometry g: ConvTranspose1DGeometry,
    workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
) {
    convTranspose2dInputGrad(dy: dy, w: w, dx: dx, geometry: g.convTranspose2d,
                             workspace: workspace, threads: threads)
}

/// dw summed over the batch. x: (N, Cin, L); dy: (N, Cout, OL); dw: (Cin, Cout, K).
public func convTranspose1dFilterGrad(
    x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dw: UnsafeMutablePointer<Float>, geometry g: ConvTranspose1DGeometry,
    workspace: UnsafeMutablePointer<Float>?, accumulate: Bool = false, threads: Int = 1
) {
    convTranspose2dFilterGrad(x: x, dy: dy, dw: dw, geometry: g.convTranspose2d,
                              workspace: workspace, accumulate: accumulate, threads: threads)
}
