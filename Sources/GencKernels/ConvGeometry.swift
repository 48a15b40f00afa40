// ConvGeometry.swift — the shapes of a 2-D convolution and its transpose.
//
// Output sizes use floor division (PyTorch's default, `ceil_mode=False`);
// padding is symmetric (the same on both sides of an axis); no dilation.

// MARK: - Convolution

/// The shape of a 2-D convolution on NCHW data.
///
/// - input x: (N, C, H, W); weight w: (F, C, KH, KW); output y: (N, F, OH, OW)
/// - OH = (H + 2·padH − KH) / strideH + 1, and likewise OW
public struct Conv2DGeometry: Hashable, Sendable {
    public var batch: Int
    public var channels: Int
    public var height: Int
    public var width: Int
    public var filters: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padH: Int
    public var padW: Int

    public init(
        batch: Int, channels: Int, height: Int, width: Int,
        filters: Int, kernelH: Int, kernelW: Int,
        strideH: Int = 1, strideW: Int = 1, padH: Int = 0, padW: Int = 0
    ) {
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.filters = filters; self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW; self.padH = padH; self.padW = padW
    }

    public var outHeight: Int { floorDiv(height + 2 * padH - kernelH, strideH) + 1 }
    public var outWidth: Int { floorDiv(width + 2 * padW - kernelW, strideW) + 1 }

    /// True when every size is positive, padding is non-negative and the
    /// output is at least 1×1. Kernels check this as a precondition.
    public var isValid: Bool {
        batch > 0 && channels > 0 && height > 0 && width > 0 && filters > 0
            && kernelH > 0 && kernelW > 0 && strideH > 0 && strideW > 0
            && padH >= 0 && padW >= 0 && outHeight > 0 && outWidth > 0
    }

    /// Floats in x, (N, C, H, W).
    public var inputCount: Int { batch * channels * height * width }
    /// Floats in y, (N, F, OH, OW).
    public var outputCount: Int { batch * filters * outHeight * outWidth }
    /// Floats in w, (F, C, KH, KW).
    public var weightCount: Int { filters * channels * kernelH * kernelW }

    /// Rows of one image's column matrix: C·KH·KW.
    var colRows: Int { channels * kernelH * kernelW }
    /// Columns of one image's column matrix: OH·OW.
    var colCols: Int { outHeight * outWidth }

    /// A 1×1 kernel with stride 1 and no padding: the image already is its
    /// column matrix, so no im2col (and no workspace) is needed.
    public var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0
    }

    /// The columns one GEMM of the conv2d kernels aims for: an image with
    /// fewer output positions is multiplied together with the next images of
    /// its run (`groupImages`), since a GEMM of 49 columns (a 7×7 output)
    /// runs at about 60% of the rate of one of 500.
    public static let groupColumns = 512

    /// Images whose column matrices sit side by side in one GEMM: enough
    /// for `groupColumns` columns, at most the batch; 1 for a pointwise
    /// convolution (an image is its own column matrix) or an image of at
    /// least `groupColumns` positions. It depends on the shape alone, so the
    /// groups, and the bits, are the same on any thread count.
    public var groupImages: Int {
        if isPointwise || colCols >= Self.groupColumns || colCols == 0 { return 1 }
        return max(1, min(batch, (Self.groupColumns + colCols - 1) / colCols))
    }

    /// The batch in groups of `groupImages` (the last may be short).
    var groups: Int { (batch + groupImages - 1) / groupImages }

    /// Floats of workspace one worker of the conv2d kernels needs: a group's
    /// column matrix, (C·KH·KW, images·OH·OW), for a group of several
    /// images its output or output gradient gathered as (F, images·OH·OW),
    /// and the stride phases of one channel (`phaseScratchCount`, at
    /// `phaseScratchOffset`); 0 for a pointwise convolution.
    public var workspaceCount: Int {
        if isPointwise { return 0 }
        let (sum, overflow) = phaseScratchOffset.addingReportingOverflow(phaseScratchCount)
        return overflow ? Int.max / 2 : sum
    }

    /// Where in a worker's workspace the stride phases start.
    var phaseScratchOffset: Int {
        let b = groupImages
        return colRows * colCols * b + (b > 1 ? filters * colCols * b : 0)
    }

    /// Row phases a kernel tap reads (Im2Col.swift): ki mod sh for ki < KH,
    /// so min(sh, KH) — a stride past the kernel skips the other rows.
    var rowPhases: Int { min(strideH, kernelH) }
    /// Column phases a kernel tap reads, min(sw, KW).
    var colPhases: Int { min(strideW, kernelW) }
    /// Rows of a stride phase: enough for the OH×OW window of every kernel
    /// row, OH + (KH − 1) / sh.
    var phaseRows: Int { outHeight + (kernelH - 1) / strideH }
    /// Columns of a stride phase, OW + (KW − 1) / sw.
    var phaseCols: Int { outWidth + (kernelW - 1) / strideW }
    /// Floats of one channel's stride phases, rowPhases·colPhases of PH×PW,
    /// and 8 more that a vector over a phase's last row may read; a huge
    /// count (Int.max / 2 on overflow) is refused by the memory check.
    public var phaseScratchCount: Int {
        var n = 1
        for f in [rowPhases, colPhases, phaseRows, phaseCols] {
            let (m, overflow) = n.multipliedReportingOverflow(by: f)
            if overflow { return Int.max / 2 }
            n = m
        }
        return n + 8
    }

    /// Workers the conv2d kernels split the batch over on `threads` threads:
    /// each takes a contiguous run of whole images, with its own column
    /// matrix, so every GEMM is whole (no blocks); a run is whole groups of
    /// `groupImages`. One when there is a single group or too little work (under 2 × 2¹⁸ multiply-adds per
    /// worker), and at most 4, as for GEMMs (GEMM.swift).
    public func batchWorkers(threads: Int) -> Int {
        guard threads > 1, batch > 1 else { return 1 }
        let (perImage, o1) = filters.multipliedReportingOverflow(by: colRows)
        let (macs, o2) = perImage.multipliedReportingOverflow(by: colCols)
        let (total, o3) = macs.multipliedReportingOverflow(by: batch)
        let work = (o1 || o2 || o3) ? Int.max : total
        var workers = 1
        while workers < min(threads, groups, GEMMSplit.maximumParts),
              work / (workers + 1) >= 2 * GEMMSplit.minimumWorkPerPart { workers += 1 }
        return workers
    }

    /// The images worker `w` of `workers` takes: a run of whole groups.
    func images(worker w: Int, of workers: Int) -> Range<Int> {
        let b = groupImages
        return min(batch, groups * w / workers * b) ..< min(batch, groups * (w + 1) / workers * b)
    }

    /// Floats of workspace the conv2d kernels need on `threads` threads: a
    /// column matrix per worker, and for the filter gradient also a partial
    /// weight gradient per worker but the first.
    public func workspaceCount(threads: Int, filterGradient: Bool) -> Int {
        let workers = batchWorkers(threads: threads)
        let (columns, o1) = workers.multipliedReportingOverflow(by: workspaceCount)
        let (partials, o2) = (filterGradient ? workers - 1 : 0).multipliedReportingOverflow(by: weightCount)
        let (sum, o3) = columns.addingReportingOverflow(partials)
        return o1 || o2 || o3 ? Int.max / 2 : sum
    }
}

