import GencIR
@testable import GencPasses
import XCTest

/// `merge-matmul-sums`: which sums it merges, along which axes, and which
/// it must leave alone. That the merged GEMM computes the same numbers is
/// tested on the runtime (OptimizedPlanTests).
final class MatmulSumMergingTests: XCTestCase {
    let mm = Op.matmul(transposeA: true, transposeB: false)

    func isMatmul(_ n: Node) -> Bool {
        if case .matmul = n.op { return true }
        return false
    }

    /// Runs the pass and dce, verifying after each; returns the merge count.
    func merge(_ g: inout Graph) throws -> Int {
        let count = try MatmulSumMerging.run(&g)
        XCTAssertEqual(Verifier.verify(g), [])
        _ = try DeadCodeElimination.pass.run(&g)
        XCTAssertEqual(Verifier.verify(g), [])
        return count
    }

    /// An LSTM's weight gradient: Σ_t h_tᵀ·d_t with K = 2 per step, plus a
    /// term that is no product (a decay term, say), in one chain of adds.
    func testAStepSumBecomesOneGEMMOverConcatenatedOperands() throws {
        var g = Graph(name: "t")
        let hs = try (0..<4).map { try g.add(.input("h\($0)"), type: .f32([2, 6])) }
        let ds = try (0..<4).map { try g.add(.input("d\($0)"), type: .f32([2, 8])) }
        let w = try g.add(.parameter("w"), type: .f32([6, 8]))
        var sum = try g.add(mm, [hs[0], ds[0]])
        for t in 1..<4 {
            sum = try g.add(.binary(.add), [sum, try g.add(mm, [hs[t], ds[t]])])
            if t == 2 { sum = try g.add(.binary(.add), [sum, w]) }
        }
        g.outputs = [NamedValue("dw", sum)]
        XCTAssertEqual(try merge(&g), 1)

        let matmuls = g.nodes.filter(isMatmul)
        XCTAssertEqual(matmuls.count, 1)
        XCTAssertEqual(matmuls[0].op, mm)
        let (a, b) = (g.node(matmuls[0].operands[0]), g.node(matmuls[0].operands[1]))
        XCTAssertEqual(a.op, .concat(axis: 0), "a transposed A is [K, M]: K is axis 0")
        XCTAssertEqual(b.op, .concat(axis: 0))
        XCTAssertEqual(a.type, .f32([8, 6]))
        XCTAssertEqual(b.type, .f32([8, 8]))
        func name(_ v: Value) -> String {
            if case let .input(n) = g.node(v).op { return n }
            return "?"
        }
        XCTAssertEqual(a.operands.map(name), ["h0", "h1", "h2", "h3"], "in the order of the terms")
        XCTAssertEqual(b.operands.map(name), ["d0", "d1", "d2", "d3"])
        let root = g.node(g.outputs[0].value)
        XCTAssertEqual(root.op, .binary(.add), "the product, then the other term")
        XCTAssertTrue(isMatmul(g.node(root.operands[0])))
        XCTAssertEqual(g.node(root.operands[1]).op, .parameter("w"))
        XCTAssertEqual(try MatmulSumMerging.run(&g), 0, "nothing is left to merge")
    }

    /// Untransposed A is [M, K] and transposed B is [N, K]: both concatenate
    /// on axis 1.
    func testTheAxesFollowTheTransposes() throws {
        var g = Graph(name: "t")
        let op = Op.matmul(transposeA: false, transposeB: true)
        let a0 = try g.add(.input("a0"), type: .f32([16, 1])), a1 = try g.add(.input("a1"), type: .f32([16, 3]))
        let b0 = try g.add(.input("b0"), type: .f32([12, 1])), b1 = try g.add(.input("b1"), type: .f32([12, 3]))
        let s = try g.add(.binary(.add), [try g.add(op, [a0, b0]), try g.add(op, [a1, b1])])
        g.outputs = [NamedValue("s", s)]
        XCTAssertEqual(try merge(&g), 1)
        let m = g.node(g.outputs[0].value)
        XCTAssertEqual(m.op, op)
        XCTAssertEqual(g.node(m.operands[0]).op, .concat(axis: 1))
        XCTAssertEqual(g.node(m.operands[0]).type, .f32([16, 4]))
        XCTAssertEqual(g.node(m.operands[1]).op, .concat(axis: 1))
        XCTAssertEqual(g.node(m.operands[1]).type, .f32([12, 4]))
    }

