@testable import GencIR
import XCTest

/// Size arithmetic on user numbers never traps: each overflow is a
/// `ShapeError`, and no tensor of more than 2^40 elements can be built,
/// parsed or verified.
final class SizeTests: XCTestCase {
    let big = Int.max / 2 + 1  // 2^62

    func testCheckedArithmetic() throws {
        XCTAssertEqual(try Size.add(2, 3), 5)
        XCTAssertEqual(try Size.product([2, 3, 4]), 24)
        XCTAssertThrowsError(try Size.add(Int.max, 1))
        XCTAssertThrowsError(try Size.subtract(Int.min, 1))
        XCTAssertThrowsError(try Size.multiply(big, 2))
        XCTAssertThrowsError(try Size.product([1 << 32, 1 << 32]))
        XCTAssertEqual(try Size.elements([1 << 20, 1 << 20]), 1 << 40)
        XCTAssertThrowsError(try Size.elements([1 << 20, (1 << 20) + 1]))
        XCTAssertThrowsError(try Size.elements([big, big, big]))
    }

    func testShapeRulesRefuseOverflowInsteadOfTrapping() {
        let pad = ConvAttributes(stride: [1, 1], padBefore: [Int.max, 0], padAfter: [Int.max, 0])
        XCTAssertThrowsError(try Op.conv(pad).resultType([.f32([1, 1, 8, 8]), .f32([1, 1, 3, 3])]))
        let pool = PoolAttributes(kind: .max, kernel: [2, 2], stride: [1, 1], padding: [big, 0])
        XCTAssertThrowsError(try Op.pool(pool).resultType([.f32([1, 1, 8, 8])]))
        XCTAssertThrowsError(try Op.reshape([1 << 32, 1 << 32]).resultType([.f32([4])]))
        XCTAssertThrowsError(try Op.concat(axis: 0).resultType([.f32([Int.max]), .f32([Int.max])]))
        // A huge step is a one-element slice, computed without overflow.
        XCTAssertEqual(try Op.slice(SliceAttributes(start: [1], end: [8], step: [Int.max])).resultType([.f32([8])]), .f32([1]))
        XCTAssertThrowsError(try Op.oneHot(depth: 1 << 41).resultType([.i32([4])]))
    }

    func testGraphRefusesTensorsPastTheLimit() throws {
        var g = Graph(name: "t")
        XCTAssertThrowsError(try g.add(.parameter("w"), type: .f32([1 << 21, 1 << 20])))
        let x = try g.add(.input("x"), type: .f32([1 << 20, 1 << 10]))
        let y = try g.add(.input("y"), type: .f32([1 << 10, 1 << 20]))
        // [2^20, 2^20] is exactly the limit: allowed.
        let z = try g.add(.matmul(transposeA: false, transposeB: false), [x, y])
        XCTAssertEqual(g.type(z), .f32([1 << 20, 1 << 20]))
        let ids = try g.add(.input("ids"), type: .i32([1 << 40]))
        XCTAssertThrowsError(try g.add(.oneHot(depth: 2), [ids]))
    }

    func testParserAndVerifierRefuseOverflowingTypes() throws {
        func text(_ shape: String) -> String { "graph \"t\" {\n  %0 = input {name: \"x\"} : f32[\(shape)]\n}\n" }
        XCTAssertNoThrow(try IRParser.parse(text("4, 4")))
        XCTAssertThrowsError(try IRParser.parse(text("4294967296, 4294967296")))
        XCTAssertThrowsError(try IRParser.parse(text("9223372036854775807, 9223372036854775807")))
        var g = Graph(name: "t")
        g.appendUnchecked(Node(op: .input("x"), operands: [], type: .f32([big, big]), location: nil))
        XCTAssertFalse(Verifier.verify(g).isEmpty)
    }
}
