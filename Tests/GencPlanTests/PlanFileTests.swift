import GencIR
@testable import GencPlan
import GencSupport
import XCTest

/// Plan files (`genc compile -o`): every plan the planner makes comes back
/// equal, doubles bit for bit, and every damaged or hand-edited file is a
/// one-line `PlanFileError`, never a trap.
final class PlanFileTests: XCTestCase {
    static let graphs = [
        """
        graph "dense" {
          %0 = input {name: "x"} : f32[4, 3] loc("m.yaml":3:5)
          %1 = parameter {name: "w"} : f32[3, 8] loc("m.yaml":4:5)
          %2 = matmul %0, %1 {transpose_a: false, transpose_b: false} : f32[4, 8] loc("m.yaml":5:5)
          %3 = parameter {name: "b"} : f32[8]
          %4 = add %2, %3 : f32[4, 8]
          %5 = relu %4 : f32[4, 8]
          %6 = reduce_sum %5 {axes: [0, 1], keepdims: false} : f32[]
          output "loss" = %6
        }
        """,
        """
        graph "noise" {
          %0 = input {name: "x"} : f32[4, 4]
          %1 = random_normal {mean: 0.0, std: 1.0, stream: 3} : f32[4, 4]
          %2 = constant {value: 0.5} : f32[]
          %3 = multiply %1, %2 : f32[4, 4]
          %4 = add %0, %3 : f32[4, 4]
          %5 = leaky_relu %4 {slope: 0.2} : f32[4, 4]
          %6 = random_uniform {low: -1.0, high: 1.0, stream: 4} : f32[2, 2]
          output "y" = %5
          output "u" = %6
        }
        """,
        """
        graph "view" {
          %0 = input {name: "x"} : f32[4, 4]
          %1 = exp %0 : f32[4, 4]
          %2 = reshape %1 {shape: [16]} : f32[16]
          %3 = reduce_max %2 {axes: [0], keepdims: true} : f32[1]
          output "m" = %3
        }
        """,
        """
        graph "halves" {
          %0 = input {name: "x"} : f32[2, 8]
          %1 = slice %0 {start: [0, 0], end: [2, 4], step: [1, 1]} : f32[2, 4]
          %2 = slice %0 {start: [0, 4], end: [2, 8], step: [1, 1]} : f32[2, 4]
          %3 = multiply %1, %2 : f32[2, 4]
          %4 = transpose %3 {perm: [1, 0]} : f32[4, 2]
          %5 = tanh %4 : f32[4, 2]
          output "y" = %5
        }
        """,
        """
        graph "stats" {
          %0 = input {name: "x"} : f32[4, 2]
          %1 = state {name: "rm"} : f32[2]
          %2 = reduce_mean %0 {axes: [0], keepdims: false} : f32[2]
          %3 = constant {value: 0.9} : f32[]
          %4 = multiply %1, %3 : f32[2]
          %5 = add %4, %2 : f32[2]
          %6 = softmax %0 {axis: 1} : f32[4, 2]
          output "p" = %6
          update "rm" = %5
        }
        """,
        """
        graph "conv" {
          %0 = input {name: "img"} : f32[1, 1, 5, 5]
          %1 = parameter {name: "k"} : f32[2, 1, 3, 3]
          %2 = conv2d %0, %1 {stride: [1, 1], pad_before: [1, 1], pad_after: [1, 1]} : f32[1, 2, 5, 5]
          %3 = sigmoid %2 : f32[1, 2, 5, 5]
          %4 = maxpool2d %3 {kernel: [2, 2], stride: [2, 2], padding: [0, 0]} : f32[1, 2, 2, 2]
          %5 = input {name: "ids"} : i32[3]
          %6 = parameter {name: "table"} : f32[10, 4]
          %7 = gather %6, %5 : f32[3, 4]
          output "y" = %4
          output "e" = %7
        }
        """,
        """
        graph "xent" {
          %0 = input {name: "logits"} : f32[3, 5]
          %1 = input {name: "ids"} : i32[3]
          %2 = log_softmax %0 {axis: 1} : f32[3, 5]
          %3 = one_hot %1 {depth: 5} : f32[3, 5]
          %4 = multiply %3, %2 : f32[3, 5]
          %5 = reduce_sum %4 {axes: [1], keepdims: false} : f32[3]
          output "nll" = %5
        }
        """,
        """
        graph "carry" {
          %0 = input {name: "z"} : f32[2, 3]
          %1 = carried {name: "carry.b.0"} : f32[2, 3]
          %2 = tanh %0 : f32[2, 3]
          %3 = carried {name: "carry.b.1"} : f32[2, 3]
          %4 = multiply %1, %3 : f32[2, 3]
          output "y" = %4
          update "carry.b.0" = %2
        }
        """,
    ]

