import GencIR
@testable import GencPlan
import XCTest

final class PlanTests: XCTestCase {
    func graph() throws -> Graph {
        var g = Graph(name: "p")
        let x = try g.add(.input("x"), type: .f32([4, 8]))
        let w = try g.add(.parameter("w"), type: .f32([8, 2]))
        let y = try g.add(.matmul(transposeA: false, transposeB: false), [x, w])
        let a = try g.add(.unary(.relu), [y])
        let s = try g.add(.reduce(.sum, axes: [0, 1], keepDims: false), [a])
        let c = try g.add(.constant(2), type: .f32([]))
        let loss = try g.add(.binary(.multiply), [s, c])
        let rm = try g.add(.state("rm"), type: .f32([2]))
        let upd = try g.add(.binary(.add), [rm, try g.add(.reduce(.mean, axes: [0], keepDims: false), [a])])
        g.outputs = [NamedValue("loss", loss)]
        g.updates = [NamedValue("rm", upd)]
        return g
    }

    func testPlannerSharesBytesBetweenValuesNotLiveTogether() throws {
        let plan = try Planner.plan(try graph(), options: .unoptimized) { _, _, _ in .constant(0) }
        XCTAssertEqual(PlanVerifier.verify(plan), [])
        XCTAssertEqual(plan.steps.map { $0.op?.name ?? "" }, ["matmul", "relu", "reduce_sum", "multiply", "reduce_mean", "add"])
        XCTAssertEqual(plan.persistent.map(\.name), ["w", "constant.5", "rm"])
        XCTAssertEqual(plan.inputs.map(\.name), ["x"])
        XCTAssertEqual(plan.updates.count, 1)
        // The new running mean is written in place: its add is the last reader of the old value.
        XCTAssertEqual(plan.updates.first?.inPlace, true)
        // Naive: x 128 B, y 32, relu 32, sum 4, multiply 4, mean 8, each aligned to 64.
        XCTAssertEqual(plan.report.naiveBytes, 7 * 64)
        // x stays live (an input); y dies at the relu, so the sum and then the
        // mean reuse its 64 bytes: x 0..128, y 128, relu 192, sum 128, loss 256, mean 128.
        func offset(_ slot: Int) -> Int? { if case let .arena(o) = plan.slots[slot].storage { return o } else { return nil } }
        let out = plan.steps.map { $0.outputs[0] }
        XCTAssertEqual(out.prefix(5).map(offset), [128, 192, 128, 256, 128])
        XCTAssertEqual(plan.report.arenaBytes, 5 * 64)
        XCTAssertEqual(plan.report.flops, 2 * 4 * 2 * 8)
        XCTAssertLessThanOrEqual(plan.report.lowerBoundBytes, plan.report.arenaBytes)
    }

