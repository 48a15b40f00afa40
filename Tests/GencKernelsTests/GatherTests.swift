import XCTest
import GencKernels

final class GatherTests: XCTestCase {
    func testGatherRowsAndBadIds() {
        var rng = TestRNG(90)
        let (vocab, dim) = (6, 5)
        let table = rng.array(vocab * dim)
        let ids: [Int32] = [3, 0, 5, 3, 6, -2, 1]
        var out = [Float](repeating: .nan, count: ids.count * dim)
        XCTAssertEqual(gatherRows(ids: ids, count: ids.count, table: table, vocab: vocab, dim: dim, out: &out), 2)
        for (m, id) in ids.enumerated() {
            let row = Array(out[(m * dim)..<((m + 1) * dim)])
            if id >= 0 && Int(id) < vocab {
                XCTAssertEqual(row, Array(table[(Int(id) * dim)..<((Int(id) + 1) * dim)]))
            } else {
                XCTAssertEqual(row, [Float](repeating: 0, count: dim))
            }
        }
    }

    /// Scatter-add is the adjoint of gather: <gather(T), dOut> == <T, scatterAdd(dOut)>, repeats included.
    func testScatterAddIsAdjointOfGather() {
        var rng = TestRNG(91)
        let (vocab, dim) = (7, 3)
        let ids: [Int32] = [2, 2, 6, 0, 2, 9, 4]
        let table = rng.array(vocab * dim), dOut = rng.array(ids.count * dim)
        var out = [Float](repeating: 0, count: ids.count * dim)
        _ = gatherRows(ids: ids, count: ids.count, table: table, vocab: vocab, dim: dim, out: &out)
        var dTable = [Float](repeating: 0, count: vocab * dim)
        XCTAssertEqual(scatterAddRows(ids: ids, count: ids.count, dOut: dOut, vocab: vocab, dim: dim,
                                      dTable: &dTable), 1)
        assertClose(dot(out, dOut), dot(table, dTable), rtol: 1e-6)
        XCTAssertEqual(dTable[2 * dim], dOut[0] + dOut[dim] + dOut[4 * dim], accuracy: 1e-6)
        XCTAssertEqual(Array(dTable[(1 * dim)..<(2 * dim)]), [0, 0, 0])
    }

    func testPickColumns() {
        let x: [Float] = [1, 2, 3, 4, 5, 6]
        let ids: [Int32] = [2, 7]
        var out: [Float] = [9, 9]
        XCTAssertEqual(pickColumns(x: x, ids: ids, rows: 2, columns: 3, out: &out), 1)
        XCTAssertEqual(out, [3, 0])
        var dx = [Float](repeating: 9, count: 6)
        XCTAssertEqual(pickColumnsBackward(dy: [5, 6], ids: ids, rows: 2, columns: 3, dx: &dx), 1)
        XCTAssertEqual(dx, [0, 0, 5, 0, 0, 0])
    }
}