    func plan(_ ir: String, _ options: PlanOptions) throws -> Plan {
        let g = try IRParser.parse(ir)
        XCTAssertEqual(Verifier.verify(g), [])
        let p = try Planner.plan(g, options: options) { name, kind, _ in
            switch kind {
            case .parameter: return .uniform(bound: 1 / Double(name.count + 2).squareRoot())
            case .state: return .constant(-0.0)
            case .carried: return .constant(0)
            case .constant: return .normal(std: 0.02)
            }
        }
        XCTAssertEqual(PlanVerifier.verify(p), [], p.name)
        return p
    }

    func file(_ options: [PlanOptions] = [.optimized, .unoptimized]) throws -> PlanFile {
        var plans: [Plan] = []
        for o in options { for g in Self.graphs { plans.append(try plan(g, o)) } }
        return PlanFile(compiler: "genc 0.9.0 (test)", model: "tiny", metadata: ["batch": "4", "optimize": "yes", "ü\n": "\"quoted\"\t"],
                        source: "model: tiny\n  # ünïcødé, \"quotes\", \\backslash, \u{1}control, 😀\r\n", sourcePath: "models/tiny.yaml", plans: plans)
    }

    // MARK: - Round trips

    func testEveryPlanRoundTrips() throws {
        let f = try file()
        let bytes = f.encoded()
        XCTAssertTrue(bytes.starts(with: Array("GENCPLAN \(PlanFile.currentFormat)\n".utf8)))
        let back = try PlanFile.decode(bytes)
        XCTAssertEqual(back, f)
        for (a, b) in zip(back.plans, f.plans) { XCTAssertEqual(a, b, a.name) }
        XCTAssertEqual(back.encoded(), bytes, "encoding is deterministic")
        // The plans cover what the format must carry.
        let optimized = f.plans.prefix(Self.graphs.count)
        let steps = optimized.flatMap(\.steps)
        XCTAssertTrue(steps.contains { if case let .fused(l) = $0.kernel { return l.head != nil } else { return false } }, "an epilogue")
        let body = steps.flatMap { s -> [FusedInstruction] in if case let .fused(l) = s.kernel { return l.body } else { return [] } }
        XCTAssertTrue(body.contains { if case .random = $0.function { return true } else { return false } }, "a fused draw")
        XCTAssertTrue(body.contains { $0.operands.contains { if case .scalar = $0 { return true } else { return false } } }, "a scalar operand")
        XCTAssertTrue(body.contains { if case .unary(.leakyRelu) = $0.function { return true } else { return false } }, "a function with an attribute")
        XCTAssertTrue(optimized.flatMap(\.slots).contains { if case .view = $0.storage { return true } else { return false } }, "a view")
        XCTAssertTrue(optimized.flatMap(\.slots).contains { $0.storage == .fused }, "a register")
        XCTAssertTrue(steps.contains { if case let .fused(l) = $0.kernel { return l.reads.contains { !$0.isIdentity(over: l.shape) } } else { return false } }, "a strided read")
        XCTAssertTrue(optimized.flatMap(\.updates).contains(where: \.inPlace), "an in-place update")
        XCTAssertTrue(f.plans.contains { !$0.report.peak.isEmpty })
        XCTAssertTrue(f.plans.contains { $0.steps.contains { $0.location != nil } })
    }

    func testEmptyFileRoundTrips() throws {
        let f = PlanFile(compiler: "", model: "", source: "", sourcePath: "", plans: [])
        XCTAssertEqual(try PlanFile.decode(f.encoded()), f)
    }

