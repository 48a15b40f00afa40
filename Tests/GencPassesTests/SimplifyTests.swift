import Genc
import GencAutodiff
import GencIR
import GencLower
@testable import GencPasses
import GencTestSupport
import XCTest

/// Pass tests in the FileCheck style: textual IR in, one pass, the printed
/// IR checked against CHECK directives.
final class SimplifyTests: XCTestCase {
    // MARK: - Helpers

    func ir(_ body: String) -> String { "graph \"t\" {\n\(body)\n}\n" }

    /// Parses `text`, checks it verifies, runs `pass`, checks the result
    /// verifies, and prints it.
    func run(_ pass: Pass, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var g = try IRParser.parse(text)
        XCTAssertEqual(Verifier.verify(g), [], "the input", file: file, line: line)
        _ = try pass.run(&g)
        XCTAssertEqual(Verifier.verify(g), [], "after \(pass.name):\n\(IRText.print(g))", file: file, line: line)
        return IRText.print(g)
    }

    func check(_ output: String, _ checks: String, file: StaticString = #filePath, line: UInt = #line) {
        let problems = FileCheck.check(output, against: checks)
        XCTAssertTrue(problems.isEmpty, problems.joined(separator: "\n") + "\n--- output:\n" + output, file: file, line: line)
    }

    // MARK: - FileCheck itself

    let sample = """
    graph "t" {
      %0 = input {name: "x"} : f32[4, 3]
      %1 = parameter {name: "w"} : f32[3, 2]
      %2 = matmul %0, %1 {transpose_a: false, transpose_b: false} : f32[4, 2]
      %3 = add %2, %2 : f32[4, 2]
      %4 = exp %3 : f32[4, 2]
      output "y" = %4
    }
    """

    func testFileCheckPassesInOrderChecksCapturesAndRegexes() {
        check(sample, """
        CHECK: graph "t"
        CHECK: %[[X:[0-9]+]] = matmul
        CHECK-NEXT: add %[[X]], %[[X]] : f32[4, 2]
        CHECK-NOT: matmul
        CHECK: %[[Y:[0-9]+]] = exp
        CHECK: output "y" = %[[Y]]
        """)
        check(sample, """
        // comments around a directive are fine
        # CHECK: {{%[0-9]+}} = input {name: "x"} : f32[{{[0-9]+}}, 3]
        CHECK-COUNT-2: %2
        CHECK-NOT: matmul
        CHECK: }
        """)
        check(sample, "CHECK: add %[[A:[0-9]+]], %[[A]]")  // a capture used in its own directive
    }

    func testFileCheckReportsTheDirectiveLineAndTheClosestLine() {
        let order = FileCheck.check(sample, against: "CHECK: exp\nCHECK: matmul")
        XCTAssertEqual(order.count, 1, "\(order)")
        XCTAssertTrue(order[0].contains("check line 2"), "\(order)")
        XCTAssertTrue(order[0].contains("after output line 6"), "\(order)")
        XCTAssertTrue(order[0].contains("closest: output line"), "\(order)")

        let typo = FileCheck.check(sample, against: "CHECK: %3 = add %2, %2 : f32[4, 3]")
        XCTAssertTrue(typo.first?.contains("closest: output line 5: `  %3 = add %2, %2 : f32[4, 2]`") == true, "\(typo)")

        let next = FileCheck.check(sample, against: "CHECK: matmul\nCHECK-NEXT: exp")
        XCTAssertTrue(next.first?.contains("check line 2: CHECK-NEXT: exp does not match the line after output line 4; output line 5 is `  %3 = add %2, %2 : f32[4, 2]`") == true, "\(next)")

        let not = FileCheck.check(sample, against: "CHECK: input\nCHECK-NOT: add\nCHECK: exp")
        XCTAssertEqual(not, ["check line 2: CHECK-NOT: add matches output line 5: `  %3 = add %2, %2 : f32[4, 2]`"])
        let trailingNot = FileCheck.check(sample, against: "CHECK: add\nCHECK-NOT: output")
        XCTAssertEqual(trailingNot.count, 1, "a CHECK-NOT after the last match runs to the end")

        let count = FileCheck.check(sample, against: "CHECK-COUNT-3: matmul")
        XCTAssertTrue(count.first?.contains("match 2 of 3") == true, "\(count)")

        let captured = FileCheck.check(sample, against: "CHECK: %[[X:[0-9]+]] = exp\nCHECK: add %[[X]]")
        XCTAssertTrue(captured.first?.contains("check line 2") == true, "the capture is 4, and no later line adds %4: \(captured)")

        XCTAssertTrue(FileCheck.check(sample, against: "CHECK: add %[[Z]]").first?.contains("[[Z]] is used before it is defined") == true)
        XCTAssertEqual(FileCheck.check(sample, against: "no directives here"), ["no CHECK directives in the check text"])
        XCTAssertTrue(FileCheck.check(sample, against: "CHECK-NEXT: graph").first?.contains("no previous match") == true)
        XCTAssertTrue(FileCheck.check(sample, against: "CHECK: {{[0-9]+").first?.contains("check line 1: unterminated {{") == true)
        XCTAssertTrue(FileCheck.check(sample, against: "CHECK: {{(}}").first?.contains("bad regex") == true)
        XCTAssertTrue(FileCheck.check(sample, against: "CHECK:").first?.contains("empty pattern") == true)
    }

