import Foundation
import XCTest
@testable import GencRuntime

final class SafeTensorsTests: XCTestCase {
    // MARK: - Helpers

    /// A file from header text and data bytes; `length` overrides the prefix.
    private func file(_ header: String, _ data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        return le64(length ?? UInt64(h.count)) + h + data
    }

    private func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    private func hex(_ s: String) -> [UInt8] {
        let c = Array(s.utf8)
        return stride(from: 0, to: c.count, by: 2).map { UInt8(String(decoding: c[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    /// An entry of a hand-written header.
    private func entry(_ dtype: String = "F32", _ shape: String = "[1]", _ offsets: String = "[0,4]") -> String {
        #"{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
    }

    private func assertDecodeFails(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let st = try SafeTensors.decode(bytes)
            XCTFail("expected an error containing \"\(expected)\", decoded \(st.tensors.count) tensors", file: file, line: line)
        } catch {
            XCTAssertTrue(expected.isEmpty || error.message.contains(expected),
                          "error \"\(error.message)\" does not contain \"\(expected)\"", file: file, line: line)
        }
    }

    private func sortedPairs(_ st: SafeTensors) -> [(String, SafeTensors.Tensor)] {
        st.tensors.map { ($0.name, $0.tensor) }.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
    }

    private func assertSameContent(_ a: SafeTensors, _ b: SafeTensors, file: StaticString = #filePath, line: UInt = #line) {
        let x = sortedPairs(a), y = sortedPairs(b)
        XCTAssertEqual(x.map { Array($0.0.utf8) }, y.map { Array($0.0.utf8) }, file: file, line: line)
        XCTAssertEqual(x.map(\.1), y.map(\.1), file: file, line: line)
        XCTAssertEqual(a.metadata, b.metadata, file: file, line: line)
    }

    private func makeTempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    private func sample() -> SafeTensors {
        SafeTensors(tensors: [
            ("generator.dense0.weight", .init(f32: [1, -2.5, 3e-8, .infinity, -0.0, .greatestFiniteMagnitude], shape: [2, 3])),
            ("generator.dense0.bias", .init(f32: [0.25, 0.5, 0.75], shape: [3])),
            ("step", .init(i32: [42], shape: [])),
            ("scale", .init(f32: [3.5], shape: [])),
            ("ids", .init(i32: [Int32.min, -1, 0, 1, Int32.max, 7, 8, 9], shape: [2, 2, 2])),
            ("empty", .init(f32: [], shape: [0, 3])),
            ("重み.é", .init(f32: [1, 2], shape: [2])),
            ("emoji😀", .init(i32: [5], shape: [1])),
            ("quote\"back\\slash\nnewline\u{1}ctl\u{7F}/", .init(f32: [9], shape: [1, 1])),
        ], metadata: ["model": "dcgan", "step": "1200", "ünï\"cödé\n": "välue\\\u{0}"])
    }

    // MARK: - Tensor

    func testTensorAccessors() {
        let f = SafeTensors.Tensor(f32: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(f.dtype, .f32)
        XCTAssertEqual(f.elementCount, 6)
        XCTAssertEqual(f.floats, [1, 2, 3, 4, 5, 6])
        XCTAssertNil(f.ints)
        XCTAssertEqual(Array(f.bytes[0..<4]), [0x00, 0x00, 0x80, 0x3F])  // 1.0f little-endian
        let i = SafeTensors.Tensor(i32: [-2], shape: [])
        XCTAssertEqual(i.elementCount, 1)
        XCTAssertEqual(i.ints, [-2])
        XCTAssertNil(i.floats)
        XCTAssertEqual(i.bytes, [0xFE, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(SafeTensors.Tensor(f32: [], shape: [4, 0]).elementCount, 0)
        // NaN payloads survive bit for bit.
        let nan = Float(bitPattern: 0x7FC0_1234)
        XCTAssertEqual(SafeTensors.Tensor(f32: [nan], shape: [1]).floats?.first?.bitPattern, 0x7FC0_1234)
    }

    // MARK: - Round trips

    func testRoundTripInMemory() throws {
        let st = sample()
        let bytes = st.encode()
        let back = try SafeTensors.decode(bytes)
        assertSameContent(st, back)
        // Written sorted by name (UTF-8 byte order); read back in header order.
        XCTAssertEqual(back.tensors.map { Array($0.name.utf8) },
                       st.tensors.map { Array($0.name.utf8) }.sorted { $0.lexicographicallyPrecedes($1) })
        XCTAssertEqual(back["step"]?.ints, [42])
        XCTAssertEqual(back["scale"]?.shape, [])
        XCTAssertEqual(back["重み.é"]?.floats, [1, 2])
        XCTAssertEqual(back["empty"]?.shape, [0, 3])
        XCTAssertNil(back["missing"])
        // Deterministic: re-encoding, or encoding the tensors in another order, gives the same bytes.
        XCTAssertEqual(back.encode(), bytes)
        var shuffled = st
        shuffled.tensors.reverse()
        XCTAssertEqual(shuffled.encode(), bytes)
        // Header padded to a multiple of 8; the header begins with __metadata__.
        let n = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        XCTAssertEqual(n % 8, 0)
        XCTAssertTrue(bytes[8...].starts(with: Array(#"{"__metadata__":{"model":"dcgan","step":"1200","#.utf8)))
    }

    func testRoundTripThroughFile() throws {
        let dir = try makeTempDir()
        let path = dir + "/model.safetensors"
        let st = sample()
        try st.write(path: path)
        let back = try SafeTensors.read(path: path)
        assertSameContent(st, back)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), st.encode())
    }

    func testEmptyFileAndPaddingLengths() throws {
        XCTAssertEqual(SafeTensors().encode(), le64(8) + Array("{}      ".utf8))
        XCTAssertEqual(try SafeTensors.decode(SafeTensors().encode()).tensors.count, 0)
        // Every header length pads to a multiple of 8.
        for k in 0..<16 {
            let st = SafeTensors(tensors: [(String(repeating: "x", count: k + 1), .init(f32: [1], shape: [1]))])
            let bytes = st.encode()
            XCTAssertEqual((bytes.count - 8 - 4) % 8, 0)
            assertSameContent(st, try SafeTensors.decode(bytes))
        }
    }

    func testReadKeepsHeaderOrderAndIgnoresUnknownEntryKeys() throws {
        let header = #"{"b":\#(entry("I32", "[1]", "[4,8]")),"__metadata__":{"k":"v"},"a":{"extra":[1,{"x":null}],"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let st = try SafeTensors.decode(file(header, [0, 0, 0x80, 0x3F, 7, 0, 0, 0]))
        XCTAssertEqual(st.tensors.map(\.name), ["b", "a"])
        XCTAssertEqual(st["a"]?.floats, [1])
        XCTAssertEqual(st["b"]?.ints, [7])
        XCTAssertEqual(st.metadata, ["k": "v"])
    }

    func testAcceptsWhitespaceEscapesAndZeroSizeTensors() throws {
        // JSON whitespace around the object, escapes in names (\u, surrogate pairs, \/),
        // and zero-size tensors sitting between others.
        let header = " \n{ \"\\u00e9\\ud83d\\ude00\\/\" : \(entry("F32", "[1]", "[0,4]")) , \"z\":\(entry("F32", "[0]", "[4,4]")), \"y\":\(entry("I32", "[2, 0]", "[0,0]"))}\n\t   "
        let st = try SafeTensors.decode(file(header, [0, 0, 0, 0x40]))
        XCTAssertEqual(st["é😀/"]?.floats, [2])
        XCTAssertEqual(st["z"]?.shape, [0])
        XCTAssertEqual(st["y"]?.ints, [])
    }

    func testNamesAreComparedByteForByte() throws {
        // "é" precomposed and decomposed are distinct tensor names.
        let composed = "\u{E9}", decomposed = "e\u{301}"
        let st = SafeTensors(tensors: [(composed, .init(f32: [1], shape: [1])), (decomposed, .init(f32: [2], shape: [1]))])
        XCTAssertNoThrow(try st.validate())
        let back = try SafeTensors.decode(st.encode())
        XCTAssertEqual(back[composed]?.floats, [1])
        XCTAssertEqual(back[decomposed]?.floats, [2])
    }

    // MARK: - Compatibility with the reference implementation

    /// The bytes the Python `safetensors` library writes for this example,
    /// built by hand from the format: header JSON (no spaces, `__metadata__`
    /// first, entries as dtype/shape/data_offsets), spaces to a multiple of 8,
    /// then the little-endian data.
    func testMatchesReferenceImplementationBytes() throws {
        let st = SafeTensors(tensors: [
            ("z", .init(i32: [1, -2, 3], shape: [3])),
            ("a", .init(f32: [1, 2.5, -0.5, 0], shape: [2, 2])),
            ("s", .init(f32: [7], shape: [])),
        ], metadata: ["format": "pt"])
        let json = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"s":{"dtype":"F32","shape":[],"data_offsets":[16,20]},"z":{"dtype":"I32","shape":[3],"data_offsets":[20,32]}}"#
        XCTAssertEqual(json.utf8.count, 197)
        let header = Array(json.utf8) + Array("   ".utf8)  // 197 + 3 = 200 = 25 * 8
        let data: [UInt8] = [
            0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0x40, 0x00, 0x00, 0x00, 0xBF, 0x00, 0x00, 0x00, 0x00,  // a
            0x00, 0x00, 0xE0, 0x40,  // s
            0x01, 0x00, 0x00, 0x00, 0xFE, 0xFF, 0xFF, 0xFF, 0x03, 0x00, 0x00, 0x00,  // z
        ]
        let expected = le64(200) + header + data
        XCTAssertEqual(st.encode(), expected)
        // The same bytes as written by Python safetensors 0.8.0
        // (safetensors.numpy.save, the dict above, metadata={"format": "pt"}).
        let python = hex("c800000000000000") + Array(json.utf8) + Array("   ".utf8)
            + hex("0000803f00002040000000bf000000000000e04001000000feffffff03000000")
        XCTAssertEqual(python, expected)
        assertSameContent(try SafeTensors.decode(python), st)
    }

    /// Escaping as serde_json does it, and a zero-size tensor; Python
    /// safetensors 0.8.0 writes exactly these bytes.
    func testMatchesReferenceImplementationEscaping() throws {
        let name = "w\"\\\n\u{1}é😀"
        let st = SafeTensors(tensors: [(name, .init(i32: [5, 6], shape: [2])), ("e", .init(i32: [], shape: [0, 3]))])
        let json = #"{"e":{"dtype":"I32","shape":[0,3],"data_offsets":[0,0]},"w\"\\\n\u0001é😀":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#
        let expected = le64(128) + Array(json.utf8) + [0x20] + hex("0500000006000000")
        XCTAssertEqual(json.utf8.count, 127)
        XCTAssertEqual(st.encode(), expected)
        XCTAssertEqual(try SafeTensors.decode(expected)[name]?.ints, [5, 6])
    }

    // MARK: - Malformed input

    func testMalformedCorpus() {
        let ok4: [UInt8] = [0, 0, 0x80, 0x3F]
        let cases: [(String, [UInt8], String)] = [
            ("empty file", [], "too short (0 bytes)"),
            ("7 bytes", [8, 0, 0, 0, 0, 0, 0], "too short (7 bytes)"),
            ("length past the end", file("{}", length: 100), "header length 100 is larger than the file (2 bytes"),
            ("absurd length", file("{}", length: 1 << 62), "exceeds the limit of 100000000 bytes"),
            ("max length", file("{}", length: .max), "exceeds the limit"),
            ("zero length", file("{}", length: 0), "header length is 0"),
            ("invalid UTF-8", file("{\"a\u{1}\":1}").enumerated().map { $0.offset == 11 ? 0xFF : $0.element },
             "not valid UTF-8 (byte 0xFF at offset 3"),
            ("overlong UTF-8", le64(6) + [0x7B, 0x22, 0xC0, 0xAF, 0x22, 0x7D], "not valid UTF-8"),
            ("truncated JSON", file(#"{"a":"#), "not valid JSON: unexpected end of header, expected a value"),
            ("missing comma", file(#"{"a":{} "b":{}}"#), "expected ',' or '}' at byte 8"),
            ("single quotes", file("{'a':1}"), "expected a string key"),
            ("trailing comma", file(#"{"a":1,}"#), "expected a string key"),
            ("bad literal", file(#"{"a":nul}"#), "invalid literal, expected 'null'"),
            ("leading zero", file(#"{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#), "leading zero"),
            ("bad escape", file(#"{"a\q":1}"#), "invalid escape"),
            ("lone surrogate", file(#"{"\ud800":1}"#), "unpaired high surrogate"),
            ("lone low surrogate", file(#"{"\udc00x":1}"#), "unpaired low surrogate"),
            ("raw control char", file("{\"a\tb\":1}"), "raw control character"),
            ("unterminated string", file(#"{"abc"#), "unterminated string"),
            ("not an object", file("[1,2]"), "header is not a JSON object (it is an array)"),
            ("a bare string", file(#""x""#), "header is not a JSON object (it is a string)"),
            ("junk after object", file(#"{}x"#), "unexpected 'x' after the end of the JSON value"),
            ("NUL padding", file("{}\0\0"), "unexpected byte 0x00 after the end"),
            ("deep nesting", file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":"# + String(repeating: "[", count: 100_000)),
             "nesting deeper than 64 levels"),
            ("entry not an object", file(#"{"a":[1]}"#), "tensor 'a': entry must be an object"),
            ("missing dtype", file(#"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, ok4), "tensor 'a': missing 'dtype'"),
            ("missing shape", file(#"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, ok4), "tensor 'a': missing 'shape'"),
            ("missing offsets", file(#"{"a":{"dtype":"F32","shape":[1]}}"#, ok4), "tensor 'a': missing 'data_offsets'"),
            ("duplicate field", file(#"{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, ok4), "duplicate key 'dtype'"),
            ("dtype not a string", file(#"{"a":\#(entry("F32").replacingOccurrences(of: "\"F32\"", with: "32"))}"#, ok4), "'dtype' must be a string, got a number"),
            ("F16", file(#"{"a":\#(entry("F16", "[2]"))}"#, ok4), "tensor 'a': dtype F16 is unsupported by genc"),
            ("BF16", file(#"{"a":\#(entry("BF16", "[2]"))}"#, ok4), "dtype BF16 is unsupported by genc"),
            ("F64", file(#"{"a":\#(entry("F64", "[1]", "[0,8]"))}"#, ok4 + ok4), "dtype F64 is unsupported by genc"),
            ("I64", file(#"{"a":\#(entry("I64", "[1]", "[0,8]"))}"#, ok4 + ok4), "dtype I64 is unsupported by genc"),
            ("U8", file(#"{"a":\#(entry("U8", "[4]"))}"#, ok4), "dtype U8 is unsupported by genc"),
            ("unknown dtype", file(#"{"a":\#(entry("float32"))}"#, ok4), "unknown dtype 'float32'"),
            ("shape not an array", file(#"{"a":\#(entry("F32", "1"))}"#, ok4), "'shape' must be an array of integers, got a number"),
            ("negative extent", file(#"{"a":\#(entry("F32", "[-1]"))}"#, ok4), "shape[0] is negative (-1)"),
            ("fractional extent", file(#"{"a":\#(entry("F32", "[1, 1.5]"))}"#, ok4), "shape[1] is not an integer (1.5)"),
            ("1.0 extent", file(#"{"a":\#(entry("F32", "[1.0]"))}"#, ok4), "shape[0] is not an integer (1.0)"),
            ("exponent extent", file(#"{"a":\#(entry("F32", "[1e0]"))}"#, ok4), "shape[0] is not an integer (1e0)"),
            ("string extent", file(#"{"a":\#(entry("F32", "[\"1\"]"))}"#, ok4), "shape[0] must be an integer, got a string"),
            ("huge extent", file(#"{"a":\#(entry("F32", "[99999999999999999999]"))}"#, ok4), "shape[0] is too large"),
            ("element overflow", file(#"{"a":\#(entry("F32", "[4294967296,4294967296]"))}"#, ok4),
             "element count of shape [4294967296, 4294967296] overflows"),
            ("byte-size overflow", file(#"{"a":\#(entry("F32", "[4611686018427387904]"))}"#, ok4), "byte size of shape"),
            ("offsets of one", file(#"{"a":\#(entry("F32", "[1]", "[4]"))}"#, ok4), "'data_offsets' must be [begin, end], got an array of 1 elements"),
            ("offsets of three", file(#"{"a":\#(entry("F32", "[1]", "[0,4,8]"))}"#, ok4), "must be [begin, end]"),
            ("offsets an object", file(#"{"a":\#(entry("F32", "[1]", "{}"))}"#, ok4), "must be [begin, end], got an object"),
            ("begin > end", file(#"{"a":\#(entry("F32", "[1]", "[4,0]"))}"#, ok4), "data_offsets [4, 0] has begin > end"),
            ("negative offset", file(#"{"a":\#(entry("F32", "[1]", "[-4,0]"))}"#, ok4), "data_offsets[0] is negative"),
            ("huge offset", file(#"{"a":\#(entry("F32", "[1]", "[0,18446744073709551620]"))}"#, ok4), "data_offsets[1] is too large"),
            ("length mismatch", file(#"{"a":\#(entry("F32", "[1]", "[0,8]"))}"#, ok4 + ok4),
             "data_offsets [0, 8] span 8 bytes, but shape [1] of F32 needs 4"),
            ("outside data", file(#"{"a":\#(entry("F32", "[1]", "[4,8]"))}"#, ok4),
             "data_offsets [4, 8] lie outside the data section (4 bytes)"),
            ("overlap", file(#"{"a":\#(entry("F32", "[2]", "[0,8]")),"b":\#(entry("F32", "[1]", "[4,8]"))}"#, ok4 + ok4),
             "tensor 'b' (data_offsets [4, 8]) overlaps tensor 'a'"),
            ("same offsets", file(#"{"a":\#(entry()),"b":\#(entry())}"#, ok4), "overlaps"),
            ("hole", file(#"{"a":\#(entry("F32", "[1]", "[0,4]")),"b":\#(entry("F32", "[1]", "[8,12]"))}"#, ok4 + ok4 + ok4),
             "hole in the data section: bytes 4..<8 belong to no tensor (before tensor 'b')"),
            ("leading hole", file(#"{"a":\#(entry("F32", "[1]", "[4,8]"))}"#, ok4 + ok4), "hole in the data section: bytes 0..<4"),
            ("trailing data", file(#"{"a":\#(entry())}"#, ok4 + [1]),
             "trailing garbage: the data section has 5 bytes but the tensors cover only 4"),
            ("data with no tensors", file("{}", [0]), "trailing garbage"),
            ("metadata not an object", file(#"{"__metadata__":"x"}"#), "'__metadata__' must be an object of strings, got a string"),
            ("metadata number", file(#"{"__metadata__":{"step":3}}"#), "'__metadata__' value for key 'step' must be a string, got a number"),
            ("metadata null", file(#"{"__metadata__":{"k":null}}"#), "must be a string, got null"),
            ("metadata duplicate key", file(#"{"__metadata__":{"k":"1","k":"2"}}"#), "duplicate key 'k' in '__metadata__'"),
            ("duplicate metadata", file(#"{"__metadata__":{},"__metadata__":{}}"#), "duplicate '__metadata__' entry"),
            ("duplicate tensor", file(#"{"a":\#(entry()),"a":\#(entry())}"#, ok4), "duplicate tensor name 'a'"),
        ]
        XCTAssertGreaterThanOrEqual(cases.count, 15)
        for (what, bytes, expected) in cases {
            do {
                let st = try SafeTensors.decode(bytes)
                XCTFail("\(what): expected an error containing \"\(expected)\", decoded \(st.tensors.count) tensors")
            } catch {
                XCTAssertTrue(error.message.contains(expected), "\(what): \"\(error.message)\" lacks \"\(expected)\"")
            }
        }
    }

    /// Every truncation and every single-byte corruption of a valid file
    /// either decodes or is an error; none traps.
    func testTruncationsAndCorruptionsNeverTrap() {
        let bytes = SafeTensors(tensors: [
            ("a", .init(f32: [1, 2], shape: [2])), ("b", .init(i32: [3], shape: [])),
        ], metadata: ["k": "v"]).encode()
        for n in 0..<bytes.count {
            assertDecodeFails(Array(bytes[0..<n]), n < 8 ? "too short" : "")
        }
        var decoded = 0
        for i in 0..<bytes.count {
            for v: UInt8 in [0x00, 0x20, 0x22, 0x2C, 0x30, 0x39, 0x5B, 0x5D, 0x7B, 0x7D, 0x80, 0xFF] {
                var b = bytes
                b[i] = v
                if (try? SafeTensors.decode(b)) != nil { decoded += 1 }
            }
        }
        XCTAssertGreaterThan(decoded, 0)  // data bytes and some header digits may change harmlessly
    }

    // MARK: - Files

    func testReadErrors() throws {
        let dir = try makeTempDir()
        XCTAssertThrowsError(try SafeTensors.read(path: dir + "/missing.safetensors")) { e in
            let message = (e as? SafeTensorsError)?.message ?? ""
            XCTAssertTrue(message.contains("cannot open '\(dir)/missing.safetensors': No such file or directory"), message)
        }
        XCTAssertThrowsError(try SafeTensors.read(path: dir)) { e in
            XCTAssertTrue((e as? SafeTensorsError)?.message.contains("is a directory") ?? false, "\(e)")
        }
        let bad = dir + "/bad.safetensors"
        XCTAssertTrue(FileManager.default.createFile(atPath: bad, contents: Data(file(#"{"a":\#(entry("BF16", "[2]"))}"#, [0, 0, 0, 0]))))
        XCTAssertThrowsError(try SafeTensors.read(path: bad)) { e in
            XCTAssertEqual((e as? SafeTensorsError)?.message,
                           "'\(bad)': tensor 'a': dtype BF16 is unsupported by genc (only F32 and I32 are)")
        }
        let short = dir + "/short.safetensors"
        XCTAssertTrue(FileManager.default.createFile(atPath: short, contents: Data([1, 2, 3])))
        XCTAssertThrowsError(try SafeTensors.read(path: short)) { e in
            XCTAssertEqual((e as? SafeTensorsError)?.message, "'\(short)': file is too short (3 bytes) to hold the 8-byte header length")
        }
        let lying = dir + "/lying.safetensors"
        XCTAssertTrue(FileManager.default.createFile(atPath: lying, contents: Data(file("{}", length: 50_000_000))))
        XCTAssertThrowsError(try SafeTensors.read(path: lying)) { e in
            XCTAssertTrue((e as? SafeTensorsError)?.message.contains("is larger than the file") ?? false, "\(e)")
        }
    }

    func testAtomicWriteReplacesAndLeavesNoTemporaryFiles() throws {
        let dir = try makeTempDir()
        let path = dir + "/ckpt.safetensors"
        let first = SafeTensors(tensors: [("w", .init(f32: [1, 2, 3], shape: [3]))], metadata: ["step": "1"])
        try first.write(path: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["ckpt.safetensors"])
        let second = SafeTensors(tensors: [("w", .init(f32: [4], shape: [1])), ("b", .init(i32: [9], shape: []))],
                                 metadata: ["step": "2"])
        try second.write(path: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["ckpt.safetensors"])
        assertSameContent(try SafeTensors.read(path: path), second)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), second.encode())
    }

    func testFailedWritesLeaveNothingBehind() throws {
        let dir = try makeTempDir()
        let path = dir + "/ckpt.safetensors"
        let good = SafeTensors(tensors: [("w", .init(f32: [1], shape: [1]))])
        try good.write(path: path)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))

        // Inconsistent tensors are refused before anything is created.
        let cases: [(SafeTensors, String)] = [
            (SafeTensors(tensors: [("w", .init(dtype: .f32, shape: [2], bytes: [0, 0, 0, 0]))]),
             "tensor 'w': 4 bytes, but shape [2] of F32 needs 8"),
            (SafeTensors(tensors: [("w", .init(f32: [1], shape: [1])), ("w", .init(f32: [2], shape: [1]))]),
             "duplicate tensor name 'w'"),
            (SafeTensors(tensors: [("__metadata__", .init(f32: [1], shape: [1]))]), "cannot be named '__metadata__'"),
            (SafeTensors(tensors: [("n", .init(dtype: .i32, shape: [-1], bytes: []))]), "negative extent"),
        ]
        for (st, expected) in cases {
            XCTAssertThrowsError(try st.write(path: path)) { e in
                XCTAssertTrue((e as? SafeTensorsError)?.message.contains(expected) ?? false, "\(e)")
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), original)

        // A missing directory.
        XCTAssertThrowsError(try good.write(path: dir + "/no/such/dir/x.safetensors")) { e in
            XCTAssertTrue((e as? SafeTensorsError)?.message.contains("No such file or directory") ?? false, "\(e)")
        }
        // The rename fails when the target is a non-empty directory; the temporary file is removed.
        let sub = dir + "/sub"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        XCTAssertTrue(FileManager.default.createFile(atPath: sub + "/keep", contents: Data()))
        XCTAssertThrowsError(try good.write(path: sub)) { e in
            XCTAssertTrue((e as? SafeTensorsError)?.message.contains("cannot write '\(sub)': rename") ?? false, "\(e)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["ckpt.safetensors", "sub"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), original)
    }
}