    func testDoublesRoundTripBitForBit() throws {
        var f = try file([.optimized])
        f.plans = [f.plans[0]]
        guard let k = f.plans[0].persistent.indices.first else { return XCTFail("no persistent buffer") }
        var rng = SystemRandomNumberGenerator()
        let special: [UInt64] = [0x8000_0000_0000_0000, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000, 0x7FF8_0000_DEAD_BEEF,
                                 0xFFF4_0000_0000_0001, 1, 0x000F_FFFF_FFFF_FFFF, 0x7FEF_FFFF_FFFF_FFFF]
        for bits in special + (0..<300).map({ _ in rng.next() as UInt64 }) {
            let d = Double(bitPattern: bits)
            let inits: [Initializer] = [.uniform(bound: d), .normal(std: d), .constant(d)]
            f.plans[0].persistent[k].initializer = inits[Int(bits % 3)]
            let back = try PlanFile.decode(f.encoded())
            let got: Double
            switch back.plans[0].persistent[k].initializer {
            case let .uniform(b): got = b
            case let .normal(s): got = s
            case let .constant(c): got = c
            }
            XCTAssertEqual(got.bitPattern, bits)
        }
        // Doubles inside ops and loop bodies: attributes and scalars.
        var g = try file([.optimized])
        let odd = Double(bitPattern: 0x8000_0000_0000_0001)
        for p in g.plans.indices {
            for s in g.plans[p].steps.indices {
                guard case var .fused(l) = g.plans[p].steps[s].kernel else { continue }
                for j in l.body.indices {
                    l.body[j].operands = l.body[j].operands.map { if case .scalar = $0 { return .scalar(-0.0) } else { return $0 } }
                    if case .unary(.leakyRelu) = l.body[j].function { l.body[j].function = .unary(.leakyRelu(slope: odd)) }
                    if case let .random(.normal(_, std), stream) = l.body[j].function { l.body[j].function = .random(.normal(mean: -0.0, std: std), stream: stream) }
                }
                g.plans[p].steps[s].kernel = .fused(l)
            }
        }
        let back = try PlanFile.decode(g.encoded())
        XCTAssertEqual(back, g)
        let bodies = back.plans.flatMap(\.steps).flatMap { s -> [FusedInstruction] in if case let .fused(l) = s.kernel { return l.body } else { return [] } }
        XCTAssertTrue(bodies.contains { $0.operands.contains { if case let .scalar(v) = $0 { return v.bitPattern == (-0.0).bitPattern } else { return false } } })
        XCTAssertTrue(bodies.contains { if case let .unary(.leakyRelu(s)) = $0.function { return s.bitPattern == odd.bitPattern } else { return false } })
        XCTAssertTrue(bodies.contains { if case let .random(.normal(m, _), _) = $0.function { return m.bitPattern == (-0.0).bitPattern } else { return false } })
    }

    // MARK: - Damaged files