    /// Products of other transposes merge in their own groups; a product
    /// read elsewhere, or a term twice, stays as it is.
    func testOnlySingleUseProductsOfOneKindMerge() throws {
        var g = Graph(name: "t")
        let xs = try (0..<6).map { try g.add(.input("x\($0)"), type: .f32([2, 8])) }
        let other = Op.matmul(transposeA: true, transposeB: true)
        let ys = try (0..<2).map { try g.add(.input("y\($0)"), type: .f32([8, 2])) }
        let p = try (0..<4).map { try g.add(mm, [xs[$0], xs[$0 + 1]]) }
        let q = try (0..<2).map { try g.add(other, [xs[$0], ys[$0]]) }
        var s = p[0]
        for t in [p[1], q[0], p[2], p[3], q[1], p[2]] { s = try g.add(.binary(.add), [s, t]) }
        g.outputs = [NamedValue("s", s), NamedValue("p3", p[3])]
        XCTAssertEqual(try merge(&g), 1)
        let products = g.nodes.filter(isMatmul)
        // p0 + p1 (p2 is a term twice, p3 an output too) and q0 + q1: two
        // merged products, and p2 and p3 as they were.
        XCTAssertEqual(products.count, 4)
        XCTAssertEqual(products.filter { g.node($0.operands[0]).op == .concat(axis: 0) }.count, 2)
    }

    /// An inner add that something else reads is a term of the outer sum
    /// and a sum of its own.
    func testAnInnerSumReadElsewhereIsItsOwnSum() throws {
        var g = Graph(name: "t")
        let xs = try (0..<4).map { try g.add(.input("x\($0)"), type: .f32([1, 8])) }
        let p = try (0..<4).map { try g.add(mm, [xs[$0], xs[($0 + 1) % 4]]) }
        let inner = try g.add(.binary(.add), [p[0], p[1]])
        let outer = try g.add(.binary(.add), [try g.add(.binary(.add), [inner, p[2]]), p[3]])
        g.outputs = [NamedValue("inner", inner), NamedValue("outer", outer)]
        XCTAssertEqual(try merge(&g), 2)
        let o = g.node(g.outputs[1].value)
        XCTAssertEqual(o.op, .binary(.add))
        XCTAssertEqual(o.operands[1], g.outputs[0].value, "the merged p2 + p3, then the inner sum")
        XCTAssertEqual(g.nodes.filter(isMatmul).count, 2)
    }

    /// Where the concats would copy more than the separate results write
    /// (long K, a small result), the sum stays; so does a broadcasting add.
    func testASumThatWouldCopyMoreStays() throws {
        var g = Graph(name: "t")
        let op = Op.matmul(transposeA: false, transposeB: false)
        let a = try (0..<2).map { try g.add(.input("a\($0)"), type: .f32([2, 512])) }
        let b = try (0..<2).map { try g.add(.input("b\($0)"), type: .f32([512, 2])) }
        let s = try g.add(.binary(.add), [try g.add(op, [a[0], b[0]]), try g.add(op, [a[1], b[1]])])
        let c = try g.add(.input("c"), type: .f32([1, 8]))
        let r = try g.add(.binary(.add), [try g.add(mm, [c, c]), try g.add(.input("r"), type: .f32([8]))])
        g.outputs = [NamedValue("s", s), NamedValue("r", r)]
        let before = g
        XCTAssertEqual(try MatmulSumMerging.run(&g), 0)
        XCTAssertEqual(g, before)
    }

    /// A chain as long as a long sequence's loop: no recursion to overflow.
    func testALongChainMerges() throws {
        var g = Graph(name: "t")
        let x = try g.add(.input("x"), type: .f32([1, 4]))
        var sum = try g.add(mm, [x, x])
        for _ in 1..<20000 { sum = try g.add(.binary(.add), [sum, try g.add(mm, [x, x])]) }
        g.outputs = [NamedValue("s", sum)]
        XCTAssertEqual(try MatmulSumMerging.run(&g), 1)
        _ = try DeadCodeElimination.pass.run(&g)
        XCTAssertEqual(g.nodes.count, 4, "x, two concats of 20000 operands, one matmul")
        XCTAssertEqual(g.nodes[1].type, .f32([20000, 4]))
    }
}
