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

    func testFirstPlannerGivesEachValueItsOwnSlot() throws {
        let plan = try Planner.plan(try graph()) { _, _, _ in .constant(0) }
        XCTAssertEqual(PlanVerifier.verify(plan), [])
        XCTAssertEqual(plan.steps.map(\.op.name), ["matmul", "relu", "reduce_sum", "multiply", "reduce_mean", "add"])
        XCTAssertEqual(plan.persistent.map(\.name), ["w", "constant.5", "rm"])
        XCTAssertEqual(plan.inputs.map(\.name), ["x"])
        XCTAssertEqual(plan.updates.count, 1)
        // The new running mean is written in place: its add is the last reader of the old value.
        XCTAssertEqual(plan.updates.first?.inPlace, true)
        // x 128 B, y 32, relu 32, sum 4, multiply 4, mean 8: each aligned to 64 (the add writes rm).
        XCTAssertEqual(plan.report.arenaBytes, 7 * 64)
        XCTAssertEqual(plan.report.naiveBytes, plan.report.arenaBytes)
        XCTAssertEqual(plan.report.flops, 2 * 4 * 2 * 8)
        XCTAssertLessThan(plan.report.lowerBoundBytes, plan.report.arenaBytes)
    }

    func testVerifierCatchesOverlapAndBadReads() throws {
        var plan = try Planner.plan(try graph()) { _, _, _ in .constant(0) }
        // Put the relu output on top of the matmul output while both are live.
        plan.slots[3].storage = plan.slots[2].storage
        XCTAssertTrue(PlanVerifier.verify(plan).contains { $0.contains("overlap") }, "\(PlanVerifier.verify(plan))")
        var early = try Planner.plan(try graph()) { _, _, _ in .constant(0) }
        early.steps.swapAt(0, 1)
        XCTAssertTrue(PlanVerifier.verify(early).contains { $0.contains("before it is written") })
        var outside = try Planner.plan(try graph()) { _, _, _ in .constant(0) }
        outside.arenaBytes = 64
        XCTAssertTrue(PlanVerifier.verify(outside).contains { $0.contains("outside the arena") })
    }
}