    /// The error decoding gives, failing the test if there is none or it is not a `PlanFileError`.
    func error(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try PlanFile.decode(bytes)
            XCTFail("decoded", file: file, line: line)
            return ""
        } catch let e as PlanFileError {
            XCTAssertFalse(e.message.contains("\n"), "one line: \(e.message)", file: file, line: line)
            XCTAssertEqual(e.description, e.message, file: file, line: line)
            return e.message
        } catch {
            XCTFail("not a PlanFileError: \(error)", file: file, line: line)
            return ""
        }
    }

    func expect(_ bytes: [UInt8], _ part: String, file: StaticString = #filePath, line: UInt = #line) {
        let m = error(bytes, file: file, line: line)
        XCTAssertTrue(m.contains(part), "\(m) does not contain \(part)", file: file, line: line)
    }

    func testWrongMagicIsNotAPlanFile() throws {
        expect(Array("PK\u{3}\u{4}hello".utf8), "not a genc plan file")
        expect([], "not a genc plan file")
        expect(Array("GENCPLAN\n".utf8), "not a genc plan file")
        expect(Array("GENCPLAN x\n".utf8), "not a genc plan file")
        expect(Array("model: m\n".utf8), "not a genc plan file")
        var bytes = try file([.optimized]).encoded()
        bytes[0] = UInt8(ascii: "g")
        expect(bytes, "not a genc plan file")
    }

    func testOtherFormatAsksForARecompile() throws {
        var f = try file([.optimized])
        let current = PlanFile.currentFormat
        f.format = current + 1
        XCTAssertEqual(error(f.encoded()), "plan file format \(current + 1); this genc reads format \(current): recompile with `genc compile`")
        f.format = 1
        XCTAssertEqual(error(f.encoded()), "plan file format 1; this genc reads format \(current): recompile with `genc compile`",
                       "format 1 had no fused reductions")
        f.format = 0
        XCTAssertEqual(error(f.encoded()), "plan file format 0; this genc reads format \(current): recompile with `genc compile`")
    }

    func testTruncatedFilesAreRefused() throws {
        let bytes = try file([.optimized]).encoded()
        guard let headerEnd = bytes.indices.filter({ bytes[$0] == 0x0A }).dropFirst().first else { return XCTFail("no header") }
        for cut in [bytes.count - 1, bytes.count / 2, headerEnd + 1, headerEnd + 2] {
            expect(Array(bytes.prefix(cut)), "truncated")
        }
        for cut in 0..<(headerEnd + 1) { _ = error(Array(bytes.prefix(cut))) }
        expect(bytes + [0x0A], "after its body")
    }

    func testAFlippedBodyByteIsAChecksumMismatch() throws {
        let bytes = try file([.optimized]).encoded()
        guard let headerEnd = bytes.indices.filter({ bytes[$0] == 0x0A }).dropFirst().first else { return XCTFail("no header") }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var b = bytes
            let at = Int.random(in: (headerEnd + 1)..<bytes.count, using: &rng)
            b[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            XCTAssertEqual(error(b), "plan file is corrupt (checksum mismatch): recompile with `genc compile`")
        }
        // Any header byte: some error, never a trap.
        for at in 0...headerEnd {
            var b = bytes
            b[at] ^= 0x20
            _ = error(b)
        }
    }

    // MARK: - Valid JSON, invalid plans

    /// One step of a path into a JSON tree.
    enum PathStep { case key(String), index(Int) }

    func body(_ bytes: [UInt8]) throws -> JSONValue {
        guard let headerEnd = bytes.indices.filter({ bytes[$0] == 0x0A }).dropFirst().first else { throw PlanFileError("no header") }
        return try JSONValue.parse(Array(bytes[(headerEnd + 1)...]))
    }

    /// `v` with the value at `path` replaced by `f` of it.
    /// A path that is not there fails the test, unless `lenient` (the fuzzer's
    /// earlier edits may have removed it).
    func edit(_ v: JSONValue, _ path: ArraySlice<PathStep>, lenient: Bool = false, _ f: (JSONValue) -> JSONValue) -> JSONValue {
        guard let first = path.first else { return f(v) }
        switch (first, v) {
        case let (.key(k), .object(pairs)):
            return .object(pairs.map { $0.0 == k ? ($0.0, edit($0.1, path.dropFirst(), lenient: lenient, f)) : $0 })
        case let (.index(i), .array(xs)):
            var ys = xs
            if ys.indices.contains(i) { ys[i] = edit(ys[i], path.dropFirst(), lenient: lenient, f) }
            return .array(ys)
        default:
            if !lenient { XCTFail("no \(first) in \(v.serialized(pretty: false).prefix(80))") }
            return v
        }
    }

    func edited(_ f: PlanFile, _ path: [PathStep], _ change: (JSONValue) -> JSONValue) throws -> [UInt8] {
        PlanFile.framed(Array(edit(try body(f.encoded()), path[...], change).serialized(pretty: false).utf8))
    }

    func testASlotOutOfRangeIsNamedByItsPath() throws {
        let f = try file([.unoptimized])
        let bytes = try edited(f, [.key("plans"), .index(0), .key("steps"), .index(0), .key("inputs"), .index(0)]) { _ in .int(999) }
        let n = f.plans[0].slots.count
        XCTAssertEqual(error(bytes), "invalid plan file: plans[0].steps[0].inputs[0]: slot 999 does not exist (there are \(n))")
        expect(try edited(f, [.key("plans"), .index(0), .key("outputs"), .index(0), .key("slot")]) { _ in .int(-1) }, "plans[0].outputs[0].slot: slot -1 does not exist")
        expect(try edited(f, [.key("plans"), .index(0), .key("updates")]) { _ in .array([.object([("buffer", .int(7)), ("slot", .int(0)), ("in_place", .bool(false))])]) },
               "plans[0].updates[0].buffer: persistent buffer 7 does not exist")
        expect(try edited(f, [.key("plans"), .index(0), .key("slots"), .index(0), .key("storage")]) { _ in .object([("view", .int(n))]) }, "slots[0].storage.view: slot \(n) does not exist")
        expect(try edited(f, [.key("plans"), .index(0), .key("slots"), .index(0), .key("storage")]) { _ in .object([("arena", .int(-64))]) }, "-64 is negative")
        expect(try edited(f, [.key("plans"), .index(0), .key("arena_bytes")]) { _ in .int(1 << 60) }, "is larger than its slots need")
        expect(try edited(f, [.key("plans"), .index(0), .key("slots"), .index(0), .key("type"), .key("shape")]) { _ in .array([.int(1 << 30), .int(1 << 30)]) }, "2^40")
        expect(try edited(f, [.key("plans"), .index(0), .key("slots"), .index(0), .key("type"), .key("shape")]) { _ in .array([.int(-4)]) }, "extent -4 is negative")
        expect(try edited(f, [.key("plans"), .index(0), .key("slots"), .index(0), .key("type"), .key("dtype")]) { _ in .string("f64") }, "unknown dtype \"f64\" (expected f32 or i32)")
        expect(try edited(f, [.key("plans"), .index(0), .key("report"), .key("peak_step")]) { _ in .int(1000) }, "peak_step")
    }

    func testAnUnknownOpIsRefused() throws {
        let f = try file([.unoptimized])
        let path: [PathStep] = [.key("plans"), .index(0), .key("steps"), .index(0), .key("kernel"), .key("op"), .key("op")]
        XCTAssertEqual(error(try edited(f, path) { _ in .string("matmool") }), "invalid plan file: plans[0].steps[0].kernel.op: unknown op 'matmool'")
        // A name whose attributes belong to another op.
        expect(try edited(f, path) { _ in .string("conv2d") }, "conv2d needs an integer list 'stride'")
        // An attribute the op does not take, and one of the wrong kind.
        let attrs: [PathStep] = [.key("plans"), .index(0), .key("steps"), .index(0), .key("kernel"), .key("op"), .key("attrs")]
        expect(try edited(f, attrs) { v in
            guard case let .object(ps) = v else { return v }
            return .object(ps + [("slope", .object([("double", .string("3fe0000000000000"))]))])
        }, "matmul takes no attribute \"slope\"")
        expect(try edited(f, attrs + [.key("transpose_a")]) { _ in .object([("int", .int(0))]) }, "matmul needs a boolean 'transpose_a'")
        expect(try edited(f, attrs + [.key("transpose_a")]) { _ in .object([("bool", .bool(false)), ("int", .int(0))]) }, "one key of")
        // A fused function that is not elementwise.
        let o = try file([.optimized])
        let fusedSteps = o.plans.indices.flatMap { p in o.plans[p].steps.indices.filter { if case .fused = o.plans[p].steps[$0].kernel { return true } else { return false } }.map { (p, $0) } }
        guard let at = fusedSteps.first else { return XCTFail("no fused step") }
        let (p, s) = at
        expect(try edited(o, [.key("plans"), .index(p), .key("steps"), .index(s), .key("kernel"), .key("fused"), .key("body"), .index(0), .key("function")]) { _ in
            PlanJSONEncoder.op(.matmul(transposeA: false, transposeB: false))
        }, "not matmul")
        expect(try edited(o, [.key("plans"), .index(p), .key("steps"), .index(s), .key("kernel"), .key("fused"), .key("body"), .index(0), .key("function")]) { _ in
            .string("paste")
        }, "expected an op or \"copy\"")
    }

    func testAnUnknownOrMissingKeyIsRefused() throws {
        let f = try file([.unoptimized])
        expect(try edited(f, [.key("plans"), .index(0), .key("slots"), .index(0)]) { v in
            guard case let .object(ps) = v else { return v }
            return .object(ps + [("extra", .int(1))])
        }, "invalid plan file: plans[0].slots[0]: unknown key \"extra\" (expected storage, type)")
        expect(try edited(f, [.key("plans"), .index(0), .key("report")]) { v in
            guard case let .object(ps) = v else { return v }
            return .object(ps.filter { $0.0 != "flops" })
        }, "plans[0].report: missing key \"flops\"")
        expect(try edited(f, [.key("metadata")]) { v in
            guard case let .object(ps) = v else { return v }
            return .object(ps + ps)
        }, "appears twice")
        expect(try edited(f, [.key("plans"), .index(0), .key("name")]) { _ in .int(3) }, "plans[0].name: expected a string, got an integer")
        expect(try edited(f, [.key("plans"), .index(0), .key("persistent"), .index(0), .key("init")]) { _ in .object([("uniform", .double(0.5))]) },
               "expected a string, got a fractional number")
        expect(try edited(f, [.key("plans"), .index(0), .key("persistent"), .index(0), .key("init")]) { _ in .object([("uniform", .string("3FE0000000000000"))]) },
               "16 lowercase hex digits")
        expect(try edited(f, [.key("plans"), .index(0), .key("persistent"), .index(0), .key("kind")]) { _ in .string("weights") }, "unknown kind \"weights\"")
        expect(PlanFile.framed(Array("{\"plans\": [}".utf8)), "not valid JSON")
        expect(PlanFile.framed(Array("[]".utf8)), "body: expected an object, got an array")
    }

    func testAPlanThatFailsTheVerifierIsRefusedByName() throws {
        var f = try file([.unoptimized])
        // Two live values at the same offset: the relu's output on the input's bytes.
        let p = f.plans[0]
        guard let relu = p.steps.first(where: { $0.op == .unary(.relu) }), let x = p.inputs.first else { return XCTFail("no relu or input") }
        f.plans[0].slots[relu.outputs[0]].storage = p.slots[x.slot].storage
        XCTAssertFalse(PlanVerifier.verify(f.plans[0]).isEmpty)
        let m = error(f.encoded())
        XCTAssertTrue(m.hasPrefix("invalid plan file: plan \"dense\" (plans[0]) fails verification: "), m)
        XCTAssertTrue(m.contains("overlap"), m)
        // A read outside its input.
        var g = try file([.optimized])
        for (i, q) in g.plans.enumerated() {
            for (s, step) in q.steps.enumerated() {
                guard case var .fused(l) = step.kernel, !l.reads.isEmpty else { continue }
                l.reads[0].offset += 1_000_000
                g.plans[i].steps[s].kernel = .fused(l)
                expect(g.encoded(), "reaches outside its input")
                return
            }
        }
        XCTFail("no fused read")
    }

    /// Fused reductions and one_hot instructions: each field checked on load.
    func testAFusedReductionOrOneHotThatDoesNotFitIsRefused() throws {
        let o = try file([.optimized])
        guard let p = o.plans.firstIndex(where: { $0.name == "xent" }),
              let s = o.plans[p].steps.firstIndex(where: { if case let .fused(f) = $0.kernel { return !f.reductions.isEmpty } else { return false } }),
              case let .fused(loop) = o.plans[p].steps[s].kernel else { return XCTFail("no fused reduction") }
        XCTAssertEqual(loop.reductions.count, 1)
        XCTAssertTrue(loop.body.contains { $0.function == .oneHot(depth: 5) })
        let at: [PathStep] = [.key("plans"), .index(p), .key("steps"), .index(s), .key("kernel"), .key("fused")]
        let red = at + [.key("reductions"), .index(0)]
        expect(try edited(o, red + [.key("function")]) { _ in .string("median") }, "expected one of sum, mean, max, got \"median\"")
        expect(try edited(o, red + [.key("strides")]) { _ in .array([.int(1)]) }, "expected 2 strides")
        expect(try edited(o, red + [.key("strides")]) { _ in .array([.int(0), .int(0)]) }, "does not match its strides")
        expect(try edited(o, red + [.key("strides")]) { _ in .array([.int(1), .int(1)]) }, "does not match its strides")
        expect(try edited(o, red + [.key("operand")]) { _ in .object([("register", .int(99))]) }, "reduction 0 reads register 99")
        expect(try edited(o, red + [.key("operand")]) { _ in .object([("scalar", .string("3ff0000000000000"))]) }, "reduces a scalar")
        // one_hot over the wrong depth, or reading the f32 logits as ids.
        let hot = loop.body.firstIndex { $0.function == .oneHot(depth: 5) }!
        expect(try edited(o, at + [.key("body"), .index(hot), .key("function")]) { _ in PlanJSONEncoder.op(.oneHot(depth: 4)) }, "does not run over the loop's last axis")
        var g = o
        var l = loop
        l.body[hot].operands = [.head]
        g.plans[p].steps[s].kernel = .fused(l)
        expect(g.encoded(), "does not read an input")
        // A reduction's output is never an input's bytes: it is accumulated over the whole loop.
        let step = o.plans[p].steps[s]
        XCTAssertFalse(step.inputs.indices.contains { Planner.allowsInPlace(step, input: $0, output: l.firstReductionOutput, o.plans[p].slots) })
    }

    func testHugeStridesAreRefusedWithoutOverflow() throws {
        var g = try file([.optimized])
        for (i, q) in g.plans.enumerated() {
            for (s, step) in q.steps.enumerated() {
                guard case var .fused(l) = step.kernel, !l.reads.isEmpty, l.shape.contains(where: { $0 > 2 }) else { continue }
                l.reads[0].strides = l.reads[0].strides.map { _ in Int.max / 2 }
                l.reads[0].offset = Int.max / 2
                g.plans[i].steps[s].kernel = .fused(l)
                _ = error(g.encoded())
                l.reads[0].strides = l.reads[0].strides.map { _ in Int.min / 2 }
                g.plans[i].steps[s].kernel = .fused(l)
                _ = error(g.encoded())
                return
            }
        }
        XCTFail("no fused read")
    }

    /// Every leaf of a JSON tree, by path.
    func leaves(_ v: JSONValue, _ prefix: [PathStep] = []) -> [[PathStep]] {
        switch v {
        case .null, .bool, .int, .double, .string: return [prefix]
        case let .array(xs): return [prefix] + xs.indices.flatMap { leaves(xs[$0], prefix + [.index($0)]) }
        case let .object(ps): return [prefix] + ps.flatMap { leaves($0.1, prefix + [.key($0.0)]) }
        }
    }

    /// Random edits of the JSON of valid files, framed with a valid
    /// checksum: each decodes (and then round-trips) or is a `PlanFileError`.
    func testMutatedBodiesNeverTrap() throws {
        var rng = SystemRandomNumberGenerator()
        let whole = try file()
        // One plan a file, so each decode is quick.
        for plan in whole.plans {
            var f = whole
            f.plans = [plan]
            let json = try body(f.encoded())
            let paths = leaves(json)
            let ints = [-1, 0, 1, 2, 3, 7, 63, 64, 65, 1 << 40, Int.max, Int.min, Int.max / 4]
            let replacements: [JSONValue] = ints.map { .int($0) } + [.null, .bool(true), .string(""), .string("f32"), .string("copy"),
                                                                      .string("7ff8000000000000"), .array([]), .array([.int(0)]), .object([]), .double(0.5)]
            var decoded = 0
            for _ in 0..<120 {
                var v = json
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let path = paths[Int.random(in: 0..<paths.count, using: &rng)]
                    v = edit(v, path[...], lenient: true) { old in
                        switch Int.random(in: 0..<4, using: &rng) {
                        case 0: if case let .int(x) = old { return .int(x &+ Int.random(in: -70...70, using: &rng)) }; return old
                        case 1: if case let .array(xs) = old, !xs.isEmpty { return .array(Array(xs.dropLast())) }; return old
                        case 2: if case let .array(xs) = old, let x = xs.first { return .array(xs + [x]) }; return old
                        default: return replacements[Int.random(in: 0..<replacements.count, using: &rng)]
                        }
                    }
                }
                let bytes = PlanFile.framed(Array(v.serialized(pretty: false).utf8))
                do {
                    let back = try PlanFile.decode(bytes)
                    decoded += 1
                    // By bytes: a NaN put in by an edit is unequal to itself as a value.
                    XCTAssertEqual(try PlanFile.decode(back.encoded()).encoded(), back.encoded())
                } catch let e as PlanFileError {
                    XCTAssertFalse(e.message.isEmpty)
                } catch {
                    XCTFail("not a PlanFileError: \(error)")
                }
            }
            XCTAssertGreaterThan(decoded, 0, "some edits of \(plan.name) keep a valid plan")
        }
    }

    func testRandomBytesAndByteEditsNeverTrap() throws {
        let bytes = try file([.optimized]).encoded()
        guard let headerEnd = bytes.indices.filter({ bytes[$0] == 0x0A }).dropFirst().first else { return XCTFail("no header") }
        let body = Array(bytes[(headerEnd + 1)...])
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<400 {
            var b = body
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<b.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: b[at] = UInt8.random(in: 0...255, using: &rng)
                case 1: b.remove(at: at)
                default: b.insert(b[Int.random(in: 0..<b.count, using: &rng)], at: at)
                }
            }
            do { _ = try PlanFile.decode(PlanFile.framed(b)) } catch is PlanFileError {} catch { XCTFail("not a PlanFileError: \(error)") }
        }
        for n in [0, 1, 17, 300] {
            let junk = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = error(junk)
            _ = error(Array("GENCPLAN 1\n".utf8) + junk)
        }
    }

    /// Hostile attributes of the conv and pooling family — a zero stride, a
    /// zero kernel, negative padding, an axis count that does not match —
    /// on every op that carries them, gradients included: each is refused
    /// by the verifier, never a division by zero or an index past an axis
    /// later (the fuzzer found a conv2d_filter_grad with stride 0 that
    /// verified and then trapped in the runtime's workspace sizing).
    func testHostileConvAndPoolAttributesAreRefusedOnEveryOp() throws {
        let ir = """
        graph "grads" {
          %0 = input {name: "x"} : f32[1, 1, 5, 5]
          %1 = input {name: "dy"} : f32[1, 2, 5, 5]
          %2 = conv2d_filter_grad %0, %1 {stride: [1, 1], pad_before: [1, 1], pad_after: [1, 1], kernel_size: [3, 3]} : f32[2, 1, 3, 3]
          %3 = conv2d_input_grad %1, %2 {stride: [1, 1], pad_before: [1, 1], pad_after: [1, 1], input_size: [5, 5]} : f32[1, 1, 5, 5]
          %4 = conv2d %3, %2 {stride: [1, 1], pad_before: [1, 1], pad_after: [1, 1]} : f32[1, 2, 5, 5]
          %5 = input {name: "p"} : f32[1, 2, 4, 4]
          %6 = maxpool2d %5 {kernel: [2, 2], stride: [2, 2], padding: [0, 0]} : f32[1, 2, 2, 2]
          %7 = maxpool2d_grad %5, %6 {kernel: [2, 2], stride: [2, 2], padding: [0, 0]} : f32[1, 2, 4, 4]
          output "w" = %2
          output "x" = %4
          output "g" = %7
        }
        """
        let good = try plan(ir, .unoptimized)
        let convs: [ConvAttributes] = [
            ConvAttributes(stride: [0, 1], padBefore: [1, 1], padAfter: [1, 1]),
            ConvAttributes(stride: [1, -3], padBefore: [1, 1], padAfter: [1, 1]),
            ConvAttributes(stride: [1, 1], padBefore: [-1, 1], padAfter: [1, 1]),
            ConvAttributes(stride: [1, 1], padBefore: [1], padAfter: [1, 1]),
            ConvAttributes(stride: [1, 1], padBefore: [1, 1], padAfter: []),
            ConvAttributes(stride: [1], padBefore: [1, 1], padAfter: [1, 1]),
            ConvAttributes(stride: [1, 1, 1], padBefore: [1, 1, 1], padAfter: [1, 1, 1]),
        ]
        let pools: [PoolAttributes] = [
            PoolAttributes(kind: .max, kernel: [2, 2], stride: [0, 2], padding: [0, 0]),
            PoolAttributes(kind: .max, kernel: [0, 2], stride: [2, 2], padding: [0, 0]),
            PoolAttributes(kind: .max, kernel: [2, 2], stride: [2], padding: [0, 0]),
            PoolAttributes(kind: .max, kernel: [2, 2], stride: [2, 2], padding: [0, -1]),
            PoolAttributes(kind: .max, kernel: [2, 2, 2], stride: [2, 2], padding: [0, 0]),
        ]
        var edits: [(String, Op)] = []
        for (k, step) in good.steps.enumerated() {
            guard case let .op(op) = step.kernel else { continue }
            switch op {
            case .conv: edits += convs.map { ("step \(k) conv", .conv($0)) }
            case let .convInputGrad(a, size):
                edits += convs.map { ("step \(k) input grad", .convInputGrad($0, inputSize: size)) }
                edits += [[0, 5], [5], [5, 5, 5], [-1, 5]].map { ("step \(k) input size \($0)", .convInputGrad(a, inputSize: $0)) }
            case let .convFilterGrad(a, size):
                edits += convs.map { ("step \(k) filter grad", .convFilterGrad($0, kernelSize: size)) }
                edits += [[0, 3], [3], [3, 3, 3], [-3, 3]].map { ("step \(k) kernel size \($0)", .convFilterGrad(a, kernelSize: $0)) }
            case .pool: edits += pools.map { ("step \(k) pool", .pool($0)) }
            case .poolGrad: edits += pools.map { ("step \(k) pool grad", .poolGrad($0)) }
            case .input, .parameter, .state, .carried, .constant, .random, .unary, .binary, .matmul, .reduce, .softmax, .logSoftmax,
                 .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd, .oneHot:
                continue
            }
        }
        XCTAssertEqual(edits.count, 3 * convs.count + 2 * 4 + 2 * pools.count, "every conv and pool op of the graph was edited")
        for (what, op) in edits {
            var bad = good
            let k = Int(what.split(separator: " ")[1])!
            bad.steps[k].kernel = .op(op)
            XCTAssertFalse(PlanVerifier.verify(bad).isEmpty, "\(what): \(op) verified")
            var f = try file([.unoptimized])
            f.plans = [bad]
            _ = error(f.encoded())
        }
    }
}
