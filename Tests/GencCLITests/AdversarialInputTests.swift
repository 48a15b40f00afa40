import Foundation
import GencTestSupport
import XCTest

/// Hostile input ends quickly with exit 1 and a diagnostic: never a crash,
/// a trap, a hang, or unbounded memory.
final class AdversarialInputTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("genc-adversarial-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func check(_ name: String, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        let path = dir.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let r = try GencBinary.run(["check", path], timeout: 20)
        XCTAssertFalse(r.timedOut, "\(name) hung", file: file, line: line)
        XCTAssertFalse(r.signaled, "\(name) ended by signal \(r.status)", file: file, line: line)
        XCTAssertLessThan(r.peakResidentBytes, 1 << 30, "\(name) grew to \(r.peakResidentBytes) bytes", file: file, line: line)
        XCTAssertEqual(r.status, 1, "\(name): exit \(r.status)\n\(r.stderr.prefix(500))", file: file, line: line)
        XCTAssertNotNil(r.stderr.range(of: #":\d+:\d+: error: "#, options: .regularExpression),
                        "\(name): no located diagnostic:\n\(r.stderr.prefix(500))", file: file, line: line)
    }

    func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    let header = "genc: 1\nname: evil\ninputs: {x: [4, 2]}\nnetworks:\n  n:\n    in: {x: [4, 2]}\n    layers: [relu]\n"

    func testNestedCollections() throws {
        try check("flow-seq.yaml", text("a: " + String(repeating: "[", count: 100_000)))
        try check("flow-map.yaml", text("a: " + String(repeating: "{a: ", count: 50_000)))
        try check("block.yaml", text((0..<500).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n")))
        try check("block-seq.yaml", text((0..<500).map { String(repeating: " ", count: $0 * 2) + "-" }.joined(separator: "\n")))
    }

    func testAliasBomb() throws {
        var bomb = "genc: 1\nname: evil\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...12 { bomb += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        try check("alias-bomb.yaml", text(bomb))
        try check("alias-undefined.yaml", text(header + "dims: *nothing\n"))
    }

    func testHugeAndOverflowingNumbers() throws {
        try check("huge-int.yaml", text(header.replacingOccurrences(of: "[4, 2]}\nnetworks", with: "[4, 99999999999999999999999999999999]}\nnetworks")))
        try check("huge-dim.yaml", text("dims: {b: 9223372036854775807, c: b * b}\n" + header))
        try check("huge-float.yaml", text(header + "train: {seed: 1e999999}\n"))
        try check("long-digits.yaml", text(header.replacingOccurrences(of: "[4, 2]}\nnetworks", with: "[4, \(String(repeating: "9", count: 200_000))]}\nnetworks")))
        try check("shape-product.yaml", text(header.replacingOccurrences(of: "{x: [4, 2]}\nnetworks", with: "{x: [4000000, 4000000, 4000000]}\nnetworks")))
    }

    func testBinaryGarbageAndEncodings() throws {
        var rng = SystemRandomNumberGenerator()
        try check("garbage.yaml", (0..<65536).map { _ in UInt8.random(in: 0...255, using: &rng) })
        try check("invalid-utf8.yaml", text("genc: 1\nname: \"") + [0xFF, 0xFE, 0x80] + text("\"\n"))
        try check("nul.yaml", text("genc: 1\n") + [0, 0, 0] + text("\n"))
        try check("empty.yaml", [])
        try check("utf16.yaml", [0xFF, 0xFE] + text("g\0e\0n\0c\0:\0 \01\0"))
    }

    func testGiantExpressions() throws {
        let sum = (0..<100_000).map { "x\($0 % 10)" }.joined(separator: " + ")
        try check("sum.yaml", text(header + "objectives:\n  o: {minimize: \"\(sum)\", update: n}\n"))
        let nested = String(repeating: "(", count: 50_000) + "x" + String(repeating: ")", count: 50_000)
        try check("parens.yaml", text(header + "objectives:\n  o: {minimize: \"\(nested)\", update: n}\n"))
        let calls = String(repeating: "exp(", count: 50_000) + "x" + String(repeating: ")", count: 50_000)
        try check("calls.yaml", text(header + "objectives:\n  o:\n    minimize: \(calls)\n    update: n\n"))
    }

    func testTooLargeFileAndManyNodes() throws {
        try check("many-nodes.yaml", text("a: [" + Array(repeating: "1", count: 150_000).joined(separator: ",") + "]\n"))
        let big = [UInt8](repeating: UInt8(ascii: "#"), count: 5 << 20)
        let path = dir.appendingPathComponent("big.yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(big))
        let r = try GencBinary.run(["check", path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("larger than"), r.stderr)
    }
}
