import XCTest
import GencKernels

final class RandomTests: XCTestCase {
    /// Known-answer vectors from Random123's kat_vectors.
    func testPhiloxKnownAnswers() {
        XCTAssertEqual(philox4x32(counter: SIMD4(0, 0, 0, 0), key: SIMD2(0, 0)),
                       SIMD4(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8))
        XCTAssertEqual(philox4x32(counter: SIMD4(repeating: 0xffff_ffff), key: SIMD2(repeating: 0xffff_ffff)),
                       SIMD4(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd))
        XCTAssertEqual(philox4x32(counter: SIMD4(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344),
                                  key: SIMD2(0xa409_3822, 0x299f_31d0)),
                       SIMD4(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1))
    }

    /// One fill equals any split of it into fills at offsets, any thread count, and the scalar twin.
    func testSameNumbersWhateverTheChunking() {
        let count = 1003
        var whole = [Float](repeating: 0, count: count)
        fillNormal(&whole, count: count, seed: 42)
        var pieces = [Float](repeating: 0, count: count)
        var at = 0
        for size in [1, 2, 3, 5, 7, 64, 121, 800] where at < count {
            let n = min(size, count - at)
            pieces.withUnsafeMutableBufferPointer { p in
                fillNormal(p.baseAddress! + at, count: n, seed: 42, offset: UInt64(at))
            }
            at += n
        }
        XCTAssertEqual(whole, pieces)
        for i in [0, 1, 2, 3, 4, 999, 1002] {
            XCTAssertEqual(whole[i], normalAt(seed: 42, index: UInt64(i)))
        }
        var u = [Float](repeating: 0, count: 9)
        fillUniform(&u, count: 9, seed: 7, offset: 5)
        for i in 0..<9 { XCTAssertEqual(u[i], uniformAt(seed: 7, index: UInt64(5 + i))) }
        var other = [Float](repeating: 0, count: count)
        fillNormal(&other, count: count, seed: 43)
        XCTAssertNotEqual(whole, other)
    }

    func testThreadsGiveSameNumbers() {
        let count = 140_000
        var one = [Float](repeating: 0, count: count), two = one
        fillUniform(&one, count: count, seed: 3, offset: 11, threads: 1)
        fillUniform(&two, count: count, seed: 3, offset: 11, threads: 2)
        XCTAssertEqual(one, two)
    }

    func testMoments() {
        let count = 100_000
        var z = [Float](repeating: 0, count: count)
        fillNormal(&z, count: count, seed: 1234)
        let mean = z.reduce(0.0) { $0 + Double($1) } / Double(count)
        let variance = z.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(count)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        var s = [Float](repeating: 0, count: count)
        fillNormal(&s, count: count, seed: 5, mean: 3, std: 0.5)
        XCTAssertEqual(s.reduce(0.0) { $0 + Double($1) } / Double(count), 3, accuracy: 0.01)
        var u = [Float](repeating: 0, count: count)
        fillUniform(&u, count: count, seed: 9, low: -2, high: 2)
        XCTAssert(u.allSatisfy { $0 >= -2 && $0 < 2 })
        XCTAssertEqual(u.reduce(0.0) { $0 + Double($1) } / Double(count), 0, accuracy: 0.02)
        var mask = [Float](repeating: 0, count: count)
        fillDropoutMask(&mask, count: count, seed: 2, keep: 0.75)
        XCTAssert(mask.allSatisfy { $0 == 0 || $0 == 1 / Float(0.75) })
        XCTAssertEqual(Double(mask.filter { $0 != 0 }.count) / Double(count), 0.75, accuracy: 0.01)
    }
}
