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
}
