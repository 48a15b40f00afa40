// TestSupport.swift — seeded test data and tolerance checks for the kernel tests.

import XCTest

/// SplitMix64: a tiny seeded generator for test inputs (not the kernels' RNG).
struct TestRNG {
    var state: UInt64

    init(_ seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) * 0x1p-24
    }

    /// Uniform in range.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func bool() -> Bool { next() & 1 == 0 }

    mutating func array(_ count: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<count).map { _ in float(lo, hi) }
    }
}

/// Asserts max |actual − expected| <= rtol · max(1, max |expected|).
func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float = 1e-4, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "count " + message, file: file, line: line)
    var scale: Float = 1
    for e in expected where e.isFinite { scale = max(scale, abs(e)) }
    var worst: Float = 0
    var at = -1
    for i in 0..<min(actual.count, expected.count) {
        let (a, e) = (actual[i], expected[i])
        if a == e { continue }  // also equal infinities
        let d = abs(a - e)
        if !(d <= worst) { worst = d; at = i }
    }
    XCTAssert(worst <= rtol * scale,
              "max error \(worst) at \(at) (actual \(at >= 0 ? actual[at] : 0), expected \(at >= 0 ? expected[at] : 0)), "
              + "tolerance \(rtol * scale) \(message)", file: file, line: line)
}

/// Asserts two scalars agree to rtol relative to max(1, |a|, |b|).
func assertClose(
    _ a: Double, _ b: Double, rtol: Double, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    let scale = max(1, abs(a), abs(b))
    XCTAssert(abs(a - b) <= rtol * scale, "\(a) vs \(b) \(message)", file: file, line: line)
}

/// Σ a[i]·b[i] in Double.
func dot(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var s = 0.0
    for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
    return s
}

/// Runs body with a scratch buffer of `count` floats (at least one).
func withWorkspace<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
    var ws = [Float](repeating: .nan, count: max(1, count))
    return ws.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
