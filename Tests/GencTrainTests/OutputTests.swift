// The output writers: atomic files and directories, PNG, image grids, the loss plot.

import GencSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import GencTrain

final class OutputTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "genc-output-tests-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func contents(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func listing(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    // MARK: - AtomicFile

    func testWriteThenOverwriteLeavesNoTemporary() throws {
        let path = directory + "/a.txt"
        try AtomicFile.write([1, 2, 3], to: path)
        XCTAssertEqual(try contents(path), [1, 2, 3])
        try AtomicFile.write("λ loss\n", to: path)
        XCTAssertEqual(try contents(path), Array("λ loss\n".utf8))
        try AtomicFile.write([UInt8](), to: path)
        XCTAssertEqual(try contents(path), [])
        XCTAssertEqual(try listing(directory), ["a.txt"])
    }

    func testWriteIntoMissingDirectoryThrowsAndLeavesNothing() throws {
        let path = directory + "/missing/a.txt"
        XCTAssertThrowsError(try AtomicFile.write([1], to: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot write '\(path)':"), "\(error)")
        }
        XCTAssertEqual(try listing(directory), [])
    }

    func testFailedRenameRemovesTemporaryAndKeepsTarget() throws {
        // A non-empty directory at the target: the rename fails after the
        // temporary is written.
        let target = directory + "/taken"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try AtomicFile.write([7], to: target + "/inside")
        XCTAssertThrowsError(try AtomicFile.write([1, 2], to: target)) { error in
            XCTAssertTrue("\(error)".contains("rename"), "\(error)")
        }
        XCTAssertEqual(try listing(directory), ["taken"])
        XCTAssertEqual(try contents(target + "/inside"), [7])
    }

    func testWriteRejectsADirectoryName() {
        XCTAssertThrowsError(try AtomicFile.write([1], to: directory + "/"))
    }

    func testCreateDirectoryNestedAndIdempotent() throws {
        let nested = directory + "/a/b//c/"
        try AtomicFile.createDirectory(nested)
        try AtomicFile.createDirectory(nested)
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/a/b/c", isDirectory: &isDirectory))
        XCTAssertTrue(isDirectory.boolValue)
        try AtomicFile.write([1], to: directory + "/a/b/c/file")
        XCTAssertEqual(try contents(directory + "/a/b/c/file"), [1])
    }

    func testCreateDirectoryOverAFileThrows() throws {
        let file = directory + "/f"
        try AtomicFile.write([1], to: file)
        XCTAssertThrowsError(try AtomicFile.createDirectory(file)) { error in
            XCTAssertTrue("\(error)".contains("is not a directory"), "\(error)")
        }
        XCTAssertThrowsError(try AtomicFile.createDirectory(file + "/g"))
        XCTAssertThrowsError(try AtomicFile.createDirectory(""))
        XCTAssertEqual(try contents(file), [1])
    }

    // MARK: - PNG

    private static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

    func testPNGRoundTripsGrayAndRGB() throws {
        var generator = SystemRandomNumberGenerator()
        for (width, height, channels) in [(3, 2, 1), (5, 4, 3), (1, 1, 1), (1, 1, 3), (64, 17, 3)] {
            let pixels = (0..<(width * height * channels)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let bytes = try PNG.encode(pixels: pixels, width: width, height: height, channels: channels)
            XCTAssertEqual(Array(bytes.prefix(8)), Self.signature)
            let decoded = try PNG.decode(bytes)
            XCTAssertEqual(decoded.width, width)
            XCTAssertEqual(decoded.height, height)
            XCTAssertEqual(decoded.channels, channels)
            XCTAssertEqual(decoded.pixels, pixels, "\(width)×\(height)×\(channels)")
        }
    }

    func testPNGEncodeRejectsBadShapes() {
        XCTAssertThrowsError(try PNG.encode(pixels: [1, 2, 3], width: 2, height: 2, channels: 1))
        XCTAssertThrowsError(try PNG.encode(pixels: [1, 2, 3, 4], width: 2, height: 1, channels: 2))
        XCTAssertThrowsError(try PNG.encode(pixels: [], width: 0, height: 0, channels: 1))
        XCTAssertThrowsError(try PNG.encode(pixels: [], width: Int.max, height: 2, channels: 3))
    }

    func testPNGDecodeOfGarbageThrows() throws {
        XCTAssertThrowsError(try PNG.decode([]))
        XCTAssertThrowsError(try PNG.decode(Array("not a png at all".utf8)))
        let good = try PNG.encode(pixels: [UInt8](repeating: 9, count: 32 * 32 * 3), width: 32, height: 32, channels: 3)
        // A valid signature and header, the image data cut short or corrupted.
        XCTAssertThrowsError(try PNG.decode(Array(good.prefix(good.count / 2))))
        XCTAssertThrowsError(try PNG.decode(Array(good.prefix(8))))
        var corrupt = good
        for i in 40..<corrupt.count { corrupt[i] ^= 0x5A }
        XCTAssertThrowsError(try PNG.decode(corrupt)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot decode PNG:"), "\(error)")
        }
    }

    func testPNGDecodeRefusesHugeDeclaredSizes() throws {
        // A well-formed header claiming 1,000,000 × 1,000,000 RGB pixels
        // (within libpng's own limits): refused before any allocation.
        var bytes = try PNG.encode(pixels: [1, 2, 3], width: 1, height: 1, channels: 3)
        let big: [UInt8] = [0x00, 0x0F, 0x42, 0x40]  // 1,000,000 big-endian
        bytes.replaceSubrange(16..<20, with: big)  // IHDR width
        bytes.replaceSubrange(20..<24, with: big)  // IHDR height
        let crc = Self.crc32(bytes[12..<29])  // chunk type and data
        bytes.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        XCTAssertThrowsError(try PNG.decode(bytes)) { error in
            XCTAssertTrue("\(error)".contains("larger than"), "\(error)")
        }
    }

    /// The CRC-32 PNG chunks carry (ISO 3309, reflected, polynomial 0xEDB88320).
    private static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    // MARK: - ImageGrid

    func testComposeGrayPositionsBackgroundMappingClampingNaN() {
        // Two 2×2 images in a 1×3 grid with padding 1: 10×4 pixels, the
        // third cell empty. Range 0...1.
        let images: [Float] = [0, 0.5, 1, 2, /* second */ -1, .nan, 0.25, .infinity]
        let grid = images.withUnsafeBufferPointer {
            ImageGrid.compose($0, count: 2, channels: 1, height: 2, width: 2, rows: 1, columns: 3, range: (0, 1), padding: 1)
        }
        XCTAssertEqual(grid.width, 10)
        XCTAssertEqual(grid.height, 4)
        XCTAssertEqual(grid.channels, 1)
        let b = ImageGrid.background
        let expected: [UInt8] = [
            b, b, b, b, b, b, b, b, b, b,
            b, 0, 128, b, 0, 0, b, b, b, b,
            b, 255, 255, b, 64, 255, b, b, b, b,
            b, b, b, b, b, b, b, b, b, b,
        ]
        XCTAssertEqual(grid.pixels, expected)
    }

    func testComposeDropsImagesPastTheGridAndBeyondTheBuffer() {
        let images: [Float] = [Float](repeating: 0, count: 3)  // 3 images of 1×1
        let grid = images.withUnsafeBufferPointer {
            ImageGrid.compose($0, count: 3, channels: 1, height: 1, width: 1, rows: 1, columns: 2, range: (0, 1), padding: 0)
        }
        XCTAssertEqual(grid.pixels, [0, 0])
        // count claims 2 images, the buffer holds one: only that one is drawn.
        let short = images.prefix(1).withUnsafeBufferPointer {
            ImageGrid.compose($0, count: 2, channels: 1, height: 1, width: 1, rows: 1, columns: 2, range: (0, 1), padding: 0)
        }
        XCTAssertEqual(short.pixels, [0, ImageGrid.background])
    }

    func testRGBInterleavesNCHWPlanes() {
        // Two 1×2 RGB images, planes R, G, B each; range -1...1.
        let images: [Float] = [
            -1, 1, /* G */ 0, -1, /* B */ 1, -0.5,
            1, 1, /* G */ 1, 1, /* B */ -1, -1,
        ]
        let one = images.withUnsafeBufferPointer {
            ImageGrid.single(UnsafeBufferPointer(rebasing: $0[0..<6]), channels: 3, height: 1, width: 2, range: (-1, 1))
        }
        XCTAssertEqual(one, [0, 128, 255, 255, 0, 64])
        let grid = images.withUnsafeBufferPointer {
            ImageGrid.compose($0, count: 2, channels: 3, height: 1, width: 2, rows: 2, columns: 1, range: (-1, 1), padding: 1)
        }
        XCTAssertEqual(grid.width, 4)
        XCTAssertEqual(grid.height, 5)
        XCTAssertEqual(grid.channels, 3)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(grid.pixels[((y * 4 + x) * 3)..<((y * 4 + x) * 3 + 3)]) }
        let b = ImageGrid.background
        XCTAssertEqual(pixel(1, 1), [0, 128, 255])
        XCTAssertEqual(pixel(2, 1), [255, 0, 64])
        XCTAssertEqual(pixel(1, 3), [255, 255, 0])
        XCTAssertEqual(pixel(2, 3), [255, 255, 0])
        for (x, y) in [(0, 0), (3, 1), (1, 2), (0, 3), (2, 4)] { XCTAssertEqual(pixel(x, y), [b, b, b]) }
        // And it encodes.
        XCTAssertNoThrow(try PNG.encode(pixels: grid.pixels, width: grid.width, height: grid.height, channels: grid.channels))
    }

    func testDegenerateRangeIsAStep() {
        let values: [Float] = [-1, 0, 0.5, .nan]
        let pixels = values.withUnsafeBufferPointer { ImageGrid.single($0, channels: 1, height: 1, width: 4, range: (0, 0)) }
        XCTAssertEqual(pixels, [0, 0, 255, 0])
    }

    // MARK: - LossPlot

    /// What an SVG document holds, read by XMLParser: element counts, every
    /// polyline's point count, the text.
    private final class SVGSummary: NSObject, XMLParserDelegate {
        var elements: [String: Int] = [:]
        var polylinePoints: [Int] = []
        var texts: [String] = []
        private var text: String?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements[name, default: 0] += 1
            if name == "polyline" { polylinePoints.append(attributes["points", default: ""].split(separator: " ").count) }
            if name == "path", let d = attributes["d"] { polylinePoints.append(d.filter { $0 == "L" || $0 == "M" }.count) }
            if name == "text" { text = "" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text", let t = text { texts.append(t); text = nil }
        }
    }

    private func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGSummary {
        let summary = SVGSummary()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = summary
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")", file: file, line: line)
        XCTAssertEqual(summary.elements["svg"], 1, file: file, line: line)
        return summary
    }

    func testLossPlotIsXMLWithEscapedNamesAndBoundedPoints() {
        let n = 50_000
        let steps = Array(1...n)
        var g = (0..<n).map { 2 * exp(-Double($0) / 5000) + 0.1 * sin(Double($0)) }
        g[10] = .nan
        g[20] = .infinity
        g[30] = -.infinity
        let d = (0..<n).map { 0.7 + 0.05 * cos(Double($0) / 7) }
        let svg = LossPlot.svg([
            .init(name: "g_loss", steps: steps, values: g),
            .init(name: "d<loss> & \"x\" 'y'", steps: steps, values: d),
        ], title: "dcgan & co: loss per step")
        let summary = parse(svg)
        XCTAssertTrue(summary.texts.contains("g_loss (3 non-finite)"), "\(summary.texts)")
        XCTAssertTrue(summary.texts.contains("d<loss> & \"x\" 'y'"), "\(summary.texts)")
        XCTAssertTrue(summary.texts.contains("dcgan & co: loss per step"))
        XCTAssertTrue(svg.contains("d&lt;loss&gt; &amp; &quot;x&quot; &apos;y&apos;"))
        XCTAssertEqual(summary.polylinePoints.count, 4)  // raw and smoothed, two series
        for count in summary.polylinePoints { XCTAssertLessThanOrEqual(count, 1_000) }
        XCTAssertLessThanOrEqual(summary.polylinePoints.reduce(0, +), 2_000)
        XCTAssertLessThan(svg.utf8.count, 100_000)
        // Round tick labels on the x axis.
        XCTAssertTrue(summary.texts.contains("10000"), "\(summary.texts)")
    }

    func testLossPlotYRangeIgnoresAnEarlySpike() {
        var values = (0..<1_000).map { 1 + 0.01 * Double($0 % 10) }
        values[0] = 1_000
        let curve = LossPlot.Curve(.init(name: "loss", steps: Array(1...1_000), values: values))
        let frame = LossPlot.Frame([curve])
        XCTAssertLessThan(frame.yHigh, 1.2)
        XCTAssertGreaterThan(frame.yLow, 0.9)
        XCTAssertEqual(frame.offScale, 1)
        let summary = parse(LossPlot.svg([.init(name: "loss", steps: Array(1...1_000), values: values)], title: "t"))
        XCTAssertTrue(summary.texts.contains { $0.hasPrefix("1 value beyond the y axis") }, "\(summary.texts)")
        // A short series is not trimmed: both points stay in range.
        let two = LossPlot.Frame([LossPlot.Curve(.init(name: "x", steps: [1, 2], values: [1, 100]))])
        XCTAssertLessThan(two.yLow, 1)
        XCTAssertGreaterThan(two.yHigh, 100)
        XCTAssertEqual(two.offScale, 0)
    }

    func testLossPlotEdgeCasesStayValid() {
        let cases: [[LossPlot.Series]] = [
            [],
            [.init(name: "empty", steps: [], values: [])],
            [.init(name: "one", steps: [5], values: [0.3])],
            [.init(name: "constant", steps: Array(1...300), values: Array(repeating: 2, count: 300))],
            [.init(name: "zeros", steps: Array(1...3), values: [0, 0, 0])],
            [.init(name: "nan", steps: [1, 2], values: [.nan, .nan])],
            [.init(name: "huge", steps: [1, 2, 3], values: [-.greatestFiniteMagnitude, 0, .greatestFiniteMagnitude])],
            [.init(name: "unsorted", steps: [3, 1, 2], values: [1, 2, 3]), .init(name: "ragged", steps: [1, 2, 3], values: [1])],
            [.init(name: "ctrl\u{01}\u{7}\n", steps: [1, 2], values: [1, 1e-9])],
        ]
        for series in cases {
            let summary = parse(LossPlot.svg(series, title: "edge <case>"))
            XCTAssertTrue(summary.texts.contains("edge <case>"))
        }
        XCTAssertTrue(parse(LossPlot.svg([], title: "t")).texts.contains("no data"))
        XCTAssertTrue(parse(LossPlot.svg([.init(name: "empty", steps: [], values: [])], title: "t")).texts.contains("empty (no data)"))
        XCTAssertEqual(parse(LossPlot.svg([.init(name: "one", steps: [5], values: [0.3])], title: "t")).elements["circle"], 1)
        XCTAssertTrue(parse(LossPlot.svg([.init(name: "nan", steps: [1, 2], values: [.nan, .nan])], title: "t")).texts.contains("nan (2 non-finite)"))
        let constant = parse(LossPlot.svg([.init(name: "c", steps: [1, 2, 3], values: [2, 2, 2])], title: "t"))
        XCTAssertTrue(constant.texts.contains("2.00"), "\(constant.texts)")
    }

    func testSmoothingAndBuckets() {
        // Up to 100 points nothing is smoothed.
        let short = LossPlot.Curve(.init(name: "s", steps: Array(1...100), values: (0..<100).map(Double.init)))
        XCTAssertEqual(short.smoothed.map(\.value), short.points.map(\.value))
        // At 10,000 points τ = 100: the running mean for the first 100, then β = 0.99.
        let long = LossPlot.Curve(.init(name: "l", steps: Array(1...10_000), values: [0] + Array(repeating: 1, count: 9_999)))
        XCTAssertEqual(long.smoothed[1].value, 0.5, accuracy: 1e-12)
        XCTAssertEqual(long.smoothed[99].value, 0.99, accuracy: 1e-12)
        XCTAssertEqual(long.smoothed[100].value, 0.99 + 0.01 * 0.01, accuracy: 1e-12)
        // The envelope keeps each bucket's extremes, in step order.
        let points = (0..<10_000).map { (step: Double($0), value: $0 == 4_321 ? 50.0 : 1.0) }
        let envelope = LossPlot.envelope(points, buckets: 10)
        XCTAssertLessThanOrEqual(envelope.count, 20)
        XCTAssertTrue(envelope.contains { $0.value == 50 && $0.step == 4_321 })
        XCTAssertEqual(envelope.map(\.step), envelope.map(\.step).sorted())
    }
}
