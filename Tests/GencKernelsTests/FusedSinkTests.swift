@testable import GencKernels
import XCTest

/// A loop whose sinks reduce its outermost axis (a loss and a bias gradient,
/// as in vae's output layer) cannot be cut into independent slices; on two
/// threads it runs its tiles on both and then accumulates the sinks in tile
/// order on one. Its bits must be those of one thread.
final class FusedSinkTests: XCTestCase {
    typealias S = FusedProgram.Source

    /// y = softplus(x)·2 − x over [rows, 784]; sinks: sum of y over both axes,
    /// sum of y over rows, max of x over rows. Returns the result and the sinks.
    func run(rows: Int, threads: Int) -> (deferred: Bool, values: [[UInt32]]) {
        let cols = 784, n = rows * cols
        var rng = TestRNG(5)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: n)
        x.initialize(from: rng.array(n, -4, 4), count: n)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let total = UnsafeMutablePointer<Float>.allocate(capacity: 1), column = UnsafeMutablePointer<Float>.allocate(capacity: cols)
        let top = UnsafeMutablePointer<Float>.allocate(capacity: cols)
        defer { [x, y, total, column, top].forEach { $0.deallocate() } }
        let body: [FusedProgram.Instruction] = [
            .unary(.softplus, S.input(0)),
            .binary(.mul, S.register(0), S.scalar(2)),
            .binary(.sub, S.register(1), S.input(0)),
        ]
        let sinks = [
            FusedProgram.Sink(function: .sum, source: S.register(2), out: total, strides: [0, 0], shape: [rows, cols]),
            FusedProgram.Sink(function: .sum, source: S.register(2), out: column, strides: [0, 1], shape: [rows, cols]),
            FusedProgram.Sink(function: .max, source: S.input(0), out: top, strides: [0, 1], shape: [rows, cols]),
        ]
        let program = FusedProgram(shape: [rows, cols], reads: [FusedProgram.Read(base: UnsafePointer(x), offset: 0, strides: [cols, 1])],
                                   body: body, results: [(2, y)], sinks: sinks)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: program.scratchCount(threads: threads))
        defer { scratch.deallocate() }
        var seed: UInt64 = 0
        runFused(program, seeds: &seed, scratch: scratch, threads: threads)
        let values = [Array(UnsafeBufferPointer(start: y, count: n)), [total[0]], Array(UnsafeBufferPointer(start: column, count: cols)),
                      Array(UnsafeBufferPointer(start: top, count: cols))].map { $0.map(\.bitPattern) }
        return (program.deferringSinks(threads), values)
    }

    func testTwoPhaseSinksGiveTheBitsOfOneThread() {
        for rows in [128, 257] {
            let one = run(rows: rows, threads: 1), two = run(rows: rows, threads: 2)
            XCTAssertFalse(one.deferred)
            XCTAssertTrue(two.deferred, "a [\(rows), 784] loop reducing its rows runs on both threads")
            XCTAssertEqual(one.values, two.values, "rows \(rows)")
        }
        // Too little work: one thread, one phase.
        XCTAssertFalse(run(rows: 8, threads: 2).deferred)
    }
}
