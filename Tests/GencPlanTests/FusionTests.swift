import GencIR
import GencPasses
@testable import GencPlan
import GencTestSupport
import XCTest

/// Fusion, scheduling and in-place reuse from textual IR, checked on the
/// plan's text (`genc dump --stage plan`) with FileCheck-lite: where each
/// must fire, and where it must not.
final class FusionTests: XCTestCase {
    func plan(_ ir: String, options: PlanOptions = .optimized) throws -> (Plan, String) {
        let g = try IRParser.parse(ir)
        XCTAssertEqual(Verifier.verify(g), [])
        let p = try Planner.plan(g, options: options) { _, _, _ in .constant(0.5) }
        XCTAssertEqual(PlanVerifier.verify(p), [])
        return (p, PlanText.print(p))
    }

    func expect(_ text: String, _ checks: String, file: StaticString = #filePath, line: UInt = #line) {
        let problems = FileCheck.check(text, against: checks)
        XCTAssertEqual(problems, [], "\n\(text)", file: file, line: line)
    }

    func testBiasAndActivationFuseIntoTheMatmulsEpilogue() throws {
        let (p, text) = try plan("""
        graph "dense" {
          %0 = input {name: "x"} : f32[4, 3]
          %1 = parameter {name: "w"} : f32[3, 8]
          %2 = matmul %0, %1 {transpose_a: false, transpose_b: false} : f32[4, 8]
          %3 = parameter {name: "b"} : f32[8]
          %4 = add %2, %3 : f32[4, 8]
          %5 = relu %4 : f32[4, 8]
          output "y" = %5
        }
        """)
        XCTAssertEqual(p.steps.count, 1)
        expect(text, """
        CHECK: 0: %2, %5 = matmul+fused(%0, %1, %3)
        CHECK-NEXT: in0 = %3 at offset 0 strides [0, 1]
        CHECK-NEXT: r0 = add(head, in0)
        CHECK-NEXT: r1 = relu(r0)
        CHECK-NEXT: %5 <- r1
        CHECK-NEXT: # matmul %2, add %4, relu %5
        """)
    }

    func testAValueUsedOutsideItsGroupIsWrittenOnceNotRecomputed() throws {
        // e feeds the loop (e * 2, and its max as a sink) and two matmuls outside it.
        let (p, text) = try plan("""
        graph "shared" {
          %0 = input {name: "x"} : f32[4, 4]
          %1 = exp %0 : f32[4, 4]
          %2 = constant {value: 2.0} : f32[]
          %3 = multiply %1, %2 : f32[4, 4]
          %4 = matmul %1, %1 {transpose_a: false, transpose_b: false} : f32[4, 4]
          %5 = reduce_max %1 {axes: [0, 1], keepdims: false} : f32[]
          %6 = matmul %0, %1 {transpose_a: false, transpose_b: true} : f32[4, 4]
          output "y" = %3
          output "s" = %4
          output "m" = %5
          output "z" = %6
        }
        """)
        expect(text, """
        CHECK: 0: %1, %3, %5 = fused(%0)
        CHECK-COUNT-1: r0 = exp(in0)
        CHECK: r1 = multiply(r0, 2.0)
        CHECK: %1 <- r0
        CHECK: %5 <- reduce_max(r0) over axes [0, 1]
        """)
        XCTAssertEqual(p.steps.filter { $0.name == "matmul" && $0.inputs.contains(1) }.count, 2, "both matmuls read the stored %1\n\(text)")
        XCTAssertEqual(text.components(separatedBy: "= exp(").count - 1, 1, "exp is computed once")
        XCTAssertFalse(p.steps.contains { $0.name == "exp" || $0.name == "reduce_max" }, text)
    }

