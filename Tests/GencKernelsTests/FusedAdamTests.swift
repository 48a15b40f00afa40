@testable import GencKernels
import XCTest

/// The one-pass Adam loop against the interpreter it stands in for: the same
/// bits for every form of the body the optimizer lowering can emit, in place
/// and not, on one and two threads; and bodies that differ are not taken for it.
final class FusedAdamTests: XCTestCase {
    typealias S = FusedProgram.Source

    /// Reads: 0 g (or the first term), 1 m, 2 v, 3 p, 4 step size (stride 0),
    /// 5 √bias correction (stride 0), 6 the second gradient term.
    func adamBody(sum: Bool, fromEnd: Bool, commuted: Bool) -> [FusedProgram.Instruction] {
        let b = sum ? 1 : 0
        func r(_ j: Int) -> S { .register(b + j) }
        func mul(_ x: S, _ y: S) -> FusedProgram.Instruction { commuted ? .binary(.mul, y, x) : .binary(.mul, x, y) }
        func add(_ x: S, _ y: S) -> FusedProgram.Instruction { commuted ? .binary(.add, y, x) : .binary(.add, x, y) }
        let g: S = sum ? .register(0) : .input(0)
        let weight: Float = fromEnd ? 0.5 : 0.1
        var body: [FusedProgram.Instruction] = sum ? [add(.input(0), .input(6))] : []
        body += [
            .binary(.sub, g, .input(1)),
            mul(r(0), .scalar(weight)),
            fromEnd ? .binary(.sub, g, r(1)) : add(.input(1), r(1)),
            mul(.input(2), .scalar(0.999)),
            .binary(.mul, g, g),
            mul(r(4), .scalar(0.001_000_000_000_000_000_9)),
            add(r(3), r(5)),
            .unary(.sqrt, r(6)),
            .binary(.div, r(7), .input(5)),
            add(r(8), .scalar(1e-8)),
            .binary(.div, r(2), r(9)),
            mul(.input(4), r(10)),
            .binary(.sub, .input(3), r(11)),
        ]
        return body
    }

    struct Buffers {
        var g, m, v, p, g2: [Float]
        var step: [Float] = [2.1e-4]
        var bc2: [Float] = [0.044_710_2]
    }

    func buffers(_ n: Int, seed: UInt64) -> Buffers {
        var rng = SplitMix(seed)
        func draw(_ scale: Float, positive: Bool = false) -> [Float] {
            (0..<n).map { _ in let x = rng.nextFloat() * 2 - 1; return (positive ? abs(x) : x) * scale }
        }
        return Buffers(g: draw(0.3), m: draw(0.05), v: draw(0.01, positive: true), p: draw(1), g2: draw(0.2))
    }

