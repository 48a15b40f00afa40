import Genc
import GencRuntime
import GencSupport
import GencTestSupport
import XCTest

/// Layers, losses and built-ins against values computed independently in
/// NumPy (scripts/make-fixtures.py writes the committed fixtures).
final class FixtureTests: XCTestCase {
    func testObjectivesMatchNumPy() throws {
        let dir = "Tests/GencRuntimeTests/Fixtures"
        let models = Repository.files(in: dir, extension: "yaml")
        XCTAssertEqual(models.count, 3)
        for model in models {
            let base = model.replacingOccurrences(of: ".yaml", with: "")
            let r = FrontEnd.load(path: model)
            let spec = try XCTUnwrap(r.spec, DiagnosticRenderer().render(r.diagnostics))
            let lowered = try XCTUnwrap(r.lowered)
            let weights = try SafeTensors.read(path: base + ".weights.safetensors")
            let inputs = try SafeTensors.read(path: base + ".inputs.safetensors")
            for threads in [1, 2] {
                let values = try Evaluator(spec: spec, model: lowered, threads: threads, seed: 7).evaluate(objectives: [], weights: weights, inputs: inputs)
                XCTAssertEqual(values.count, spec.objectives.count)
                for (name, value) in values {
                    let expected = try XCTUnwrap(inputs.metadata["expected.\(name)"].flatMap(Double.init), "\(model): no expected \(name)")
                    XCTAssertEqual(value, expected, accuracy: 2e-5 * max(1, abs(expected)), "\(model) \(name) on \(threads) threads")
                }
            }
        }
    }
}