    /// 1 − y², made only of the forward loop's y but read only by the
    /// matmul's epilogue (whose head reads y, so the two loops cannot
    /// merge), is computed in the epilogue: the forward loop stores y alone.
    func testAFactorOnlyALaterLoopReadsMovesIntoThatLoop() throws {
        let ir = """
        graph "backward-factor" {
          %0 = input {name: "x"} : f32[4, 8]
          %1 = tanh %0 : f32[4, 8]
          %2 = parameter {name: "w"} : f32[8, 8]
          %3 = matmul %1, %2 {transpose_a: false, transpose_b: false} : f32[4, 8]
          %4 = square %1 : f32[4, 8]
          %5 = constant {value: 1.0} : f32[]
          %6 = subtract %5, %4 : f32[4, 8]
          %7 = multiply %3, %6 : f32[4, 8]
          output "y" = %7
        }
        """
        let (p, text) = try plan(ir)
        XCTAssertEqual(p.steps.count, 2, text)
        expect(text, """
        CHECK: 0: %1 = tanh(%0)
        CHECK: 1: %3, %7 = matmul+fused(%1, %2, %1)
        CHECK-NEXT: r0 = square(in0)
        CHECK-NEXT: r1 = subtract(1.0, r0)
        CHECK-NEXT: r2 = multiply(head, r1)
        """)
        // Where another kernel reads the factor too, it stays where it is: moving it would store more, not less.
        let (q, shared) = try plan(ir.replacingOccurrences(of: "output \"y\" = %7", with: "output \"y\" = %7\n  output \"f\" = %6"))
        XCTAssertEqual(q.steps.count, 2, shared)
        expect(shared, """
        CHECK: 0: %1, %6 = fused(%0)
        CHECK: r1 = square(r0)
        """)
    }

    func testNothingFusesAcrossTheReductionItFeeds() throws {
        // softmax by hand: the sum is a sink of exp's loop, but the divide
        // reads the sum of the very exp it divides, so it cannot join that loop.
        let (p, text) = try plan("""
        graph "softmax" {
          %0 = input {name: "x"} : f32[4, 5]
          %1 = exp %0 : f32[4, 5]
          %2 = reduce_sum %1 {axes: [1], keepdims: true} : f32[4, 1]
          %3 = divide %1, %2 : f32[4, 5]
          output "p" = %3
        }
        """)
        XCTAssertEqual(p.steps.map(\.name), ["fused", "divide"])
        expect(text, """
        CHECK: 0: %1, %2 = fused(%0)
        CHECK-NEXT: r0 = exp(in0)
        CHECK-NEXT: %1 <- r0
        CHECK-NEXT: %2 <- reduce_sum(r0) over axes [1]
        CHECK-NOT: divide(r
        CHECK: 1: %3 = divide(%1, %2)
        """)
    }

    /// A reduction over an extent-1 axis has its loop's shape, so its
    /// readers find its group among their candidates: they must still go
    /// elsewhere, whether they would join it (canJoin) or merge another
    /// group into it (canMerge).
    func testAReaderOfASinkNeverJoinsOrMergesIntoItsLoop() throws {
        let ir = """
        graph "sink-readers" {
          %0 = input {name: "x"} : f32[4, 1]
          %1 = exp %0 : f32[4, 1]
          %2 = reduce_sum %1 {axes: [1], keepdims: true} : f32[4, 1]
          %3 = add %1, %2 : f32[4, 1]
          %4 = negate %2 : f32[4, 1]
          %5 = add %4, %1 : f32[4, 1]
          output "a" = %3
          output "b" = %5
        }
        """
        let (p, text) = try plan(ir)
        guard case let .fused(loop) = p.steps[0].kernel else { return XCTFail(text) }
        XCTAssertEqual(loop.reductions.map(\.node), [2], text)
        XCTAssertEqual(p.steps[0].sources.map(\.node), [1, 2], "nothing that reads the sum is in its loop\n\(text)")
        // %3 reads the sum: its own kernel. %5 joins %4's loop, which
        // reads the sum too, so that loop must not merge with the sum's.
        XCTAssertEqual(p.steps.map { $0.sources.map(\.node) }, [[1, 2], [3], [4, 5]], text)
        expect(text, """
        CHECK: 0: %1, %2 = fused(%0)
        CHECK: 1: %3 = add(%1, %2)
        CHECK: 2: %5 = fused(%2, %1)
        CHECK-NEXT: r0 = negate(in0)
        CHECK-NEXT: r1 = add(r0, in1)
        """)
    }

