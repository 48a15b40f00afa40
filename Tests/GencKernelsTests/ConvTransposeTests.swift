import XCTest
import GencKernels

final class ConvTransposeTests: XCTestCase {
    static func geometries(_ rng: inout TestRNG) -> [ConvTranspose2DGeometry] {
        var gs = [
            // DCGAN generator: 7×7 → 14×14, k4 s2 p1.
            ConvTranspose2DGeometry(batch: 2, inChannels: 3, height: 7, width: 7, outChannels: 2,
                                    kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1),
            // Output padding, non-square kernel and strides.
            ConvTranspose2DGeometry(batch: 1, inChannels: 2, height: 3, width: 4, outChannels: 3,
                                    kernelH: 3, kernelW: 2, strideH: 2, strideW: 3, padH: 1, padW: 0,
                                    outputPadH: 1, outputPadW: 2),
            ConvTranspose2DGeometry(batch: 1, inChannels: 1, height: 1, width: 1, outChannels: 1,
                                    kernelH: 1, kernelW: 1),
        ]
        while gs.count < 12 {
            let s = (rng.int(1...3), rng.int(1...3))
            let g = ConvTranspose2DGeometry(
                batch: rng.int(1...2), inChannels: rng.int(1...3), height: rng.int(1...5), width: rng.int(1...5),
                outChannels: rng.int(1...3), kernelH: rng.int(1...4), kernelW: rng.int(1...4),
                strideH: s.0, strideW: s.1, padH: rng.int(0...1), padW: rng.int(0...1),
                outputPadH: rng.int(0...(s.0 - 1)), outputPadW: rng.int(0...(s.1 - 1)))
            if g.isValid { gs.append(g) }
        }
        return gs
    }

    func testOutputSize() {
        let g = ConvTranspose2DGeometry(batch: 1, inChannels: 1, height: 5, width: 6, outChannels: 1,
                                        kernelH: 3, kernelW: 4, strideH: 2, strideW: 3, padH: 1, padW: 1,
                                        outputPadH: 1, outputPadW: 2)
        XCTAssertEqual(g.outHeight, (5 - 1) * 2 - 2 + 3 + 1)
        XCTAssertEqual(g.outWidth, (6 - 1) * 3 - 2 + 4 + 2)
        XCTAssertTrue(g.isValid)
        var bad = g
        bad.outputPadH = 2  // must be < stride
        XCTAssertFalse(bad.isValid)
    }

    func testForwardAgainstScatterDefinition() {
        var rng = TestRNG(20)
        for g in Self.geometries(&rng) {
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), bias = rng.array(g.outChannels)
            for useBias in [false, true] {
                var y = [Float](repeating: .nan, count: g.outputCount), ref = y
                withWorkspace(g.workspaceCount) { ws in
                    convTranspose2dForward(x: x, w: w, bias: useBias ? bias : nil, y: &y, geometry: g, workspace: ws)
                }
                convTranspose2dForwardNaive(x: x, w: w, bias: useBias ? bias : nil, y: &ref, geometry: g)
                assertClose(y, ref, rtol: 1e-5, "\(g)")
            }
        }
    }

    func testAdjointIdentity() {
        var rng = TestRNG(21)
        for g in Self.geometries(&rng) {
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            var y = [Float](repeating: 0, count: g.outputCount)
            var dx = [Float](repeating: 0, count: g.inputCount)
            var dw = [Float](repeating: 0, count: g.weightCount)
            withWorkspace(g.workspaceCount) { ws in
                convTranspose2dForward(x: x, w: w, bias: nil, y: &y, geometry: g, workspace: ws)
                convTranspose2dInputGrad(dy: dy, w: w, dx: &dx, geometry: g, workspace: ws)
                convTranspose2dFilterGrad(x: x, dy: dy, dw: &dw, geometry: g, workspace: ws)
            }
            assertClose(dot(y, dy), dot(x, dx), rtol: 1e-5, "\(g)")
            assertClose(dot(y, dy), dot(w, dw), rtol: 1e-5, "\(g)")
        }
    }
}
