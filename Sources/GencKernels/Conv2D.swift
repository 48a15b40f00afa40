// Conv2D.swift — 2-D convolution forward, input-gradient and filter-gradient
// by im2col + sgemm, one image or one group of images at a time.
//
// Per image n, with col = im2col(x[n]) of shape (C·KH·KW, OH·OW) and the
// weight viewed as a matrix W (F, C·KH·KW):
//   forward        y[n]  = W · col                       (F, OH·OW)
//   input-gradient dx[n] = col2im(Wᵀ · dy[n])
//   filter-grad    dw   += dy[n] · colᵀ                  (F, C·KH·KW)
// An image of fewer than 512 output positions is multiplied with the next
// images of its run (`Conv2DGeometry.groupImages`): their column matrices
// side by side (row stride images·OH·OW), one GEMM, and the output (or
// output gradient) moved between the group's (F, images·OH·OW) and the
// batch's (N, F, OH·OW) layout — a 7×7 output's GEMM of 49 columns runs far
// below the rate of one of 539. A pointwise convolution (1×1, stride 1, no
// padding) skips im2col: the image is its own column matrix. Nothing is allocated here: the workspace
// holds `g.workspaceCount(threads:filterGradient:)` floats.
//
// Threads split the batch (`Conv2DGeometry.batchWorkers`): each worker runs
// its images' im2col, GEMMs and col2im single-threaded, into its own column
// matrix, so the forward pass and the input gradient give the bits of one
// thread. The filter gradient sums over images: worker w sums its images in
// order into its own partial (worker 0 into dw), and the partials are added
// to dw in worker order, so it is the same bits for the same thread count,
// and equal to float rounding across thread counts (docs/reliability.md).
// With one worker (one image, or little work) the GEMMs and im2col split
// into blocks instead (GEMM.swift, Im2Col.swift); neither split changes a
// result.

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
    forImageRuns(g, threads, ForwardImages(x: x, w: w, bias: bias, y: y, g: g, workspace: workspace))
}

private struct ForwardImages: ImageRunBody {
    let x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>, g: Conv2DGeometry, workspace: UnsafeMutablePointer<Float>?

    func run(images: Range<Int>, worker: Int, threads inner: Int) {
        let (k, p) = (g.colRows, g.colCols)
        let ws = workspace.map { $0 + worker * g.workspaceCount }
        forGroups(images, g) { group in
            // One image is written in place; a group's (F, images·OH·OW) result goes out row by row.
            let ld = group.count * p
            let col = groupColumns(x, group, g, ws, inner)
            let out = group.count == 1 ? y + group.lowerBound * g.filters * p : ws! + k * ld
            if let bias {
                for f in 0..<g.filters { (out + f * ld).update(repeating: bias[f], count: ld) }
            }
            sgemm(transA: false, transB: false, m: g.filters, n: ld, k: k,
                  alpha: 1, a: w, lda: k, b: col, ldb: ld,
                  beta: bias == nil ? 0 : 1, c: out, ldc: ld, threads: inner)
            guard group.count > 1 else { return }
            for (j, n) in group.enumerated() {
                scatterRows(from: out + j * p, ld: ld, to: y + n * g.filters * p, rows: g.filters, p)
            }
        }
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
    forImageRuns(g, threads, InputGradImages(dy: dy, w: w, dx: dx, g: g, workspace: workspace))
}

private struct InputGradImages: ImageRunBody {
    let dy: UnsafePointer<Float>, w: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
    let g: Conv2DGeometry, workspace: UnsafeMutablePointer<Float>?