    /// Cross-entropy: log-softmax is the head of a loop that makes the
    /// one-hot from the ids, multiplies and sums the classes; the one-hot
    /// is never stored.
    func testCrossEntropyNeverStoresItsOneHot() throws {
        let (p, text) = try plan("""
        graph "xent" {
          %0 = input {name: "logits"} : f32[3, 4, 5]
          %1 = input {name: "ids"} : i32[3, 4]
          %2 = log_softmax %0 {axis: 2} : f32[3, 4, 5]
          %3 = one_hot %1 {depth: 5} : f32[3, 4, 5]
          %4 = multiply %3, %2 : f32[3, 4, 5]
          %5 = reduce_sum %4 {axes: [2], keepdims: false} : f32[3, 4]
          %6 = negate %5 : f32[3, 4]
          %7 = reduce_mean %6 {axes: [0, 1], keepdims: false} : f32[]
          output "loss" = %7
        }
        """)
        expect(text, """
        CHECK: 0: %2, %5 = log_softmax+fused(%0, %1)
        CHECK-NEXT: in0 = %1 at offset 0 strides [4, 1, 0]
        CHECK-NEXT: r0 = one_hot[5](in0)
        CHECK-NEXT: r1 = multiply(r0, head)
        CHECK-NEXT: %5 <- reduce_sum(r1) over axes [2]
        CHECK: 1: %7 = fused(%5)
        CHECK-NEXT: r0 = negate(in0)
        CHECK-NEXT: %7 <- reduce_mean(r0) over axes [0, 1]
        """)
        XCTAssertEqual(p.steps.count, 2, text)
        XCTAssertEqual(p.slots[3].storage, .fused, "the one-hot is never stored")
        XCTAssertEqual(p.slots[4].storage, .fused)
    }

    func testSoftmaxIsTheHeadOfItsConsumersLoop() throws {
        let (p, text) = try plan("""
        graph "scaled" {
          %0 = input {name: "x"} : f32[2, 6]
          %1 = softmax %0 {axis: 1} : f32[2, 6]
          %2 = constant {value: 3.0} : f32[]
          %3 = multiply %1, %2 : f32[2, 6]
          %4 = reduce_max %3 {axes: [0], keepdims: false} : f32[6]
          output "y" = %3
          output "m" = %4
        }
        """)
        XCTAssertEqual(p.steps.count, 1, text)
        expect(text, """
        CHECK: 0: %1, %3, %4 = softmax+fused(%0)
        CHECK-NEXT: r0 = multiply(head, 3.0)
        CHECK-NEXT: %3 <- r0
        CHECK-NEXT: %4 <- reduce_max(r0) over axes [0]
        """)
    }

    func testARandomDrawIsNeverDuplicated() throws {
        let (p, text) = try plan("""
        graph "noise" {
          %0 = input {name: "x"} : f32[4, 4]
          %1 = random_normal {mean: 0.0, std: 1.0, stream: 3} : f32[4, 4]
          %2 = add %0, %1 : f32[4, 4]
          %3 = multiply %1, %2 : f32[4, 4]
          %4 = reduce_sum %1 {axes: [0, 1], keepdims: false} : f32[]
          %5 = matmul %1, %0 {transpose_a: false, transpose_b: false} : f32[4, 4]
          output "y" = %3
          output "s" = %4
          output "z" = %5
        }
        """)
        expect(text, """
        CHECK: 0: %1, %3, %4 = fused(%0)
        CHECK-NEXT: r0 = random_normal[stream 3]()
        CHECK-NOT: random_normal
        CHECK: %1 <- r0
        CHECK: %4 <- reduce_sum(r0)
        CHECK: matmul(%1, %0)
        """)
        XCTAssertEqual(text.components(separatedBy: "= random_normal").count - 1, 1, "one draw, in the loop")
        XCTAssertEqual(p.steps.count, 2)
    }

    func testSlicesAreStridedReadsOfTheFusedLoop() throws {
        let (p, text) = try plan("""
        graph "gates" {
          %0 = input {name: "z"} : f32[2, 8]
          %1 = slice %0 {start: [0, 0], end: [2, 4], step: [1, 1]} : f32[2, 4]
          %2 = slice %0 {start: [0, 4], end: [2, 8], step: [1, 1]} : f32[2, 4]
          %3 = sigmoid %1 : f32[2, 4]
          %4 = tanh %2 : f32[2, 4]
          %5 = multiply %3, %4 : f32[2, 4]
          output "h" = %5
        }
        """)
        XCTAssertEqual(p.steps.count, 1, "\(text)")
        expect(text, """
        CHECK: = fused(%0, %0)
        CHECK: at offset 0 strides [8, 1]
        CHECK: at offset 4 strides [8, 1]
        CHECK: multiply(
        """)
    }