// MARK: - Transposed convolution

/// The shape of a 2-D transposed convolution (PyTorch's `ConvTranspose2d`).
///
/// - input x: (N, Cin, H, W); weight w: (Cin, Cout, KH, KW); output y: (N, Cout, OH, OW)
/// - OH = (H − 1)·strideH − 2·padH + KH + outputPadH, and likewise OW
///
/// It is the input-gradient of the convolution `conv` below, whose input is
/// y and whose output is x; `outputPad` (< stride) picks among the input
/// sizes that convolution maps to the same output size.
public struct ConvTranspose2DGeometry: Hashable, Sendable {
    public var batch: Int
    public var inChannels: Int
    public var height: Int
    public var width: Int
    public var outChannels: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padH: Int
    public var padW: Int
    public var outputPadH: Int
    public var outputPadW: Int

    public init(
        batch: Int, inChannels: Int, height: Int, width: Int,
        outChannels: Int, kernelH: Int, kernelW: Int,
        strideH: Int = 1, strideW: Int = 1, padH: Int = 0, padW: Int = 0,
        outputPadH: Int = 0, outputPadW: Int = 0
    ) {
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW; self.padH = padH; self.padW = padW
        self.outputPadH = outputPadH; self.outputPadW = outputPadW
    }

    public var outHeight: Int { (height - 1) * strideH - 2 * padH + kernelH + outputPadH }
    public var outWidth: Int { (width - 1) * strideW - 2 * padW + kernelW + outputPadW }

    /// The convolution this is the input-gradient of: input (N, Cout, OH, OW),
    /// weight (Cin, Cout, KH, KW), output (N, Cin, H, W).
    public var conv: Conv2DGeometry {
        Conv2DGeometry(
            batch: batch, channels: outChannels, height: outHeight, width: outWidth,
            filters: inChannels, kernelH: kernelH, kernelW: kernelW,
            strideH: strideH, strideW: strideW, padH: padH, padW: padW)
    }

    /// True when the sizes are positive, `0 <= outputPad < stride` and the
    /// output is non-empty (so `conv` maps y's shape back to x's exactly).
    public var isValid: Bool {
        outputPadH >= 0 && outputPadW >= 0 && outputPadH < strideH && outputPadW < strideW
            && conv.isValid && conv.outHeight == height && conv.outWidth == width
    }

    /// Floats in x, (N, Cin, H, W).
    public var inputCount: Int { batch * inChannels * height * width }
    /// Floats in y, (N, Cout, OH, OW).
    public var outputCount: Int { batch * outChannels * outHeight * outWidth }
    /// Floats in w, (Cin, Cout, KH, KW).
    public var weightCount: Int { inChannels * outChannels * kernelH * kernelW }
    /// Floats of workspace the kernels need (that of `conv`).
    public var workspaceCount: Int { conv.workspaceCount }
}

// MARK: - Integer helpers

/// ⌊a / b⌋ for b > 0, also for negative a.
@inline(__always)
func floorDiv(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// ⌈a / b⌉ for b > 0, also for negative a.
@inline(__always)
func ceilDiv(_ a: Int, _ b: Int) -> Int {
    -floorDiv(-a, b)
}