    // MARK: - constant-folding

    func testConstantFoldingFoldsRepeatedValues() throws {
        let out = try run(ConstantFolding.pass, ir("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 2.0} : f32[]
          %2 = broadcast %1 {shape: [4, 3]} : f32[4, 3]
          %3 = exp %2 : f32[4, 3]
          %4 = add %0, %3 : f32[4, 3]
          %5 = reduce_sum %2 {axes: [0], keepdims: false} : f32[3]
          %6 = reduce_mean %2 {axes: [0, 1], keepdims: true} : f32[1, 1]
          %7 = reduce_max %2 {axes: [1], keepdims: false} : f32[4]
          %8 = constant {value: 3.0} : f32[]
          %9 = power %1, %8 : f32[]
          %10 = greater %8, %1 : f32[]
          %11 = greater %1, %8 : f32[]
          %12 = constant {value: -2.0} : f32[]
          %13 = leaky_relu %12 {slope: 0.1} : f32[]
          %14 = reshape %2 {shape: [12]} : f32[12]
          %15 = transpose %2 {perm: [1, 0]} : f32[3, 4]
          %16 = matmul %15, %2 {transpose_a: false, transpose_b: false} : f32[3, 3]
          %17 = softmax %2 {axis: 1} : f32[4, 3]
          output "y" = %4
          output "sum" = %5
          output "mean" = %6
          output "max" = %7
          output "pow" = %9
          output "gt" = %10
          output "le" = %11
          output "leaky" = %13
          output "flat" = %14
          output "mm" = %16
          output "sm" = %17
        """))
        check(out, """
        CHECK: %0 = input
        CHECK-NEXT: %1 = constant {value: 2.0} : f32[]
        CHECK-NEXT: %2 = constant {value: 2.0} : f32[4, 3]
        CHECK-NEXT: %3 = constant {value: 7.38905609893065} : f32[4, 3]
        CHECK-NEXT: %4 = add %0, %3 : f32[4, 3]
        CHECK-NEXT: %5 = constant {value: 8.0} : f32[3]
        CHECK-NEXT: %6 = constant {value: 2.0} : f32[1, 1]
        CHECK-NEXT: %7 = constant {value: 2.0} : f32[4]
        CHECK-NEXT: %8 = constant {value: 3.0} : f32[]
        CHECK-NEXT: %9 = constant {value: 8.0} : f32[]
        CHECK-NEXT: %10 = constant {value: 1.0} : f32[]
        CHECK-NEXT: %11 = constant {value: 0.0} : f32[]
        CHECK-NEXT: %12 = constant {value: -2.0} : f32[]
        CHECK-NEXT: %13 = constant {value: -0.2{{[0-9]*}}} : f32[]
        CHECK-NEXT: %14 = constant {value: 2.0} : f32[12]
        CHECK-NEXT: %15 = constant {value: 2.0} : f32[3, 4]
        CHECK-NEXT: %16 = constant {value: 16.0} : f32[3, 3]
        CHECK-NEXT: %17 = constant {value: 0.3333333333333333} : f32[4, 3]
        CHECK: output "y" = %4
        CHECK-NEXT: output "sum" = %5
        CHECK-NOT: = %2
        """)
    }

    func testConstantFoldingSharesConstantsAndKeepsWhatItCannotFold() throws {
        let out = try run(ConstantFolding.pass, ir("""
          %0 = constant {value: 1.0} : f32[]
          %1 = constant {value: 2.0} : f32[]
          %2 = add %0, %0 : f32[]
          %3 = constant {value: 0.0} : f32[]
          %4 = log %3 : f32[]
          %5 = constant {value: 100.0} : f32[]
          %6 = exp %5 : f32[]
          %7 = random_normal {mean: 0.0, std: 1.0, stream: 1} : f32[]
          %8 = add %7, %0 : f32[]
          %9 = input {name: "x"} : f32[]
          %10 = multiply %9, %1 : f32[]
          %11 = divide %0, %3 : f32[]
          output "two" = %2
          output "log0" = %4
          output "exp100" = %6
          output "noise" = %8
          output "x2" = %10
          output "inf" = %11
        """))
        check(out, """
        CHECK: %1 = constant {value: 2.0} : f32[]
        CHECK-NOT: add %0, %0
        CHECK: %3 = log %2 : f32[]
        CHECK: %5 = exp %4 : f32[]
        CHECK-NEXT: %6 = random_normal
        CHECK-NEXT: %7 = add %6, %0
        CHECK: multiply
        CHECK-NEXT: %10 = divide %0, %2
        CHECK: output "two" = %1
        CHECK-NEXT: output "log0" = %3
        CHECK-NEXT: output "exp100" = %5
        """)
        // A second run finds nothing.
        var g = try IRParser.parse(out)
        XCTAssertFalse(try ConstantFolding.run(&g))
    }

    /// The evaluator against the runtime's definitions (GencKernels' Unary.swift and Binary.swift).
    func testConstantFoldingEvaluatesAsTheRuntime() {
        XCTAssertEqual(ConstantFolding.unary(.leakyRelu(slope: 0.01), -3), -0.03, accuracy: 1e-15)
        XCTAssertEqual(ConstantFolding.unary(.leakyRelu(slope: 0.01), 3), 3)
        XCTAssertEqual(ConstantFolding.unary(.relu, -1), 0)
        XCTAssertEqual(ConstantFolding.unary(.softplus, 0), log(2), accuracy: 1e-15)
        XCTAssertEqual(ConstantFolding.unary(.softplus, 50), 50, accuracy: 1e-12)
        XCTAssertEqual(ConstantFolding.unary(.gelu, 1), 0.841_344_746_068_543, accuracy: 1e-12)
        XCTAssertEqual(ConstantFolding.unary(.geluDerivative, 0), 0.5, accuracy: 1e-15)
        XCTAssertEqual(ConstantFolding.unary(.sigmoid, 0), 0.5)
        XCTAssertEqual(ConstantFolding.unary(.rsqrt, 4), 0.5)
        XCTAssertEqual(ConstantFolding.binary(.greater, 2, 1), 1)
        XCTAssertEqual(ConstantFolding.binary(.greater, 1, 1), 0)
        XCTAssertEqual(ConstantFolding.binary(.power, 2, 0.5), 2.0.squareRoot())
        XCTAssertEqual(ConstantFolding.binary(.maximum, 1, 2), 2)
        XCTAssertEqual(ConstantFolding.binary(.minimum, 1, 2), 1)
        // The mean and max of nothing are not finite: not folded.
        XCTAssertNil(ConstantFolding.value(.reduce(.mean, axes: [0], keepDims: false), [1], operands: [.f32([0, 3])]))
        XCTAssertEqual(ConstantFolding.value(.reduce(.sum, axes: [0], keepDims: false), [1], operands: [.f32([0, 3])]), 0)
        XCTAssertNil(ConstantFolding.value(.concat(axis: 0), [1, 2], operands: [.f32([1]), .f32([1])]))
        XCTAssertEqual(ConstantFolding.value(.logSoftmax(axis: -1), [5], operands: [.f32([2, 4])]), -log(4))
    }

    // MARK: - simplify: every rule of the table, where it fires

    /// Per rule: IR it rewrites, and the checks after that rule alone.
    let ruleExamples: [String: (ir: String, checks: String)] = [
        "multiply-one": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 1.0} : f32[]
          %2 = multiply %0, %1 : f32[4, 3]
          %3 = exp %2 : f32[4, 3]
          output "y" = %3
        """, """
        CHECK: %1 = constant
        CHECK-NEXT: %2 = exp %0 : f32[4, 3]
        CHECK-NEXT: output "y" = %2
        """),
        "one-multiply": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 1.0} : f32[1, 1]
          %2 = multiply %1, %0 : f32[4, 3]
          output "y" = %2
        """, """
        CHECK-NOT: multiply
        CHECK: output "y" = %0
        """),
        "multiply-minus-one": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: -1.0} : f32[]
          %2 = multiply %0, %1 : f32[4, 3]
          %3 = exp %2 : f32[4, 3]
          output "y" = %3
        """, """
        CHECK: %2 = negate %0 : f32[4, 3]
        CHECK-NEXT: %3 = exp %2
        """),
        "minus-one-multiply": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: -1.0} : f32[]
          %2 = multiply %1, %0 : f32[4, 3]
          output "y" = %2
        """, """
        CHECK: %2 = negate %0 : f32[4, 3]
        CHECK-NEXT: output "y" = %2
        """),
        "add-zero": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 0.0} : f32[3]
          %2 = add %0, %1 : f32[4, 3]
          %3 = exp %2 : f32[4, 3]
          output "y" = %3
        """, """
        CHECK-NOT: add
        CHECK: %2 = exp %0
        """),
        "zero-add": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 0.0} : f32[]
          %2 = add %1, %0 : f32[4, 3]
          output "y" = %2
        """, """
        CHECK-NOT: add
        CHECK: output "y" = %0
        """),
        "subtract-zero": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 0.0} : f32[]
          %2 = subtract %0, %1 : f32[4, 3]
          output "y" = %2
        """, """
        CHECK-NOT: subtract
        CHECK: output "y" = %0
        """),
        "zero-subtract": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 0.0} : f32[]
          %2 = subtract %1, %0 : f32[4, 3]
          output "y" = %2
        """, """
        CHECK: %2 = negate %0 : f32[4, 3]
        CHECK-NEXT: output "y" = %2
        """),
        "divide-one": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 1.0} : f32[]
          %2 = divide %0, %1 : f32[4, 3]
          output "y" = %2
        """, """
        CHECK-NOT: divide
        CHECK: output "y" = %0
        """),
        "power-one": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 1.0} : f32[]
          %2 = power %0, %1 : f32[4, 3]
          output "y" = %2
        """, """
        CHECK-NOT: power
        CHECK: output "y" = %0
        """),
        "power-two": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 2.0} : f32[]
          %2 = power %0, %1 : f32[4, 3]
          output "y" = %2
        """, """
        CHECK-NOT: power
        CHECK: %2 = square %0 : f32[4, 3]
        CHECK-NEXT: output "y" = %2
        """),
        "negate-negate": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = negate %0 : f32[4, 3]
          %2 = negate %1 : f32[4, 3]
          %3 = exp %2 : f32[4, 3]
          output "y" = %3
        """, """
        CHECK: %1 = negate %0
        CHECK-NEXT: %2 = exp %0
        """),
        "reshape-reshape": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = reshape %0 {shape: [12]} : f32[12]
          %2 = reshape %1 {shape: [2, 6]} : f32[2, 6]
          output "y" = %2
        """, """
        CHECK: %2 = reshape %0 {shape: [2, 6]} : f32[2, 6]
        CHECK-NEXT: output "y" = %2
        """),
        "reshape-identity": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = reshape %0 {shape: [4, 3]} : f32[4, 3]
          output "y" = %1
        """, """
        CHECK-NOT: reshape
        CHECK: output "y" = %0
        """),
        "transpose-transpose": ("""
          %0 = input {name: "x"} : f32[2, 3, 4]
          %1 = transpose %0 {perm: [1, 2, 0]} : f32[3, 4, 2]
          %2 = transpose %1 {perm: [1, 0, 2]} : f32[4, 3, 2]
          %3 = transpose %1 {perm: [2, 0, 1]} : f32[2, 3, 4]
          output "y" = %2
          output "back" = %3
        """, """
        CHECK: %1 = transpose %0 {perm: [1, 2, 0]}
        CHECK-NEXT: %2 = transpose %0 {perm: [2, 1, 0]} : f32[4, 3, 2]
        CHECK-NEXT: output "y" = %2
        CHECK-NEXT: output "back" = %0
        """),
        "transpose-identity": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = transpose %0 {perm: [0, 1]} : f32[4, 3]
          output "y" = %1
        """, """
        CHECK-NOT: transpose
        CHECK: output "y" = %0
        """),
        "broadcast-identity": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = broadcast %0 {shape: [4, 3]} : f32[4, 3]
          output "y" = %1
        """, """
        CHECK-NOT: broadcast
        CHECK: output "y" = %0
        """),
        "broadcast-constant": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 2.0} : f32[]
          %2 = broadcast %1 {shape: [4, 3]} : f32[4, 3]
          %3 = add %0, %2 : f32[4, 3]
          output "y" = %3
        """, """
        CHECK: %1 = constant {value: 2.0} : f32[]
        CHECK-NEXT: %2 = constant {value: 2.0} : f32[4, 3]
        CHECK-NEXT: %3 = add %0, %2
        """),
        "reduce-no-axes": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = reduce_sum %0 {axes: [], keepdims: false} : f32[4, 3]
          output "y" = %1
        """, """
        CHECK-NOT: reduce
        CHECK: output "y" = %0
        """),
        "slice-whole": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = slice %0 {start: [0, 0], end: [4, 3], step: [1, 1]} : f32[4, 3]
          output "y" = %1
        """, """
        CHECK-NOT: slice
        CHECK: output "y" = %0
        """),
        "unslice-whole": ("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = unslice %0 {start: [0, 0], end: [4, 3], step: [1, 1], shape: [4, 3]} : f32[4, 3]
          output "y" = %1
        """, """
        CHECK-NOT: unslice
        CHECK: output "y" = %0
        """),
        // Four gate gradients, in backward's order, accumulated one by one.
        "unslice-add": ("""
          %0 = input {name: "i"} : f32[2, 3]
          %1 = input {name: "f"} : f32[2, 3]
          %2 = input {name: "g"} : f32[2, 3]
          %3 = unslice %2 {start: [0, 6], end: [2, 9], step: [1, 1], shape: [2, 9]} : f32[2, 9]
          %4 = unslice %1 {start: [0, 3], end: [2, 6], step: [1, 1], shape: [2, 9]} : f32[2, 9]
          %5 = add %3, %4 : f32[2, 9]
          %6 = unslice %0 {start: [0, 0], end: [2, 3], step: [1, 1], shape: [2, 9]} : f32[2, 9]
          %7 = add %5, %6 : f32[2, 9]
          output "y" = %7
        """, """
        CHECK: %[[FG:[0-9]+]] = concat %1, %2 {axis: 1} : f32[2, 6]
        CHECK: %[[U:[0-9]+]] = unslice %[[FG]] {start: [0, 3], end: [2, 9], step: [1, 1], shape: [2, 9]} : f32[2, 9]
        CHECK: %[[ALL:[0-9]+]] = concat %0, %1, %2 {axis: 1} : f32[2, 9]
        CHECK-NEXT: %[[Y:[0-9]+]] = unslice %[[ALL]] {start: [0, 0], end: [2, 9], step: [1, 1], shape: [2, 9]} : f32[2, 9]
        CHECK-NOT: add
        CHECK: output "y" = %[[Y]]
        """),
    ]

    func testEveryRuleHasAnExampleAndFiresOnIt() throws {
        let names = SimplificationRule.table.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "rule names are unique")
        XCTAssertEqual(Set(ruleExamples.keys), Set(names))
        for rule in SimplificationRule.table {
            let (text, checks) = try XCTUnwrap(ruleExamples[rule.name])
            var g = try IRParser.parse(ir(text))
            XCTAssertEqual(Verifier.verify(g), [], rule.name)
            XCTAssertGreaterThan(try AlgebraicSimplification.run(&g, rules: [rule]), 0, "\(rule.name) (\(rule.identity)) fires")
            XCTAssertEqual(Verifier.verify(g), [], rule.name)
            let problems = FileCheck.check(IRText.print(g), against: checks)
            XCTAssertTrue(problems.isEmpty, "\(rule.name): " + problems.joined(separator: "\n") + "\n" + IRText.print(g))
            // The whole table reaches a fixed point that verifies.
            var h = try IRParser.parse(ir(text))
            _ = try AlgebraicSimplification.pass.run(&h)
            XCTAssertEqual(Verifier.verify(h), [], rule.name)
            XCTAssertFalse(try AlgebraicSimplification.pass.run(&h), "\(rule.name): nothing is left to rewrite")
        }
    }

    // MARK: - simplify: where rules must not fire

    func testRulesDoNotChangeATypeByDroppingABroadcast() throws {
        let out = try run(AlgebraicSimplification.pass, ir("""
          %0 = input {name: "x"} : f32[3]
          %1 = constant {value: 1.0} : f32[4, 3]
          %2 = multiply %0, %1 : f32[4, 3]
          %3 = multiply %1, %0 : f32[4, 3]
          %4 = constant {value: 0.0} : f32[2, 1]
          %5 = add %0, %4 : f32[2, 3]
          %6 = subtract %0, %4 : f32[2, 3]
          %7 = constant {value: 2.0} : f32[4, 3]
          %8 = power %0, %7 : f32[4, 3]
          %9 = constant {value: -1.0} : f32[4, 1]
          %10 = multiply %0, %9 : f32[4, 3]
          %11 = divide %0, %1 : f32[4, 3]
          output "a" = %2
          output "b" = %3
          output "c" = %5
          output "d" = %6
          output "e" = %8
          output "f" = %10
          output "g" = %11
        """))
        check(out, """
        CHECK: %2 = multiply %0, %1 : f32[4, 3]
        CHECK: %3 = multiply %1, %0 : f32[4, 3]
        CHECK: %5 = add %0, %4 : f32[2, 3]
        CHECK: %6 = subtract %0, %4 : f32[2, 3]
        CHECK: %8 = power %0, %7 : f32[4, 3]
        CHECK-NOT: square
        CHECK: %10 = multiply %0, %9 : f32[4, 3]
        CHECK-NOT: negate
        CHECK: %11 = divide %0, %1 : f32[4, 3]
        """)
    }

    func testRulesDoNotFireOnOtherConstantsOrShapes() throws {
        let out = try run(AlgebraicSimplification.pass, ir("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = constant {value: 0.0} : f32[]
          %2 = multiply %0, %1 : f32[4, 3]
          %3 = constant {value: 2.0} : f32[]
          %4 = multiply %0, %3 : f32[4, 3]
          %5 = add %0, %3 : f32[4, 3]
          %6 = reshape %0 {shape: [12]} : f32[12]
          %7 = transpose %0 {perm: [1, 0]} : f32[3, 4]
          %8 = broadcast %0 {shape: [2, 4, 3]} : f32[2, 4, 3]
          %9 = slice %0 {start: [1, 0], end: [4, 3], step: [1, 1]} : f32[3, 3]
          %10 = reduce_sum %0 {axes: [0], keepdims: false} : f32[3]
          %11 = exp %0 : f32[4, 3]
          %12 = negate %11 : f32[4, 3]
          %13 = input {name: "one"} : f32[]
          %14 = multiply %0, %13 : f32[4, 3]
          output "times0" = %2
          output "times2" = %4
          output "plus2" = %5
          output "flat" = %6
          output "t" = %7
          output "b" = %8
          output "s" = %9
          output "r" = %10
          output "n" = %12
          output "m" = %14
        """))
        check(out, """
        CHECK: %2 = multiply %0, %1 : f32[4, 3]
        CHECK: %4 = multiply %0, %3
        CHECK: %5 = add %0, %3
        CHECK: %6 = reshape %0
        CHECK: %7 = transpose %0
        CHECK: %8 = broadcast %0
        CHECK: %9 = slice %0
        CHECK: %10 = reduce_sum %0
        CHECK: %12 = negate %11
        CHECK: %14 = multiply %0, %13
        CHECK: output "times0" = %2
        """)
        var g = try IRParser.parse(out)
        XCTAssertFalse(try AlgebraicSimplification.pass.run(&g), "x * 0, x * 2, x + 2 and the rest stay")
    }

    /// Pieces that overlap, leave a gap, are strided, or differ on two axes
    /// are not one concat.
    func testUnslicesThatAreNotOneConcatStay() throws {
        let out = try run(AlgebraicSimplification.pass, ir("""
          %0 = input {name: "a"} : f32[2, 3]
          %1 = input {name: "b"} : f32[2, 3]
          %2 = unslice %0 {start: [0, 0], end: [2, 3], step: [1, 1], shape: [2, 9]} : f32[2, 9]
          %3 = unslice %1 {start: [0, 2], end: [2, 5], step: [1, 1], shape: [2, 9]} : f32[2, 9]
          %4 = add %2, %3 : f32[2, 9]
          %5 = unslice %1 {start: [0, 4], end: [2, 7], step: [1, 1], shape: [2, 9]} : f32[2, 9]
          %6 = add %2, %5 : f32[2, 9]
          %7 = unslice %1 {start: [0, 3], end: [2, 9], step: [1, 2], shape: [2, 9]} : f32[2, 9]
          %8 = add %2, %7 : f32[2, 9]
          %9 = unslice %1 {start: [2, 3], end: [4, 6], step: [1, 1], shape: [4, 9]} : f32[4, 9]
          %10 = unslice %0 {start: [0, 0], end: [2, 3], step: [1, 1], shape: [4, 9]} : f32[4, 9]
          %11 = add %9, %10 : f32[4, 9]
          %12 = subtract %2, %5 : f32[2, 9]
          output "overlap" = %4
          output "gap" = %6
          output "strided" = %8
          output "diagonal" = %11
          output "difference" = %12
        """))
        check(out, "CHECK-NOT: concat")
        check(out, "CHECK-COUNT-4: = add")
    }

    /// A reshape of a reshape is rewritten, but the inner one stays for its other reader.
    func testReshapeOfAValueUsedElsewhereKeepsIt() throws {
        let out = try run(AlgebraicSimplification.pass, ir("""
          %0 = input {name: "x"} : f32[4, 3]
          %1 = reshape %0 {shape: [12]} : f32[12]
          %2 = reshape %1 {shape: [2, 6]} : f32[2, 6]
          %3 = exp %1 : f32[12]
          output "y" = %2
          output "flat" = %3
        """))
        check(out, """
        CHECK: %[[FLAT:[0-9]+]] = reshape %0 {shape: [12]} : f32[12]
        CHECK-NEXT: %[[Y:[0-9]+]] = reshape %0 {shape: [2, 6]} : f32[2, 6]
        CHECK-NEXT: %[[E:[0-9]+]] = exp %[[FLAT]] : f32[12]
        CHECK-NEXT: output "y" = %[[Y]]
        CHECK-NEXT: output "flat" = %[[E]]
        """)
    }

    /// A draw is never duplicated or removed by a rule: rewrites around it
    /// read the same node, and x * 0 is not a rule.
    func testRandomDrawsAreKeptOnce() throws {
        let text = ir("""
          %0 = random_normal {mean: 0.0, std: 1.0, stream: 3} : f32[4, 3]
          %1 = constant {value: 1.0} : f32[]
          %2 = multiply %0, %1 : f32[4, 3]
          %3 = constant {value: 0.0} : f32[]
          %4 = multiply %0, %3 : f32[4, 3]
          %5 = negate %0 : f32[4, 3]
          %6 = negate %5 : f32[4, 3]
          %7 = add %2, %6 : f32[4, 3]
          %8 = random_normal {mean: 0.0, std: 1.0, stream: 3} : f32[4, 3]
          %9 = multiply %1, %8 : f32[4, 3]
          %10 = subtract %7, %9 : f32[4, 3]
          output "a" = %10
          output "zero" = %4
        """)
        let out = try run(AlgebraicSimplification.pass, text)
        check(out, """
        CHECK: %[[R:[0-9]+]] = random_normal {mean: 0.0, std: 1.0, stream: 3}
        CHECK: multiply %[[R]], %{{[0-9]+}}
        CHECK: add %[[R]], %[[R]]
        CHECK: %[[S:[0-9]+]] = random_normal
        CHECK-NOT: random_normal
        CHECK: subtract %{{[0-9]+}}, %[[S]]
        """)
        let optimized = try run(Pass(name: "standard", guarantee: "-") { g in
            try Pipeline.standard.run(&g, verify: true).contains { $0.changed }
        }, text)
        check(optimized, """
        CHECK-COUNT-2: random_normal
        CHECK-NOT: random_normal
        CHECK: output "zero"
        """)
    }

    func testOutputsAndUpdatesAreRedirected() throws {
        let out = try run(AlgebraicSimplification.pass, ir("""
          %0 = state {name: "s"} : f32[3]
          %1 = input {name: "x"} : f32[3]
          %2 = add %0, %1 : f32[3]
          %3 = constant {value: 1.0} : f32[]
          %4 = multiply %2, %3 : f32[3]
          %5 = reshape %4 {shape: [3]} : f32[3]
          output "y" = %5
          update "s" = %4
        """))
        check(out, """
        CHECK: %[[A:[0-9]+]] = add %0, %1
        CHECK-NOT: multiply
        CHECK-NOT: reshape
        CHECK: output "y" = %[[A]]
        CHECK-NEXT: update "s" = %[[A]]
        """)
    }

    /// The driver refuses a rewrite that changes the node's type, whatever the rule says.
    func testTheDriverRefusesATypeChangingRewrite() throws {
        let sloppy = SimplificationRule("sloppy", "x * y → x") { n, _ in
            if case .binary(.multiply) = n.op { return .value(n.operands[0]) }
            return nil
        }
        var g = try IRParser.parse(ir("""
          %0 = input {name: "x"} : f32[3]
          %1 = input {name: "y"} : f32[4, 3]
          %2 = multiply %0, %1 : f32[4, 3]
          output "y" = %2
        """))
        XCTAssertEqual(try AlgebraicSimplification.run(&g, rules: [sloppy]), 0)
        XCTAssertEqual(g.outputs.first?.value, Value(2))
    }

    // MARK: - cse and dce

    func testCSEMergesEqualNodesButNotTwoDraws() throws {
        let out = try run(CommonSubexpressionElimination.pass, ir("""
          %0 = input {name: "x"} : f32[3]
          %1 = broadcast %0 {shape: [4, 3]} : f32[4, 3]
          %2 = broadcast %0 {shape: [4, 3]} : f32[4, 3]
          %3 = add %1, %2 : f32[4, 3]
          %4 = random_uniform {low: 0.0, high: 1.0, stream: 2} : f32[4, 3]
          %5 = random_uniform {low: 0.0, high: 1.0, stream: 2} : f32[4, 3]
          %6 = subtract %4, %5 : f32[4, 3]
          %7 = add %3, %6 : f32[4, 3]
          output "y" = %7
        """))
        check(out, """
        CHECK: %[[B:[0-9]+]] = broadcast %0
        CHECK: add %[[B]], %[[B]]
        CHECK-COUNT-2: random_uniform {low: 0.0, high: 1.0, stream: 2}
        CHECK-NEXT: subtract %4, %5
        """)
    }

    func testDCERemovesWhatNoOutputOrUpdateNeeds() throws {
        let out = try run(DeadCodeElimination.pass, ir("""
          %0 = input {name: "x"} : f32[3]
          %1 = exp %0 : f32[3]
          %2 = state {name: "s"} : f32[3]
          %3 = add %0, %0 : f32[3]
          %4 = random_normal {mean: 0.0, std: 1.0, stream: 1} : f32[3]
          %5 = constant {value: 1.0} : f32[]
          %6 = add %0, %5 : f32[3]
          output "y" = %3
          update "s" = %6
        """))
        check(out, """
        CHECK: %0 = input
        CHECK-NOT: exp
        CHECK-NEXT: %1 = state {name: "s"}
        CHECK-NEXT: %2 = add %0, %0
        CHECK-NOT: random_normal
        CHECK-NEXT: %3 = constant
        CHECK-NEXT: %4 = add %0, %3
        CHECK-NEXT: output "y" = %2
        CHECK-NEXT: update "s" = %4
        """)
    }

    // MARK: - The standard pipeline on the reference models

    func testStandardPipelineIsInOrder() {
        XCTAssertEqual(Pipeline.standard.names, ["constant-folding", "simplify", "cse", "merge-matmul-sums", "transpose-shared-b", "dce"])
    }

    /// Every reference model's training steps, through `Pipeline.standard`
    /// with the verifier after each pass, verify and keep their draws.
    ///
    /// Measured (nodes of the `train.*` steps at the models' own dims,
    /// summed over a model's objectives; a pass's column is how many more
    /// nodes the pipeline leaves out with it than without it, so the
    /// columns overlap; the last is what cse and dce alone remove),
    /// 2026-12-07:
    ///
    ///     model      before  after  constant-folding  simplify  cse  merge-matmul-sums  transpose-shared-b  cse+dce alone
    ///     mlp-gan       482    463                 8         4    3                  0                   0              7
    ///     dcgan         744    705                 7        22    6                  0                   0             10
    ///     vae           264    258                 3         0    1                  0                   0              3
    ///     char-lstm    7339   6079                 6      1010    0                244                   0              0
    ///
    /// The test prints the table for every model (docs/passes.md).
    func testStandardPipelineOnTheReferenceModels() throws {
        var table: [String] = []
        for f in Repository.files(in: "models", extension: "yaml") {
            let r = FrontEnd.load(path: f)
            let lowered = try XCTUnwrap(r.lowered, f)
            var counts: [String: [Int]] = [:]
            for p in lowered.programs where p.name.hasPrefix("train.") {
                var g = p.graph
                let records = try Pipeline.standard.run(&g, verify: true)
                XCTAssertEqual(Verifier.verify(g), [], "\(f) \(p.name)")
                XCTAssertEqual(g.outputs.map(\.name), p.graph.outputs.map(\.name))
                XCTAssertEqual(g.updates.map(\.name), p.graph.updates.map(\.name))
                func draws(_ g: Graph) -> Int { g.nodes.filter { !$0.op.isPure }.count }
                XCTAssertEqual(draws(g), draws(Pruning.prune(p.graph)), "\(f) \(p.name)")
                XCTAssertEqual(records.map(\.pass), Pipeline.standard.names)
                var row = [p.graph.nodes.count, g.nodes.count]
                for skipped in Pipeline.standard.passes where skipped.name != "dce" {
                    var h = p.graph
                    _ = try Pipeline(Pipeline.standard.passes.filter { $0.name != skipped.name }).run(&h, verify: true)
                    row.append(h.nodes.count - g.nodes.count)
                }
                var k = p.graph
                _ = try Pipeline([CommonSubexpressionElimination.pass, DeadCodeElimination.pass]).run(&k, verify: true)
                row.append(p.graph.nodes.count - k.nodes.count)
                XCTAssertLessThanOrEqual(g.nodes.count, k.nodes.count, "\(f) \(p.name): the pipeline removes at least what cse and dce do")
                counts[p.name] = row
            }
            let total = counts.values.reduce([0, 0, 0, 0, 0, 0, 0, 0]) { zip($0, $1).map { $0 + $1 } }
            let name = URL(fileURLWithPath: f).deletingPathExtension().lastPathComponent
            table.append("\(name): before \(total[0]) after \(total[1]) constant-folding \(total[2]) simplify \(total[3]) cse \(total[4]) merge-matmul-sums \(total[5]) transpose-shared-b \(total[6]) (cse+dce alone \(total[7]))")
        }
        print("pipeline node counts:\n" + table.joined(separator: "\n"))
    }
}
