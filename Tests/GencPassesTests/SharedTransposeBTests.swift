import GencIR
@testable import GencPasses
import XCTest

/// `transpose-shared-b`: which matmuls read one transposed copy, and which
/// keep their transposed read. The numbers are tested on the runtime
/// (OptimizedPlanTests).
final class SharedTransposeBTests: XCTestCase {
    let nt = Op.matmul(transposeA: false, transposeB: true)

    /// An LSTM's backward at batch 80: dgates_t · W_hhᵀ at every step, and
    /// a forward read of W_hh that is not transposed.
    func testReadersOfOneTransposedBReadOneCopy() throws {
        let g = try lstmBackward(batch: 80)
        var h = g
        XCTAssertEqual(try SharedTransposeB.run(&h), 1)
        try checkCopy(h, rows: 80)
    }

    /// At batch 2 the runtime packs W_hh for the three skinny readers, from
    /// its transposed layout: no copy. One skinny reader alone is not packed,
    /// so it still counts toward a copy with another reader.
    func testSkinnyReadersThatTheRuntimePacksKeepTheirRead() throws {
        var g = try lstmBackward(batch: 2)
        let before = g
        XCTAssertEqual(try SharedTransposeB.run(&g), 0)
        XCTAssertEqual(g, before)
        XCTAssertLessThanOrEqual(SharedTransposeB.packedRows, 64)

        var mixed = Graph(name: "t")
        let w = try mixed.add(.parameter("w"), type: .f32([8, 1024]))
        let a = try mixed.add(.input("a"), type: .f32([2, 1024])), b = try mixed.add(.input("b"), type: .f32([80, 1024]))
        let x = try mixed.add(nt, [a, w]), y = try mixed.add(nt, [b, w])
        mixed.outputs = [NamedValue("x", x), NamedValue("y", y)]
        XCTAssertEqual(try SharedTransposeB.run(&mixed), 1, "one skinny reader is not packed: it shares the copy")
    }

    /// h [batch, 8] · W_hh, then three dgates · W_hhᵀ each multiplied by W_hh and summed.
    func lstmBackward(batch: Int) throws -> Graph {
        var g = Graph(name: "t")
        let w = try g.add(.parameter("w_hh"), type: .f32([8, 1024]))
        let h = try g.add(.input("h"), type: .f32([batch, 8]))
        let forward = try g.add(.matmul(transposeA: false, transposeB: false), [h, w])
        let ds = try (0..<3).map { try g.add(.input("d\($0)"), type: .f32([batch, 1024])) }
        var sum = forward
        for d in ds {
            let dh = try g.add(nt, [d, w])
            sum = try g.add(.binary(.add), [sum, try g.add(.matmul(transposeA: false, transposeB: false), [dh, w])])
        }
        g.outputs = [NamedValue("s", sum)]
        return g
    }

    func checkCopy(_ g: Graph, rows: Int) throws {
        var g = g
        XCTAssertEqual(Verifier.verify(g), [])
        let transposes = g.values.filter { if case .transpose = g.node($0).op { return true } else { return false } }
        XCTAssertEqual(transposes.count, 1)
        let t = transposes[0]
        XCTAssertEqual(g.node(t).op, .transpose([1, 0]))
        XCTAssertEqual(g.node(t).operands, [Value(0)])
        XCTAssertEqual(g.type(t), .f32([1024, 8]))
        let readers = g.nodes.filter { $0.operands.contains(t) }
        XCTAssertEqual(readers.count, 3)
        for r in readers {
            XCTAssertEqual(r.op, .matmul(transposeA: false, transposeB: false))
            XCTAssertEqual(r.type, .f32([rows, 8]))
        }
        XCTAssertFalse(g.nodes.contains { $0.op == nt }, "no transposed read of w_hh is left")
        XCTAssertEqual(g.nodes.filter { $0.operands.contains(Value(0)) }.count, 5, "the forward, the copy and the three products of dh with w_hh")
        XCTAssertEqual(try SharedTransposeB.run(&g), 0)
    }

    /// One transposed reader, or a short K, keeps the transposed read.
    func testAOnceReadOrShortKStays() throws {
        var g = Graph(name: "t")
        let once = try g.add(.parameter("once"), type: .f32([4, 2048]))
        let short = try g.add(.parameter("short"), type: .f32([4, 512]))
        let a = try g.add(.input("a"), type: .f32([2, 2048])), b = try g.add(.input("b"), type: .f32([2, 512]))
        let x = try g.add(nt, [a, once])
        let y = try g.add(.binary(.add), [try g.add(nt, [b, short]), try g.add(nt, [b, short])])
        g.outputs = [NamedValue("x", x), NamedValue("y", y)]
        let before = g
        XCTAssertEqual(try SharedTransposeB.run(&g), 0)
        XCTAssertEqual(g, before)
    }
}