    /// Runs `body` over `b`; results go to the m, v, p buffers themselves
    /// when `inPlace`. Returns whether it was taken for Adam, and [Σg, m', v', p'].
    func run(_ body: [FusedProgram.Instruction], sum: Bool, _ b: Buffers, inPlace: Bool, threads: Int) -> (adam: Bool, out: [[Float]]) {
        let n = b.g.count
        let base = sum ? 1 : 0
        // Owned copies: the loop reads and (in place) writes them.
        let arrays = [b.g, b.m, b.v, b.p, b.step, b.bc2, b.g2]
        let buffers = arrays.map { a -> UnsafeMutablePointer<Float> in
            let x = UnsafeMutablePointer<Float>.allocate(capacity: a.count)
            x.initialize(from: a, count: a.count)
            return x
        }
        let outs = (0..<4).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n) }
        defer { (buffers + outs).forEach { $0.deallocate() } }
        let reads = buffers.enumerated().map { k, x in
            FusedProgram.Read(base: UnsafePointer(x), offset: 0, strides: [k == 4 || k == 5 ? 0 : 1])
        }
        var results: [(register: Int, out: UnsafeMutablePointer<Float>)] = [
            (base + 2, inPlace ? buffers[1] : outs[1]),
            (base + 6, inPlace ? buffers[2] : outs[2]),
            (base + 12, inPlace ? buffers[3] : outs[3]),
        ]
        if sum { results.append((0, outs[0])) }
        let program = FusedProgram(shape: [n], reads: reads, body: body, results: results)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: program.scratchCount(threads: threads))
        defer { scratch.deallocate() }
        var seed: UInt64 = 0
        runFused(program, seeds: &seed, scratch: scratch, threads: threads)
        let m = results[0].out, v = results[1].out, p = results[2].out
        return (program.adam != nil, [sum ? Array(UnsafeBufferPointer(start: outs[0], count: n)) : [],
                                      Array(UnsafeBufferPointer(start: m, count: n)),
                                      Array(UnsafeBufferPointer(start: v, count: n)),
                                      Array(UnsafeBufferPointer(start: p, count: n))])
    }

    func testOnePassGivesTheInterpretersBits() {
        for sum in [false, true] {
            for fromEnd in [false, true] {
                for commuted in [false, true] {
                    let body = adamBody(sum: sum, fromEnd: fromEnd, commuted: commuted)
                    // One dead instruction more: the same values, run by the interpreter.
                    let interpreted = body + [.copy(.scalar(0))]
                    for (n, threads) in [(13, 1), (1000 + 5, 1), (70_001, 2)] {
                        for inPlace in [false, true] {
                            let data = buffers(n, seed: UInt64(n))
                            let fast = run(body, sum: sum, data, inPlace: inPlace, threads: threads)
                            let slow = run(interpreted, sum: sum, data, inPlace: inPlace, threads: threads)
                            let what = "sum \(sum) fromEnd \(fromEnd) commuted \(commuted) n \(n) inPlace \(inPlace)"
                            XCTAssertTrue(fast.adam, what)
                            XCTAssertFalse(slow.adam, what)
                            for k in (sum ? 0 : 1)..<4 {
                                let differing = zip(fast.out[k], slow.out[k]).filter { $0.bitPattern != $1.bitPattern }.count
                                XCTAssertEqual(differing, 0, "\(what) output \(k): elements whose bits differ")
                                XCTAssertFalse(fast.out[k].contains { !$0.isFinite }, what)
                            }
                        }
                    }
                }
            }
        }
    }

    func testBodiesThatComputeSomethingElseAreInterpreted() {
        let body = adamBody(sum: false, fromEnd: true, commuted: false)
        var changed: [[FusedProgram.Instruction]] = []
        // Subtraction and division are not commutative: swapped, they are other maths.
        var b = body; b[0] = .binary(.sub, .input(1), .input(0)); changed.append(b)
        b = body; b[12] = .binary(.sub, .register(11), .input(3)); changed.append(b)
        b = body; b[8] = .binary(.div, .input(5), .register(7)); changed.append(b)
        // Another operand, another op, another register.
        b = body; b[4] = .binary(.mul, .input(0), .input(1)); changed.append(b)
        b = body; b[7] = .unary(.exp, .register(6)); changed.append(b)
        b = body; b[10] = .binary(.div, .register(1), .register(9)); changed.append(b)
        b = body; b[2] = .binary(.sub, .input(0), .register(0)); changed.append(b)
        b = body; b[3] = .binary(.mul, .input(2), .input(2)); changed.append(b)
        let data = buffers(20, seed: 1)
        for (k, body) in changed.enumerated() {
            XCTAssertFalse(run(body, sum: false, data, inPlace: false, threads: 1).adam, "change \(k)")
        }
        XCTAssertTrue(run(body, sum: false, data, inPlace: false, threads: 1).adam)
        // A result that keeps another register needs the interpreter's rows.
        let n = 20
        data.g.withUnsafeBufferPointer { g in
            let reads = (0..<7).map { k in FusedProgram.Read(base: g.baseAddress!, offset: 0, strides: [k == 4 || k == 5 ? 0 : 1]) }
            let out = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { out.deallocate() }
            let p = FusedProgram(shape: [n], reads: reads, body: body, results: [(2, out), (6, out), (12, out), (9, out)])
            XCTAssertNil(p.adam)
        }
    }
}

/// A small deterministic generator for test data.
private struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
