import XCTest
import GencKernels

final class Conv2DTests: XCTestCase {
    /// Small random geometries: batch 1 and more, odd sizes, stride > 1,
    /// padding, non-square kernels, plus fixed corner cases.
    static func geometries(_ rng: inout TestRNG) -> [Conv2DGeometry] {
        var gs = [
            Conv2DGeometry(batch: 1, channels: 1, height: 1, width: 1, filters: 1, kernelH: 1, kernelW: 1),
            Conv2DGeometry(batch: 2, channels: 3, height: 5, width: 4, filters: 2, kernelH: 1, kernelW: 1),  // pointwise
            Conv2DGeometry(batch: 1, channels: 2, height: 7, width: 9, filters: 3, kernelH: 3, kernelW: 2,
                           strideH: 2, strideW: 3, padH: 1, padW: 2),
            Conv2DGeometry(batch: 2, channels: 1, height: 8, width: 8, filters: 4, kernelH: 4, kernelW: 4,
                           strideH: 2, strideW: 2, padH: 1, padW: 1),  // DCGAN-like
            Conv2DGeometry(batch: 1, channels: 2, height: 3, width: 3, filters: 2, kernelH: 5, kernelW: 5,
                           padH: 2, padW: 2),  // kernel larger than the image
        ]
        while gs.count < 14 {
            let g = Conv2DGeometry(
                batch: rng.int(1...3), channels: rng.int(1...4), height: rng.int(1...9), width: rng.int(1...9),
                filters: rng.int(1...4), kernelH: rng.int(1...4), kernelW: rng.int(1...4),
                strideH: rng.int(1...3), strideW: rng.int(1...3), padH: rng.int(0...2), padW: rng.int(0...2))
            if g.isValid { gs.append(g) }
        }
        return gs
    }

