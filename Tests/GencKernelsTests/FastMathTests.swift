import XCTest
@testable import GencKernels
import Glibc

final class FastMathTests: XCTestCase {
    /// Largest relative error of a vector function against a Double reference over a sweep.
    private func worstRelativeError(
        _ lo: Float, _ hi: Float, steps: Int, _ f: (SIMD8<Float>) -> SIMD8<Float>, _ ref: (Double) -> Double
    ) -> Double {
        var worst = 0.0
        var v = SIMD8<Float>()
        for s in 0..<steps {
            for l in 0..<8 { v[l] = lo + (hi - lo) * Float(s * 8 + l) / Float(steps * 8) }
            let r = f(v)
            for l in 0..<8 {
                let want = ref(Double(v[l]))
                let err = abs(Double(r[l]) - want) / max(abs(want), 1e-30)
                worst = max(worst, err)
            }
        }
        return worst
    }

    func testExpAccuracy() {
        XCTAssertLessThan(worstRelativeError(-87, 88.7, steps: 4000, vexp, Glibc.exp), 3e-7)
        XCTAssertLessThan(worstRelativeError(-1, 1, steps: 2000, vexp, Glibc.exp), 2e-7)
    }

    func testExpEdges() {
        let r = vexp(SIMD8(-200, -104, 89, 1000, .nan, 0, -.infinity, .infinity))
        XCTAssertEqual(r[0], 0)
        XCTAssertEqual(r[1], 0)
        XCTAssertEqual(r[2], .infinity)
        XCTAssertEqual(r[3], .infinity)
        XCTAssert(r[4].isNaN)
        XCTAssertEqual(r[5], 1)
        XCTAssertEqual(r[6], 0)
        XCTAssertEqual(r[7], .infinity)
        // Subnormal results are kept, not flushed.
        let sub = vexp(SIMD8(repeating: -95))[0]
        XCTAssertEqual(Double(sub), Glibc.exp(-95.0), accuracy: Glibc.exp(-95.0) * 1e-3)
    }

    func testTanhAndSigmoidAccuracy() {
        XCTAssertLessThan(worstRelativeError(-12, 12, steps: 3000, vtanh, Glibc.tanh), 4e-7)
        XCTAssertLessThan(worstRelativeError(-1e-3, 1e-3, steps: 500, vtanh, Glibc.tanh), 2e-7)
        XCTAssertLessThan(worstRelativeError(-80, 30, steps: 3000, vsigmoid, { 1 / (1 + Glibc.exp(-$0)) }), 4e-7)
    }
}

final class FastMathLogSinTests: XCTestCase {
    func testLogAccuracyAndEdges() {
        var worst = 0.0
        var x: Float = 1e-38
        while x < 3e38 {
            let v = SIMD8<Float>(x, x * 1.1, x * 1.37, x * 1.5, x * 1.9, x * 0.71, x * 0.7, x * 1.41)
            let r = vlog(v)
            for l in 0..<8 {
                let want = Glibc.log(Double(v[l]))
                worst = max(worst, abs(Double(r[l]) - want) / max(1, abs(want)))
            }
            x *= 3.3
        }
        XCTAssertLessThan(worst, 2e-7)
        let e = vlog(SIMD8(0, -1, .infinity, .nan, 1, .leastNonzeroMagnitude, 2, .leastNormalMagnitude))
        XCTAssertEqual(e[0], -.infinity)
        XCTAssert(e[1].isNaN)
        XCTAssertEqual(e[2], .infinity)
        XCTAssert(e[3].isNaN)
        XCTAssertEqual(e[4], 0)
        XCTAssertEqual(Double(e[5]), Glibc.log(Double(Float.leastNonzeroMagnitude)), accuracy: 1e-5)
        XCTAssertEqual(e[6], 0.693_147_2, accuracy: 1e-7)
        XCTAssertEqual(Double(e[7]), Glibc.log(Double(Float.leastNormalMagnitude)), accuracy: 1e-5)
        let p = vlog1p(SIMD8(1e-10, 1e-5, 0.5, 1, 0, 3e38, .infinity, -0.5))
        for (i, u) in [1e-10, 1e-5, 0.5, 1, 0, 3e38].enumerated() {
            let want = Glibc.log1p(Double(Float(u)))
            XCTAssertEqual(Double(p[i]), want, accuracy: 3e-7 * max(abs(want), 1e-30), "log1p(\(u))")
        }
        XCTAssertEqual(p[6], .infinity)
        XCTAssertEqual(p[7], -0.693_147_2, accuracy: 1e-7)
    }

    func testSinCosOfTurns() {
        var worst = 0.0
        for i in 0..<2048 {
            let u = Float(i) / 2048 + 1.0 / 8192
            let v = SIMD8<Float>(repeating: u) + SIMD8(0, 1e-4, 2e-4, 3e-4, -1e-4, 0.25, 0.5, -0.75)
            let (s, c) = vsincos2pi(v)
            for l in 0..<8 {
                let a = 2 * Double.pi * Double(v[l])
                worst = max(worst, abs(Double(s[l]) - Glibc.sin(a)), abs(Double(c[l]) - Glibc.cos(a)))
            }
        }
        XCTAssertLessThan(worst, 3e-7)
    }
}

final class FastMathSqrtTests: XCTestCase {
    func testSqrtAccuracyAndEdges() {
        // Correctly rounded: the float nearest √x (Double's square root
        // rounded to Float is, since Double has more than 2·24 + 2 bits).
        var wrong = 0
        var x = Float.leastNonzeroMagnitude
        while x < 3e38 {
            let v = SIMD8<Float>(x, x * 1.1, x * 1.37, x * 1.5, x * 1.9, x * 2.3, x * 2.9, x * 3.1)
            let r = vsqrt(v)
            for l in 0..<8 where v[l].isFinite && r[l] != Float(Double(v[l]).squareRoot()) { wrong += 1 }
            x *= 1.7
        }
        XCTAssertEqual(wrong, 0)
        let e = vsqrt(SIMD8(0, -1, .infinity, .nan, 1, 4, .greatestFiniteMagnitude, .leastNonzeroMagnitude))
        XCTAssertEqual(e[0], 0)
        XCTAssert(e[1].isNaN)
        XCTAssertEqual(e[2], .infinity)
        XCTAssert(e[3].isNaN)
        XCTAssertEqual(e[4], 1)
        XCTAssertEqual(e[5], 2)
        XCTAssertEqual(e[6], Float.greatestFiniteMagnitude.squareRoot())
        XCTAssertEqual(e[7], Float.leastNonzeroMagnitude.squareRoot(), accuracy: 1e-29)
    }
}