    func run(images: Range<Int>, worker: Int, threads inner: Int) {
        let (k, p) = (g.colRows, g.colCols)
        let imageCount = g.channels * g.height * g.width
        forGroups(images, g) { group in
            if g.isPointwise {
                for n in group {
                    sgemm(transA: true, transB: false, m: k, n: p, k: g.filters,
                          alpha: 1, a: w, lda: k, b: dy + n * g.filters * p, ldb: p, beta: 0, c: dx + n * imageCount, ldc: p, threads: inner)
                }
                return
            }
            guard let workspace else { preconditionFailure("conv2dInputGrad: workspace required") }
            let ld = group.count * p
            let col = workspace + worker * g.workspaceCount
            let rows = groupRows(dy, group, g, scratch: col + k * ld)
            sgemm(transA: true, transB: false, m: k, n: ld, k: g.filters,
                  alpha: 1, a: w, lda: k, b: rows, ldb: ld, beta: 0, c: col, ldc: ld, threads: inner)
            for (j, n) in group.enumerated() {
                (dx + n * imageCount).update(repeating: 0, count: imageCount)
                col2imAdd(col + j * p, dx + n * imageCount, g, ld: ld,
                          scratch: col + g.phaseScratchOffset, threads: inner)
            }
        }
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
    let workers = g.batchWorkers(threads: threads)
    // Worker w > 0 sums into its partial, after the column matrices.
    let partials = workspace.map { $0 + workers * g.workspaceCount }
    if workers > 1 { precondition(partials != nil, "conv2dFilterGrad: workspace required") }
    forImageRuns(g, threads, FilterGradImages(
        x: x, dy: dy, dw: dw, g: g, workspace: workspace, partials: partials, accumulate: accumulate))
    guard workers > 1, let partials else { return }
    // dw += partial 1 + partial 2 + ..., in worker order, for each element.
    parallelFor(count: g.weightCount, grain: elementwiseGrain, threads: threads,
                SumPartials(dw: dw, partials: partials, count: g.weightCount, workers: workers))
}

private struct FilterGradImages: ImageRunBody {
    let x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>
    let g: Conv2DGeometry, workspace: UnsafeMutablePointer<Float>?
    let partials: UnsafeMutablePointer<Float>?, accumulate: Bool