    func testForwardAgainstNaive() {
        var rng = TestRNG(10)
        for g in Self.geometries(&rng) {
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), bias = rng.array(g.filters)
            for useBias in [false, true] {
                var y = [Float](repeating: .nan, count: g.outputCount), ref = y
                withWorkspace(g.workspaceCount) { ws in
                    conv2dForward(x: x, w: w, bias: useBias ? bias : nil, y: &y, geometry: g, workspace: ws)
                }
                conv2dForwardNaive(x: x, w: w, bias: useBias ? bias : nil, y: &ref, geometry: g)
                assertClose(y, ref, rtol: 1e-5, "\(g) bias \(useBias)")
            }
        }
    }

    func testGradientsAgainstNaive() {
        var rng = TestRNG(11)
        for g in Self.geometries(&rng) {
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            var dx = [Float](repeating: .nan, count: g.inputCount), dxRef = dx
            var dw = [Float](repeating: .nan, count: g.weightCount), dwRef = dw
            withWorkspace(g.workspaceCount) { ws in
                conv2dInputGrad(dy: dy, w: w, dx: &dx, geometry: g, workspace: ws)
                conv2dFilterGrad(x: x, dy: dy, dw: &dw, geometry: g, workspace: ws)
            }
            conv2dInputGradNaive(dy: dy, w: w, dx: &dxRef, geometry: g)
            conv2dFilterGradNaive(x: x, dy: dy, dw: &dwRef, geometry: g)
            assertClose(dx, dxRef, rtol: 1e-5, "input grad \(g)")
            assertClose(dw, dwRef, rtol: 1e-5, "filter grad \(g)")
        }
    }

    /// <conv(x, w), dy> == <x, conv_input_grad(dy, w)> == <w, conv_filter_grad(x, dy)>.
    func testAdjointIdentity() {
        var rng = TestRNG(12)
        for g in Self.geometries(&rng) {
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            var y = [Float](repeating: 0, count: g.outputCount)
            var dx = [Float](repeating: 0, count: g.inputCount)
            var dw = [Float](repeating: 0, count: g.weightCount)
            withWorkspace(g.workspaceCount) { ws in
                conv2dForward(x: x, w: w, bias: nil, y: &y, geometry: g, workspace: ws)
                conv2dInputGrad(dy: dy, w: w, dx: &dx, geometry: g, workspace: ws)
                conv2dFilterGrad(x: x, dy: dy, dw: &dw, geometry: g, workspace: ws)
            }
            let (a, b, c) = (dot(y, dy), dot(x, dx), dot(w, dw))
            assertClose(a, b, rtol: 1e-5, "\(g)")
            assertClose(a, c, rtol: 1e-5, "\(g)")
        }
    }

    func testFilterGradAccumulates() {
        var rng = TestRNG(13)
        let g = Conv2DGeometry(batch: 2, channels: 2, height: 5, width: 5, filters: 3,
                               kernelH: 3, kernelW: 3, padH: 1, padW: 1)
        let x = rng.array(g.inputCount), dy = rng.array(g.outputCount)
        var dw = [Float](repeating: 0, count: g.weightCount)
        withWorkspace(g.workspaceCount) { ws in
            conv2dFilterGrad(x: x, dy: dy, dw: &dw, geometry: g, workspace: ws)
            conv2dFilterGrad(x: x, dy: dy, dw: &dw, geometry: g, workspace: ws, accumulate: true)
        }
        var ref = [Float](repeating: 0, count: g.weightCount)
        conv2dFilterGradNaive(x: x, dy: dy, dw: &ref, geometry: g)
        assertClose(dw, ref.map { 2 * $0 }, rtol: 1e-5)
    }

    /// Splitting im2col/col2im over threads changes nothing (a geometry big enough to split).
    func testThreadsGiveSameResult() {
        var rng = TestRNG(15)
        let g = Conv2DGeometry(batch: 2, channels: 8, height: 32, width: 32, filters: 3,
                               kernelH: 3, kernelW: 3, padH: 1, padW: 1)
        let x = rng.array(g.inputCount), w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
        var results: [[Float]] = []
        for threads in [1, 2] {
            var y = [Float](repeating: 0, count: g.outputCount)
            var dx = [Float](repeating: 0, count: g.inputCount)
            var dw = [Float](repeating: 0, count: g.weightCount)
            withWorkspace(g.workspaceCount) { ws in
                conv2dForward(x: x, w: w, bias: nil, y: &y, geometry: g, workspace: ws, threads: threads)
                conv2dInputGrad(dy: dy, w: w, dx: &dx, geometry: g, workspace: ws, threads: threads)
                conv2dFilterGrad(x: x, dy: dy, dw: &dw, geometry: g, workspace: ws, threads: threads)
            }
            results.append(y + dx + dw)
        }
        XCTAssertEqual(results[0], results[1])
        var dxRef = [Float](repeating: 0, count: g.inputCount)
        conv2dInputGradNaive(dy: dy, w: w, dx: &dxRef, geometry: g)
        assertClose(Array(results[1][g.outputCount..<(g.outputCount + g.inputCount)]), dxRef, rtol: 1e-5)
    }

    /// Threads split the batch: forward and input gradient give one thread's
    /// bits; the filter gradient (partials added in worker order) is the
    /// same bits run to run and within rounding of one thread; all three
    /// match the naive kernels, with bias, accumulation and uneven runs.
    /// Once with an image per GEMM (512 output positions), once with groups
    /// of 11 images of 49 positions side by side (the last group short).
    func testBatchSplitAcrossWorkers() {
        var rng = TestRNG(16)
        let perImage = Conv2DGeometry(batch: 7, channels: 8, height: 32, width: 32, filters: 40,
                                      kernelH: 3, kernelW: 3, strideH: 1, strideW: 2, padH: 1, padW: 1)
        XCTAssertEqual(perImage.groupImages, 1)
        XCTAssertEqual(perImage.batchWorkers(threads: 1), 1)
        XCTAssertEqual(perImage.batchWorkers(threads: 2), 2)
        XCTAssertEqual(perImage.batchWorkers(threads: 3), 3)
        XCTAssertEqual(perImage.batchWorkers(threads: 64), 4)
        let grouped = Conv2DGeometry(batch: 23, channels: 8, height: 14, width: 14, filters: 16,
                                     kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1)
        XCTAssertEqual(grouped.groupImages, 11)
        XCTAssertEqual(grouped.batchWorkers(threads: 3), 3)
        XCTAssertEqual(grouped.batchWorkers(threads: 64), 3, "no more workers than groups")
        XCTAssertEqual(grouped.workspaceCount, (128 + 16) * 49 * 11 + (2 * 2 * 8 * 8 + 8),
                       "a group's columns, its gathered output, one channel's stride phases (8×8) and their slack")
        // Too little work to split: one worker, the GEMMs and im2col split instead.
        XCTAssertEqual(Conv2DGeometry(batch: 2, channels: 8, height: 32, width: 32, filters: 3,
                                      kernelH: 3, kernelW: 3, padH: 1, padW: 1).batchWorkers(threads: 2), 1)
        for g in [perImage, grouped] {
            XCTAssertEqual(g.workspaceCount(threads: 3, filterGradient: true), 3 * g.workspaceCount + 2 * g.weightCount)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            let bias = rng.array(g.filters), dw0 = rng.array(g.weightCount)
            func run(_ threads: Int) -> (y: [Float], dx: [Float], dw: [Float], dwPlus: [Float]) {
                var y = [Float](repeating: .nan, count: g.outputCount)
                var dx = [Float](repeating: .nan, count: g.inputCount)
                var dw = [Float](repeating: .nan, count: g.weightCount)
                var dwPlus = dw0
                withWorkspace(g.workspaceCount(threads: threads, filterGradient: true)) { ws in
                    conv2dForward(x: x, w: w, bias: bias, y: &y, geometry: g, workspace: ws, threads: threads)
                    conv2dInputGrad(dy: dy, w: w, dx: &dx, geometry: g, workspace: ws, threads: threads)
                    conv2dFilterGrad(x: x, dy: dy, dw: &dw, geometry: g, workspace: ws, threads: threads)
                    conv2dFilterGrad(x: x, dy: dy, dw: &dwPlus, geometry: g, workspace: ws, accumulate: true, threads: threads)
                }
                return (y, dx, dw, dwPlus)
            }
            let one = run(1)
            var yRef = [Float](repeating: 0, count: g.outputCount)
            conv2dForwardNaive(x: x, w: w, bias: bias, y: &yRef, geometry: g)
            var dxRef = [Float](repeating: 0, count: g.inputCount)
            conv2dInputGradNaive(dy: dy, w: w, dx: &dxRef, geometry: g)
            var dwRef = [Float](repeating: 0, count: g.weightCount)
            conv2dFilterGradNaive(x: x, dy: dy, dw: &dwRef, geometry: g)
            assertClose(one.y, yRef, rtol: 1e-5, "\(g)")
            assertClose(one.dx, dxRef, rtol: 1e-5, "\(g)")
            assertClose(one.dw, dwRef, rtol: 1e-5, "\(g)")
            for threads in [2, 3, 4] {
                let r = run(threads), again = run(threads)
                XCTAssertEqual(r.y, one.y, "forward, \(threads) threads, \(g)")
                XCTAssertEqual(r.dx, one.dx, "input gradient, \(threads) threads, \(g)")
                XCTAssertEqual(r.dw, again.dw, "filter gradient run to run, \(threads) threads")
                XCTAssertEqual(r.dwPlus, again.dwPlus)
                assertClose(r.dw, one.dw, rtol: 1e-5, "filter gradient, \(threads) threads")
                assertClose(r.y, yRef, rtol: 1e-5)
                assertClose(r.dx, dxRef, rtol: 1e-5)
                assertClose(r.dw, dwRef, rtol: 1e-5)
                assertClose(r.dwPlus, zip(dwRef, dw0).map { $0 + $1 }, rtol: 1e-5)
            }
        }
    }

    func testGeometry() {
        let g = Conv2DGeometry(batch: 1, channels: 1, height: 28, width: 28, filters: 64,
                               kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1)
        XCTAssertEqual(g.outHeight, 14)
        XCTAssertEqual(g.outWidth, 14)
        XCTAssertEqual(g.workspaceCount, 16 * 196 + 2 * 2 * 15 * 15 + 8, "the columns and the stride phases")
        XCTAssertEqual(g.phaseScratchCount, 2 * 2 * 15 * 15 + 8)
        // A stride past the kernel keeps only the phases a tap reads: a
        // 3×3 kernel with stride 10¹⁰ on 28×28 has 1×1 output and 3·3 phases
        // of 1×1, not 10²⁰ floats (which overflowed before).
        let far = Conv2DGeometry(batch: 2, channels: 1, height: 28, width: 28, filters: 2, kernelH: 3, kernelW: 3,
                                 strideH: 10_000_000_000, strideW: 10_000_000_000)
        XCTAssertEqual(far.outHeight, 1)
        XCTAssertEqual(far.phaseScratchCount, 3 * 3 + 8)
        XCTAssertEqual(Conv2DGeometry(batch: 1, channels: 3, height: 4, width: 4, filters: 2,
                                      kernelH: 1, kernelW: 1).workspaceCount, 0)
        XCTAssertFalse(Conv2DGeometry(batch: 1, channels: 1, height: 2, width: 2, filters: 1,
                                      kernelH: 3, kernelW: 3).isValid)
    }

    func testBiasHelpers() {
        var rng = TestRNG(14)
        let (n, c, s) = (2, 3, 5)
        let y0 = rng.array(n * c * s), bias = rng.array(c)
        var y = y0
        addChannelBias(&y, bias: bias, batch: n, channels: c, spatial: s)
        var db = [Float](repeating: .nan, count: c)
        channelBiasGrad(y0, db: &db, batch: n, channels: c, spatial: s)
        for i in 0..<(n * c * s) { XCTAssertEqual(y[i], y0[i] + bias[(i / s) % c], accuracy: 1e-6) }
        for ch in 0..<c {
            var sum: Float = 0
            for b in 0..<n { for p in 0..<s { sum += y0[(b * c + ch) * s + p] } }
            XCTAssertEqual(db[ch], sum, accuracy: 1e-5)
        }
        var rows = y0
        addColumnBias(&rows, bias: Array(bias + bias[0..<2]), rows: 6, columns: 5)
        var dcol = [Float](repeating: .nan, count: 5)
        columnBiasGrad(y0, db: &dcol, rows: 6, columns: 5)
        for d in 0..<5 {
            XCTAssertEqual(dcol[d], (0..<6).map { y0[$0 * 5 + d] }.reduce(0, +), accuracy: 1e-5)
            XCTAssertEqual(rows[5 + d], y0[5 + d] + (bias + bias[0..<2])[d], accuracy: 1e-6)
        }
    }
}