    func testInPlaceOnlyWhereTheInputDies() throws {
        // %2 (a reduction) dies at %3: %3 may take its bytes. %5 reads %4, which is still read by %6: no.
        let ir = """
        graph "inplace" {
          %0 = input {name: "x"} : f32[4, 4]
          %1 = parameter {name: "w"} : f32[4, 4]
          %2 = matmul %0, %1 {transpose_a: false, transpose_b: false} : f32[4, 4]
          %3 = reduce_max %2 {axes: [0], keepdims: true} : f32[1, 4]
          %4 = reduce_sum %2 {axes: [0], keepdims: true} : f32[1, 4]
          %5 = exp %4 : f32[1, 4]
          %6 = reduce_sum %4 {axes: [0, 1], keepdims: false} : f32[]
          %7 = add %5, %3 : f32[1, 4]
          output "y" = %7
          output "s" = %6
        }
        """
        let (p, _) = try plan(ir)
        func at(_ s: Int) -> Int? { if case let .arena(o) = p.slots[s].storage { return o } else { return nil } }
        XCTAssertNotEqual(at(5), at(4), "exp's input is still read by the sum after it")
        let (q, _) = try plan(ir, options: PlanOptions(fusion: false, views: true, inPlace: true, schedule: false))
        func atQ(_ s: Int) -> Int? { if case let .arena(o) = q.slots[s].storage { return o } else { return nil } }
        XCTAssertNotEqual(atQ(5), atQ(4), "exp's input is still read by the sum after it")
        XCTAssertNotEqual(atQ(3), atQ(2), "a reduction never writes over its operand")
        XCTAssertEqual(atQ(7), atQ(5), "the add writes over exp's result, which dies at it")
    }

    /// A slice of a time step, reshaped and split into gates, is read in
    /// place by the gate loop; the same slice feeding a matmul is a copy.
    func testSlicesOfAProjectionAreStridedViewsUnlessAMatmulReadsThem() throws {
        let (p, text) = try plan("""
        graph "lstm-step" {
          %0 = input {name: "z"} : f32[2, 3, 8]
          %1 = slice %0 {start: [0, 1, 0], end: [2, 2, 8], step: [1, 1, 1]} : f32[2, 1, 8]
          %2 = reshape %1 {shape: [2, 8]} : f32[2, 8]
          %3 = slice %2 {start: [0, 0], end: [2, 4], step: [1, 1]} : f32[2, 4]
          %4 = slice %2 {start: [0, 4], end: [2, 8], step: [1, 1]} : f32[2, 4]
          %5 = sigmoid %3 : f32[2, 4]
          %6 = tanh %4 : f32[2, 4]
          %7 = multiply %5, %6 : f32[2, 4]
          %8 = slice %0 {start: [0, 2, 0], end: [2, 3, 8], step: [1, 1, 1]} : f32[2, 1, 8]
          %9 = reshape %8 {shape: [2, 8]} : f32[2, 8]
          %10 = parameter {name: "w"} : f32[8, 4]
          %11 = matmul %9, %10 {transpose_a: false, transpose_b: false} : f32[2, 4]
          output "h" = %7
          output "y" = %11
        }
        """)
        expect(text, """
        CHECK: %7 = fused(%0, %0)
        CHECK-NEXT: in0 = %0 at offset 8 strides [24, 1]
        CHECK-NEXT: in1 = %0 at offset 12 strides [24, 1]
        CHECK-NEXT: r0 = sigmoid(in0)
        CHECK-NEXT: r1 = tanh(in1)
        CHECK-NEXT: r2 = multiply(r0, r1)
        """)
        XCTAssertEqual(p.steps.map(\.name).sorted(), ["fused", "matmul", "slice"], text)
        XCTAssertEqual(p.slots[1].storage, .fused, "the first slice is never written")
        XCTAssertEqual(p.slots[2].storage, .fused, "nor its reshape")
    }

    /// NumPy's no-copy reshape: runs of axes that merge or split must be
    /// unbroken in memory; axes of extent 1 are free.
    func testReshapedStrides() {
        XCTAssertEqual(Planner.reshapedStrides([24, 8, 1], from: [2, 1, 8], to: [2, 8]), [24, 1])
        XCTAssertEqual(Planner.reshapedStrides([24, 1], from: [2, 8], to: [2, 2, 4]), [24, 4, 1])
        XCTAssertEqual(Planner.reshapedStrides([8, 1], from: [3, 8], to: [24]), [1])
        XCTAssertEqual(Planner.reshapedStrides([2, 24, 16], from: [4, 2, 2], to: [2, 2, 2, 2]), [4, 2, 24, 16])
        XCTAssertEqual(Planner.reshapedStrides([0, 1], from: [4, 3], to: [4, 1, 3]), [0, 0, 1])
        XCTAssertNil(Planner.reshapedStrides([24, 1], from: [2, 8], to: [16]), "rows 24 apart are not one run")
        XCTAssertNil(Planner.reshapedStrides([2, 24, 16], from: [4, 2, 2], to: [16]))
        XCTAssertNil(Planner.reshapedStrides([1], from: [0], to: [0, 2]))
    }
}
