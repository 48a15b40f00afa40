import Genc
import GencAutodiff
import GencIR
import GencLower
@testable import GencPasses
import GencTestSupport
import XCTest

final class PassTests: XCTestCase {
    /// x·w twice, the same broadcast twice, two draws of the same shape,
    /// and a node nothing reads.
    func graph() throws -> Graph {
        var g = Graph(name: "t")
        let x = try g.add(.input("x"), type: .f32([4, 3]))
        let w = try g.add(.parameter("w"), type: .f32([3, 2]))
        let a = try g.add(.matmul(transposeA: false, transposeB: false), [x, w])
        let b = try g.add(.matmul(transposeA: false, transposeB: false), [x, w])
        let s = try g.add(.binary(.add), [a, b])
        let r1 = try g.add(.random(.normal(mean: 0, std: 1), stream: 1), type: .f32([4, 2]))
        let r2 = try g.add(.random(.normal(mean: 0, std: 1), stream: 1), type: .f32([4, 2]))
        let n = try g.add(.binary(.add), [r1, r2])
        _ = try g.add(.unary(.exp), [s])  // dead
        let loss = try g.add(.reduce(.sum, axes: [0, 1], keepDims: false), [try g.add(.binary(.multiply), [s, n])])
        g.outputs = [NamedValue("loss", loss)]
        return g
    }

    func testCSEMergesEqualPureNodesButNotDraws() throws {
        var g = try graph()
        XCTAssertTrue(try CommonSubexpressionElimination.run(&g))
        XCTAssertEqual(Verifier.verify(g), [])
        let add = g.nodes[4]
        XCTAssertEqual(add.operands.map(\.id), [2, 2], "the second matmul's reader now reads the first")
        let noise = g.nodes[7]
        XCTAssertEqual(noise.operands.map(\.id), [5, 6], "two draws are two draws, even of the same stream and shape")
        // A second run finds nothing.
        XCTAssertFalse(try CommonSubexpressionElimination.run(&g))
    }

    func testPipelineRemovesWhatCSELeftDead() throws {
        var g = try graph()
        let records = try Pipeline.standard.run(&g, verify: true)
        XCTAssertEqual(records.map(\.pass), ["constant-folding", "simplify", "cse", "merge-matmul-sums", "transpose-shared-b", "dce"])
        XCTAssertEqual(Verifier.verify(g), [])
        XCTAssertEqual(g.nodes.filter { if case .matmul = $0.op { return true } else { return false } }.count, 1)
        XCTAssertEqual(g.nodes.filter { if case .random = $0.op { return true } else { return false } }.count, 2)
        XCTAssertFalse(g.nodes.contains { $0.op == .unary(.exp) }, "the dead exp is gone")
        XCTAssertEqual(records.last?.nodesAfter, g.nodes.count)
    }

    func testPipelineChecksWhatEachPassNeeds() {
        let needsDCE = Pass(name: "after-dce", guarantee: "-", needs: ["dce"]) { _ in false }
        XCTAssertThrowsError(try Pipeline([needsDCE, DeadCodeElimination.pass])) { e in
            XCTAssertTrue("\(e)".contains("pass 'after-dce' needs 'dce' to run before it"), "\(e)")
        }
        XCTAssertNoThrow(try Pipeline([DeadCodeElimination.pass, needsDCE]))
    }

    /// Every reference model's programs, optimized: they verify, keep their
    /// outputs and updates, never grow, and lose no draw (the per-program
    /// pipeline; schedule sharing adds carried updates, ScheduleSharingTests).
    func testReferenceModelsOptimize() throws {
        for f in Repository.files(in: "models", extension: "yaml") {
            let r = FrontEnd.load(path: f, shareSchedule: false)
            let lowered = try XCTUnwrap(r.lowered, f)
            let optimized = try XCTUnwrap(r.optimized, f)
            for (p, q) in zip(lowered.programs, optimized.programs) {
                XCTAssertEqual(p.name, q.name)
                XCTAssertEqual(Verifier.verify(q.graph), [], "\(f) \(q.name)")
                XCTAssertEqual(p.graph.outputs.map(\.name), q.graph.outputs.map(\.name))
                XCTAssertEqual(p.graph.updates.map(\.name), q.graph.updates.map(\.name))
                XCTAssertLessThanOrEqual(q.graph.nodes.count, p.graph.nodes.count)
                func draws(_ g: Graph) -> Int { g.nodes.filter { !$0.op.isPure }.count }
                XCTAssertEqual(draws(q.graph), draws(Pruning.prune(p.graph)), "\(f) \(q.name)")
            }
        }
    }
}