    func testArenaAssignmentNeverOverlapsLiveValuesAndReusesFreedOnes() {
        typealias R = ArenaAssignment.Request
        // a and b overlap in time; c comes after a died, d after both.
        let r = [R(slot: 0, first: 0, last: 2, bytes: 128), R(slot: 1, first: 1, last: 3, bytes: 64),
                 R(slot: 2, first: 3, last: 4, bytes: 64), R(slot: 3, first: 4, last: 5, bytes: 192)]
        let (o, bytes) = ArenaAssignment.assign(r)
        XCTAssertEqual(o[0], 0)
        XCTAssertEqual(o[1], 128)
        XCTAssertEqual(o[2], 0, "c takes a's freed block (best fit), not the top")
        // At step 4, b (128..192) is free again and merges with a's rest (64..128): d needs 192, the top is 192.
        XCTAssertEqual(bytes, max(o[3]! + 192, 192))
        // Random intervals: no two live values share a byte, and the size is at most the naive sum.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var rs: [R] = []
            for k in 0..<60 {
                let f = Int.random(in: 0..<40, using: &rng)
                rs.append(R(slot: k, first: f, last: f + Int.random(in: 0..<15, using: &rng), bytes: 64 * Int.random(in: 0...8, using: &rng)))
            }
            let (offs, total) = ArenaAssignment.assign(rs)
            XCTAssertLessThanOrEqual(total, rs.reduce(0) { $0 + $1.bytes })
            for a in rs { for b in rs where a.slot < b.slot && a.first <= b.last && b.first <= a.last && a.bytes > 0 && b.bytes > 0 {
                let (x, y) = (offs[a.slot]!, offs[b.slot]!)
                XCTAssertTrue(x + a.bytes <= y || y + b.bytes <= x, "\(a) at \(x) overlaps \(b) at \(y)")
            } }
            for a in rs { XCTAssertLessThanOrEqual(offs[a.slot]! + a.bytes, total) }
        }
    }

    func testVerifierCatchesOverlapAndBadReads() throws {
        var plan = try Planner.plan(try graph(), options: .unoptimized) { _, _, _ in .constant(0) }
        // Put the relu output on top of the matmul output while both are live.
        plan.slots[3].storage = plan.slots[2].storage
        XCTAssertTrue(PlanVerifier.verify(plan).contains { $0.contains("overlap") }, "\(PlanVerifier.verify(plan))")
        var early = try Planner.plan(try graph(), options: .unoptimized) { _, _, _ in .constant(0) }
        early.steps.swapAt(0, 1)
        XCTAssertTrue(PlanVerifier.verify(early).contains { $0.contains("before it is written") })
        var outside = try Planner.plan(try graph(), options: .unoptimized) { _, _, _ in .constant(0) }
        outside.arenaBytes = 64
        XCTAssertTrue(PlanVerifier.verify(outside).contains { $0.contains("outside the arena") })
    }

    func offset(_ p: Plan, _ slot: Int) -> Int? { if case let .arena(o) = p.slots[slot].storage { return o } else { return nil } }

    /// q = exp x; r = negate q (q dies there); m = matmul r, w.
    func chain() throws -> Graph {
        var g = Graph(name: "c")
        let x = try g.add(.input("x"), type: .f32([4, 4]))
        let w = try g.add(.parameter("w"), type: .f32([4, 4]))
        let q = try g.add(.unary(.exp), [x])
        let r = try g.add(.unary(.negate), [q])
        let m = try g.add(.matmul(transposeA: false, transposeB: false), [r, w])
        let s = try g.add(.reduce(.sum, axes: [0, 1], keepDims: false), [m])
        g.outputs = [NamedValue("s", s)]
        return g
    }

    func testVerifierAcceptsOnlyInPlaceWritesTheKernelAllows() throws {
        let plain = PlanOptions(fusion: false, views: false, inPlace: false, schedule: false)
        let base = try Planner.plan(try chain(), options: plain) { _, _, _ in .constant(0) }
        XCTAssertEqual(PlanVerifier.verify(base), [])
        // Legal: negate over exp's result, which dies at the negate.
        var legal = base
        legal.slots[2].storage = .arena(offset: base.arenaBytes)
        legal.slots[3].storage = .arena(offset: base.arenaBytes)
        legal.arenaBytes += 64
        XCTAssertEqual(PlanVerifier.verify(legal), [], "an elementwise op may overwrite an operand that dies at it")
        // Illegal: the matmul over its own operand (r dies at the matmul, but a GEMM reads all of it while writing).
        var gemm = base
        gemm.slots[3].storage = .arena(offset: base.arenaBytes)
        gemm.slots[4].storage = .arena(offset: base.arenaBytes)
        gemm.arenaBytes += 64
        XCTAssertTrue(PlanVerifier.verify(gemm).contains { $0.contains("overlap") }, "\(PlanVerifier.verify(gemm))")
        // Illegal: negate over exp's result while exp's result is still read later.
        var g = try chain()
        let later = try g.add(.binary(.add), [Value(2), Value(5)])
        g.outputs.append(NamedValue("later", later))
        var live = try Planner.plan(g, options: plain) { _, _, _ in .constant(0) }
        XCTAssertEqual(PlanVerifier.verify(live), [])
        live.slots[2].storage = .arena(offset: live.arenaBytes)
        live.slots[3].storage = .arena(offset: live.arenaBytes)
        live.arenaBytes += 64
        XCTAssertTrue(PlanVerifier.verify(live).contains { $0.contains("overlap") }, "an in-place write whose input is still live is caught")
        // The optimizing planner makes the legal one itself, and never the others.
        let fast = try Planner.plan(try chain(), options: PlanOptions(fusion: false, views: true, inPlace: true, schedule: true)) { _, _, _ in .constant(0) }
        XCTAssertEqual(PlanVerifier.verify(fast), [])
        XCTAssertEqual(offset(fast, 3), offset(fast, 2), "negate writes over exp's result")
        XCTAssertNotEqual(offset(fast, 4), offset(fast, 3), "the matmul never writes over its operand")
    }

    func testVerifierCatchesAWrongAlias() throws {
        // q = exp x; v = reshape q (a view); t = negate x; s = sum v (v keeps q alive until here).
        var g = Graph(name: "v")
        let x = try g.add(.input("x"), type: .f32([4, 4]))
        let q = try g.add(.unary(.exp), [x])
        let v = try g.add(.reshape([16]), [q])
        let t = try g.add(.unary(.negate), [x])
        let s = try g.add(.reduce(.sum, axes: [0], keepDims: false), [v])
        g.outputs = [NamedValue("s", s), NamedValue("t", t)]
        let views = PlanOptions(fusion: false, views: true, inPlace: false, schedule: false)
        let plan = try Planner.plan(g, options: views) { _, _, _ in .constant(0) }
        XCTAssertEqual(PlanVerifier.verify(plan), [])
        XCTAssertEqual(plan.slots[2].storage, .view(of: 1))
        XCTAssertEqual(plan.steps.count, 3, "the reshape is no kernel")
        // t placed on q's bytes: q is dead by its own reads, but alive through its view.
        var overwritten = plan
        overwritten.slots[3].storage = overwritten.slots[1].storage
        XCTAssertTrue(PlanVerifier.verify(overwritten).contains { $0.contains("overlap") }, "\(PlanVerifier.verify(overwritten))")
        // A view of a slot with other bytes, of a view, and of a value never stored.
        var small = plan
        small.slots[2].storage = .view(of: 4)
        XCTAssertTrue(PlanVerifier.verify(small).contains { $0.contains("other bytes") })
        var chained = plan
        chained.slots[3].storage = .view(of: 2)
        XCTAssertTrue(PlanVerifier.verify(chained).contains { $0.contains("not a stored buffer") })
        var register = plan
        register.slots[1].storage = .fused
        XCTAssertFalse(PlanVerifier.verify(register).isEmpty)
    }

    func testVerifierCatchesFusedLoopsThatReadOutsideTheirInputs() throws {
        var g = Graph(name: "f")
        let x = try g.add(.input("x"), type: .f32([4, 4]))
        let b = try g.add(.parameter("b"), type: .f32([4]))
        let y = try g.add(.binary(.add), [x, b])
        let z = try g.add(.unary(.relu), [y])
        g.outputs = [NamedValue("z", z)]
        let plan = try Planner.plan(g) { _, _, _ in .constant(0) }
        XCTAssertEqual(PlanVerifier.verify(plan), [])
        XCTAssertEqual(plan.steps.count, 1, "add and relu are one loop")
        guard case var .fused(f) = plan.steps[0].kernel else { return XCTFail("not fused") }
        XCTAssertEqual(f.reads.map(\.strides), [[4, 1], [0, 1]], "x contiguous, b broadcast over rows")
        f.reads[1].strides = [1, 1]
        var bad = plan
        bad.steps[0].kernel = .fused(f)
        XCTAssertTrue(PlanVerifier.verify(bad).contains { $0.contains("reaches outside") }, "\(PlanVerifier.verify(bad))")
    }
}
