import Genc
import GencIR
import GencKernels
import GencPlan
import GencRuntime
import GencSupport
import GencTestSupport
import XCTest

/// `--check-numerics`: the first NaN or ±∞ a run makes is reported with the
/// op that made it and its YAML location, inside a fused group as well as
/// in a one-op kernel, and checking changes no result.
final class NumericsTests: XCTestCase {
    /// Line 12 holds the objective; `sqrt` is at column 28 of it.
    static let model = """
    genc: 1
    name: numerics
    dims: {batch: 4}
    inputs:
      x: [batch, 6]
    networks:
      n:
        in: {x: [batch, 6]}
        layers: [{dense: 6}, {dropout: 0.25}]
    objectives:
      o:
        minimize: mean(exp(2 * sqrt(n(x) - OFFSET)) + 1)
        update: n
    """

    func compiled(offset: Double, options: PlanOptions) throws -> Plan {
        let text = Self.model.replacingOccurrences(of: "OFFSET", with: "\(offset)")
        let r = FrontEnd.load(file: SourceFile(path: "numerics.yaml", text: text))
        let spec = try XCTUnwrap(r.spec, DiagnosticRenderer().render(r.diagnostics))
        let lowered = try XCTUnwrap(r.lowered)
        return try XCTUnwrap(try CompiledModel(spec: spec, model: lowered, options: options).plan(.grad, "o"))
    }

    func executable(_ plan: Plan, x: Float = 0.5, check: Bool) throws -> (Executable, ParameterStore) {
        let store = ParameterStore()
        let exe = try Executable(plan: plan, store: store, threads: 1)
        store.initialize(seed: 3)
        try exe.setInput("x", floats: (0..<24).map { x + Float($0) / 24 })
        exe.checkNumerics = check
        return (exe, store)
    }

    func testTheFirstNonFiniteValueNamesItsOpAndLineFusedOrNot() throws {
        for options in [PlanOptions.optimized, .unoptimized] {
            let plan = try compiled(offset: 100, options: options)
            let (exe, _) = try executable(plan, check: true)
            do {
                try exe.run(seed: 1)
                XCTFail("no fault (\(options))")
            } catch let f as NumericFault {
                XCTAssertEqual(f.op, "sqrt", "\(f)")
                XCTAssertEqual(f.location?.line, 12, "\(f)")
                XCTAssertEqual(f.location?.column, 28, "\(f)")
                XCTAssertEqual(f.what, "NaN")
                XCTAssertTrue(f.description.hasPrefix("numerics.yaml:12:28: 'sqrt' produced NaN"), f.description)
            }
        }
        // The optimized plan really holds sqrt inside a fused group.
        let plan = try compiled(offset: 100, options: .optimized)
        XCTAssertTrue(plan.steps.contains { s in
            if case .fused = s.kernel { return s.sources.count > 1 && s.sources.contains { $0.op == "sqrt" } }
            return false
        })
    }

    func testWithoutTheCheckTheRunGoesOnAndWithItNothingChanges() throws {
        let plan = try compiled(offset: -10, options: .optimized)
        let (plain, plainStore) = try executable(plan, check: false)
        let (checked, checkedStore) = try executable(plan, check: true)
        for seed in 1...3 as ClosedRange<UInt64> {
            try plain.run(seed: seed)
            try checked.run(seed: seed)
        }
        XCTAssertFalse(plan.outputs.isEmpty)
        for o in plan.outputs {
            XCTAssertEqual(plain.output(o.name)?.floats, checked.output(o.name)?.floats, o.name)
        }
        for p in plan.persistent where p.kind != .constant {
            XCTAssertEqual(plainStore.floats(p.name, kind: p.kind), checkedStore.floats(p.name, kind: p.kind), p.name)
        }
        // Unchecked, the NaN flows on into the gradients.
        let bad = try compiled(offset: 100, options: .optimized)
        let (exe, _) = try executable(bad, check: false)
        try exe.run(seed: 1)
        XCTAssertTrue(bad.outputs.contains { o in exe.output(o.name)?.floats.contains { $0.isNaN } ?? false })
    }

    func testANonFiniteInputIsNamedBeforeAnyKernelRuns() throws {
        let plan = try compiled(offset: -10, options: .optimized)
        let (exe, _) = try executable(plan, x: .infinity, check: true)
        XCTAssertThrowsError(try exe.run(seed: 1)) { e in
            let f = e as? NumericFault
            XCTAssertNil(f?.op)
            XCTAssertEqual(f?.holder, "input 'x'")
            XCTAssertEqual(f?.what, "+inf")
        }
    }

    func testTheScanFindsTheFirstNaNOrInfinity() {
        var x = [Float](repeating: 1, count: 5000)
        XCTAssertNil(x.withUnsafeBufferPointer { firstNonFinite($0.baseAddress!, $0.count) })
        x[4321] = -.infinity
        x[4999] = .nan
        XCTAssertEqual(x.withUnsafeBufferPointer { firstNonFinite($0.baseAddress!, $0.count) }, 4321)
        x[17] = .signalingNaN
        XCTAssertEqual(x.withUnsafeBufferPointer { firstNonFinite($0.baseAddress!, $0.count) }, 17)
        x[3] = .greatestFiniteMagnitude
        XCTAssertEqual(x.withUnsafeBufferPointer { firstNonFinite($0.baseAddress!, $0.count) }, 17)
    }
}
