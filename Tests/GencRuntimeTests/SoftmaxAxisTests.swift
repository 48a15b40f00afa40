import Genc
import GencSupport
import GencTestSupport
import XCTest

/// A model that `check` accepts runs: softmax over a middle axis (once
/// refused at load time with no location) normalises along that axis.
final class SoftmaxAxisTests: XCTestCase {
    func evaluate(axis: Int, shape: [Int], reduce: String) throws -> Double {
        let dims = shape.map(String.init).joined(separator: ", ")
        let text = """
        genc: 1
        name: sm
        inputs: {x: {shape: [\(dims)], sample: normal}}
        networks:
          n:
            in: {x: [\(dims)]}
            layers:
              - dense: \(shape.last ?? 1)
              - softmax: \(axis)
        objectives:
          o: {minimize: "\(reduce)", update: n}
        """
        let r = FrontEnd.load(file: SourceFile(path: "sm.yaml", text: text))
        XCTAssertFalse(r.hasErrors, DiagnosticRenderer().render(r.diagnostics))
        let spec = try XCTUnwrap(r.spec), lowered = try XCTUnwrap(r.lowered)
        return try XCTUnwrap(try Evaluator(spec: spec, model: lowered, threads: 2, seed: 3).evaluate(objectives: [], weights: nil, inputs: nil).first?.value)
    }

    func testSoftmaxOverEveryAxisSumsToOneAlongIt() throws {
        // Σ over everything of a softmax along axis a = the number of lanes.
        XCTAssertEqual(try evaluate(axis: 1, shape: [2, 3, 4], reduce: "sum(n(x))"), 8, accuracy: 1e-5)
        XCTAssertEqual(try evaluate(axis: 0, shape: [2, 3, 4], reduce: "sum(n(x))"), 12, accuracy: 1e-5)
        XCTAssertEqual(try evaluate(axis: 1, shape: [3, 5, 2, 9], reduce: "sum(n(x))"), 54, accuracy: 1e-4)
        // Along the axis each lane sums to 1 (max over the others of the sum is 1).
        XCTAssertEqual(try evaluate(axis: 1, shape: [2, 3, 4], reduce: "max(max(sum(n(x), axis: 1), axis: 0), axis: 0)"), 1, accuracy: 1e-5)
    }
}
