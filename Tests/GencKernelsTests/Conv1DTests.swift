import XCTest
import GencKernels

final class Conv1DTests: XCTestCase {
    func testForwardAgainstNaiveAndAdjoint() {
        var rng = TestRNG(30)
        var count = 0
        while count < 12 {
            let g = Conv1DGeometry(batch: rng.int(1...3), channels: rng.int(1...4), length: rng.int(1...12),
                                   filters: rng.int(1...4), kernel: rng.int(1...5),
                                   stride: rng.int(1...3), pad: rng.int(0...2))
            guard g.isValid else { continue }
            count += 1
            let inCount = g.batch * g.channels * g.length
            let outCount = g.batch * g.filters * g.outLength
            let wCount = g.filters * g.channels * g.kernel
            let x = rng.array(inCount), w = rng.array(wCount), dy = rng.array(outCount), bias = rng.array(g.filters)
            var y = [Float](repeating: .nan, count: outCount), ref = y
            var dx = [Float](repeating: .nan, count: inCount)
            var dw = [Float](repeating: .nan, count: wCount)
            withWorkspace(g.workspaceCount) { ws in
                conv1dForward(x: x, w: w, bias: bias, y: &y, geometry: g, workspace: ws)
                conv1dInputGrad(dy: dy, w: w, dx: &dx, geometry: g, workspace: ws)
                conv1dFilterGrad(x: x, dy: dy, dw: &dw, geometry: g, workspace: ws)
            }
            conv1dForwardNaive(x: x, w: w, bias: bias, y: &ref, geometry: g)
            assertClose(y, ref, rtol: 1e-5, "\(g)")
            let yb = y.enumerated().map { $0.element - bias[($0.offset / g.outLength) % g.filters] }
            assertClose(dot(yb, dy), dot(x, dx), rtol: 1e-5)
            assertClose(dot(yb, dy), dot(w, dw), rtol: 1e-5)
        }
    }

    func testTransposeMatchesScatterDefinition() {
        var rng = TestRNG(31)
        let g = ConvTranspose1DGeometry(batch: 2, inChannels: 3, length: 5, outChannels: 2,
                                        kernel: 4, stride: 3, pad: 1, outputPad: 2)
        XCTAssertEqual(g.outLength, (5 - 1) * 3 - 2 + 4 + 2)
        let x = rng.array(2 * 3 * 5), w = rng.array(3 * 2 * 4)
        let outCount = 2 * 2 * g.outLength
        var y = [Float](repeating: .nan, count: outCount), ref = y
        withWorkspace(g.workspaceCount) { ws in
            convTranspose1dForward(x: x, w: w, bias: nil, y: &y, geometry: g, workspace: ws)
        }
        convTranspose2dForwardNaive(x: x, w: w, bias: nil, y: &ref, geometry: g.convTranspose2d)
        assertClose(y, ref, rtol: 1e-5)
        let dy = rng.array(outCount)
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
        withWorkspace(g.workspaceCount) { ws in
            convTranspose1dInputGrad(dy: dy, w: w, dx: &dx, geometry: g, workspace: ws)
            convTranspose1dFilterGrad(x: x, dy: dy, dw: &dw, geometry: g, workspace: ws)
        }
        assertClose(dot(y, dy), dot(x, dx), rtol: 1e-5)
        assertClose(dot(y, dy), dot(w, dw), rtol: 1e-5)
    }
}
