import GencSupport
@testable import GencIR
import XCTest

final class TextAndVerifierTests: XCTestCase {
    /// A small graph that uses most op families.
    func sampleGraph() throws -> Graph {
        var g = Graph(name: "test.train.loss")
        let loc = IRLocation(path: "models/t.yaml", line: 3, column: 9)
        let x = try g.add(.input("x"), type: .f32([8, 1, 6, 6]), at: loc)
        let ids = try g.add(.input("ids"), type: .i32([8]))
        let w = try g.add(.parameter("n.conv0.weight"), type: .f32([4, 1, 3, 3]), at: loc)
        let c = try g.add(.conv(ConvAttributes(stride: [1, 1], padBefore: [1, 1], padAfter: [1, 1])), [x, w], at: loc)
        let p = try g.add(.pool(PoolAttributes(kind: .max, kernel: [2, 2], stride: [2, 2], padding: [0, 0])), [c])
        let f = try g.add(.reshape([8, 36]), [p])
        let act = try g.add(.unary(.leakyRelu(slope: 0.2)), [f])
        let w2 = try g.add(.parameter("n.dense0.weight"), type: .f32([36, 10]))
        let logits = try g.add(.matmul(transposeA: false, transposeB: false), [act, w2])
        let noise = try g.add(.random(.normal(mean: 0, std: 0.1), stream: 1), type: .f32([8, 10]))
        let noisy = try g.add(.binary(.add), [logits, noise])
        let logp = try g.add(.logSoftmax(axis: 1), [noisy])
        let picked = try g.add(.binary(.multiply), [try g.add(.oneHot(depth: 10), [ids]), logp])
        let s = try g.add(.reduce(.sum, axes: [1], keepDims: false), [picked])
        let loss = try g.add(.unary(.negate), [try g.add(.reduce(.mean, axes: [0], keepDims: false), [s])])
        let rm = try g.add(.state("n.bn.running_mean"), type: .f32([10]))
        let upd = try g.add(.binary(.multiply), [rm, try g.add(.constant(0.9), type: .f32([]))])
        g.outputs.append(NamedValue("loss", loss))
        g.updates.append(NamedValue("n.bn.running_mean", upd))
        return g
    }

    func testPrintParseRoundTrip() throws {
        let g = try sampleGraph()
        XCTAssertEqual(Verifier.verify(g), [])
        let text = IRText.print(g)
        let back = try IRParser.parse(text)
        XCTAssertEqual(back, g)
        XCTAssertEqual(IRText.print(back), text)
        XCTAssertEqual(Verifier.verify(back), [])
    }

    func testPrintedFormIsStable() throws {
        let text = IRText.print(try sampleGraph())
        XCTAssertTrue(text.hasPrefix("graph \"test.train.loss\" {\n  %0 = input {name: \"x\"} : f32[8, 1, 6, 6] loc(\"models/t.yaml\":3:9)\n"), text)
        XCTAssertTrue(text.contains("%6 = leaky_relu %5 {slope: 0.2} : f32[8, 36]\n"), text)
        XCTAssertTrue(text.contains("  output \"loss\" = %"), text)
        XCTAssertTrue(text.contains("  update \"n.bn.running_mean\" = %"), text)
    }

    func testEveryOpRoundTripsThroughText() throws {
        for op in SampleOps.all {
            var g = Graph(name: "one")
            g.appendUnchecked(Node(op: op, operands: [], type: .f32([2]), location: nil))
            XCTAssertEqual(try IRParser.parse(IRText.print(g)).nodes, g.nodes, op.name)
        }
    }

    func testLeavesAreSharedAndConstantsKeyedByType() throws {
        var g = Graph(name: "g")
        let a = try g.add(.parameter("w"), type: .f32([2]))
        XCTAssertEqual(try g.add(.parameter("w"), type: .f32([2])), a)
        XCTAssertThrowsError(try g.add(.parameter("w"), type: .f32([3])))
        let c0 = try g.add(.constant(1), type: .f32([]))
        let c1 = try g.add(.constant(1), type: .f32([2]))
        XCTAssertNotEqual(c0, c1)
        let r0 = try g.add(.random(.normal(mean: 0, std: 1), stream: 1), type: .f32([2]))
        XCTAssertNotEqual(try g.add(.random(.normal(mean: 0, std: 1), stream: 1), type: .f32([2])), r0, "random ops are never merged")
    }

    func testVerifierFindsBrokenGraphs() throws {
        var g = Graph(name: "bad")
        g.appendUnchecked(Node(op: .input("x"), operands: [], type: .f32([2, 3]), location: nil))
        g.appendUnchecked(Node(op: .unary(.exp), operands: [Value(0)], type: .f32([3, 2]), location: nil))
        g.appendUnchecked(Node(op: .binary(.add), operands: [Value(0), Value(5)], type: .f32([2, 3]), location: nil))
        g.appendUnchecked(Node(op: .input("x"), operands: [], type: .f32([2, 3]), location: nil))
        g.appendUnchecked(Node(op: .matmul(transposeA: false, transposeB: false), operands: [Value(0)], type: .f32([2, 3]), location: nil))
        g.outputs = [NamedValue("loss", Value(9)), NamedValue("loss", Value(0))]
        g.updates = [NamedValue("nothing", Value(0))]
        let problems = Verifier.verify(g).joined(separator: "\n")
        XCTAssertTrue(problems.contains("%1: exp has type f32[3, 2], but its operands give f32[2, 3]"), problems)
        XCTAssertTrue(problems.contains("%2: operand %5 is not defined before use"), problems)
        XCTAssertTrue(problems.contains("%3: input x is already defined as %0"), problems)
        XCTAssertTrue(problems.contains("%4: matmul has 1 operands, expected 2"), problems)
        XCTAssertTrue(problems.contains("output 'loss' refers to undefined %9"), problems)
        XCTAssertTrue(problems.contains("output 'loss' is defined twice"), problems)
        XCTAssertTrue(problems.contains("update of 'nothing': no state, parameter or carried value of that name is in the graph"), problems)
    }

    func testParserErrorsNameTheLine() {
        XCTAssertThrowsError(try IRParser.parse("graph \"g\" {\n  %0 = input {name: \"x\"} : f32[2]\n  %1 = frobnicate %0 : f32[2]\n}\n")) { e in
            XCTAssertEqual("\(e)", "line 3: unknown op 'frobnicate'")
        }
        XCTAssertThrowsError(try IRParser.parse("graph \"g\" {\n  %3 = input {name: \"x\"} : f32[2]\n}\n"))
    }

    func testDOTAndJSON() throws {
        let g = try sampleGraph()
        let dot = IRDot.print(g)
        XCTAssertTrue(dot.hasPrefix("digraph \"test.train.loss\" {"))
        XCTAssertTrue(dot.contains("n0 -> n3 [label=\"0\"];"), dot)
        XCTAssertTrue(dot.contains("output loss"))
        let json = IRJSON.value(g)
        guard case let .array(nodes)? = json["nodes"] else { return XCTFail() }
        XCTAssertEqual(nodes.count, g.nodes.count)
        XCTAssertEqual(nodes[3]["op"], .string("conv2d"))
        XCTAssertEqual(nodes[3]["operands"], .array([.int(0), .int(2)]))
    }
}