    func run(images: Range<Int>, worker: Int, threads inner: Int) {
        let (k, p) = (g.colRows, g.colCols)
        let ws = workspace.map { $0 + worker * g.workspaceCount }
        let out = worker == 0 ? dw : partials! + (worker - 1) * g.weightCount
        let startsFresh = worker > 0 || !accumulate
        forGroups(images, g) { group in
            let beta: Float = (group.lowerBound == images.lowerBound && startsFresh) ? 0 : 1
            let ld = group.count * p
            let col = groupColumns(x, group, g, ws, inner)
            let rows = groupRows(dy, group, g, scratch: ws.map { $0 + k * ld })
            sgemm(transA: false, transB: true, m: g.filters, n: k, k: ld,
                  alpha: 1, a: rows, lda: ld, b: col, ldb: ld,
                  beta: beta, c: out, ldc: k, threads: inner)
        }
    }
}

private struct SumPartials: ParallelBody {
    let dw: UnsafeMutablePointer<Float>, partials: UnsafeMutablePointer<Float>, count: Int, workers: Int
    func run(_ r: Range<Int>) {
        for w in 1..<workers {
            let part = partials + (w - 1) * count
            for i in r { dw[i] += part[i] }
        }
    }
}

// MARK: - Helpers

/// Runs `body(images, worker, innerThreads)` for each worker's run of
/// images: on `g.batchWorkers(threads:)` workers, each single-threaded
/// inside; or, with one worker, once for the whole batch with all the
/// threads for its GEMMs and im2col.
@inline(__always)
private func forImageRuns<Body: ImageRunBody>(_ g: Conv2DGeometry, _ threads: Int, _ body: Body) {
    let workers = g.batchWorkers(threads: threads)
    if workers == 1 {
        body.run(images: 0..<g.batch, worker: 0, threads: threads)
        return
    }
    WorkerPool.shared.run(workers, ImageRuns(body: body, g: g, workers: workers))
}

/// What a convolution does to a run of images, as worker `worker` with
/// `inner` threads for its own GEMMs and im2col.
private protocol ImageRunBody {
    func run(images: Range<Int>, worker: Int, threads inner: Int)
}

/// Worker w's run of images, single-threaded inside.
private struct ImageRuns<Body: ImageRunBody>: ParallelTasks {
    let body: Body, g: Conv2DGeometry, workers: Int
    func run(task w: Int) { body.run(images: g.images(worker: w, of: workers), worker: w, threads: 1) }
}

/// Calls `body` for each group of `images` (`Conv2DGeometry.groupImages`
/// long, the last of the batch maybe shorter), in order. Runs start on
/// group boundaries (`images(worker:of:)`), so the groups are the same on
/// any thread count.
@inline(__always)
private func forGroups(_ images: Range<Int>, _ g: Conv2DGeometry, _ body: (Range<Int>) -> Void) {
    let b = g.groupImages
    var n = images.lowerBound
    while n < images.upperBound {
        let end = min(n + b, images.upperBound)
        body(n..<end)
        n = end
    }
}

/// dst[r, 0..<p] = src[r·ld ..< r·ld + p] for each of `rows` rows (dst contiguous).
@inline(__always)
private func scatterRows(from src: UnsafePointer<Float>, ld: Int, to dst: UnsafeMutablePointer<Float>, rows: Int, _ p: Int) {
    for r in 0..<rows { (dst + r * p).update(from: src + r * ld, count: p) }
}

/// dst[r·ld ..< r·ld + p] = src[r, 0..<p] for each of `rows` rows (src contiguous).
@inline(__always)
private func gatherRows(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, ld: Int, rows: Int, _ p: Int) {
    for r in 0..<rows { (dst + r * ld).update(from: src + r * p, count: p) }
}

/// A group's column matrix, (C·KH·KW, images·OH·OW): one image's (`columns`),
/// or each image's im2col side by side in the workspace.
@inline(__always)
private func groupColumns(
    _ x: UnsafePointer<Float>, _ group: Range<Int>, _ g: Conv2DGeometry,
    _ workspace: UnsafeMutablePointer<Float>?, _ threads: Int
) -> UnsafePointer<Float> {
    let imageCount = g.channels * g.height * g.width
    if group.count == 1 { return columns(of: x + group.lowerBound * imageCount, g, workspace, threads) }
    guard let workspace else { preconditionFailure("conv2d: workspace required (\(g.workspaceCount) floats)") }
    let ld = group.count * g.colCols
    for (j, n) in group.enumerated() {
        im2col(x + n * imageCount, workspace + j * g.colCols, g, ld: ld,
               spare: (group.count - 1 - j) * g.colCols, scratch: workspace + g.phaseScratchOffset, threads: threads)
    }
    return UnsafePointer(workspace)
}

/// A group's rows of an (N, F, OH·OW) tensor as one (F, images·OH·OW)
/// matrix: in place for one image, gathered into `scratch` for several.
@inline(__always)
private func groupRows(
    _ t: UnsafePointer<Float>, _ group: Range<Int>, _ g: Conv2DGeometry, scratch: UnsafeMutablePointer<Float>?
) -> UnsafePointer<Float> {
    let p = g.colCols
    if group.count == 1 { return t + group.lowerBound * g.filters * p }
    guard let scratch else { preconditionFailure("conv2d: workspace required (\(g.workspaceCount) floats)") }
    for (j, n) in group.enumerated() {
        gatherRows(from: t + n * g.filters * p, to: scratch + j * p, ld: group.count * p, rows: g.filters, p)
    }
    return UnsafePointer(scratch)
}

/// One image's column matrix: the image itself when pointwise, else im2col into the workspace.
@inline(__always)
private func columns(
    of xn: UnsafePointer<Float>, _ g: Conv2DGeometry, _ workspace: UnsafeMutablePointer<Float>?,
    _ threads: Int
) -> UnsafePointer<Float> {
    if g.isPointwise { return xn }
    guard let workspace else { preconditionFailure("conv2d: workspace required (\(g.workspaceCount) floats)") }
    im2col(xn, workspace, g, scratch: workspace + g.phaseScratchOffset, threads: threads)
    return UnsafePointer(workspace)
}
