import GencIR
import GencKernels
import GencPlan
import GencRuntime
import XCTest

/// What the runtime loads: every graph `Graph.add` accepts (its shape rules
/// are what `check` enforces) loads and runs, negative axes included, and the
/// two layouts the kernels cannot do are refused before loading, at the op.
final class RuntimeCoverageTests: XCTestCase {
    let here = IRLocation(path: "m.yaml", line: 7, column: 9)

    func load(_ g: Graph, threads: Int = 1) throws -> Executable {
        let plan = try Planner.plan(g) { _, _, _ in .constant(0) }
        XCTAssertEqual(Executable.unsupported(plan).map(\.message), [])
        return try Executable(plan: plan, store: ParameterStore(), threads: threads)
    }

    /// A 1-d convolution with work enough for two batch workers sizes its
    /// scratch for both (a column matrix each, the filter gradient's
    /// partial): it runs on 2 threads with the results of 1 (bit for bit
    /// forward and input gradient). Sized for one worker, it wrote past its
    /// workspace; the ASan run of this suite would report it.
    func testConv1DOnTwoThreadsHasScratchForEveryWorker() throws {
        let a = ConvAttributes(stride: [1], padBefore: [2], padAfter: [2])
        var g = Graph(name: "conv1d")
        let x = try g.add(.input("x"), type: .f32([32, 16, 256]))
        let w = try g.add(.input("w"), type: .f32([32, 16, 5]))
        let dy = try g.add(.input("dy"), type: .f32([32, 32, 256]))
        g.outputs = [NamedValue("y", try g.add(.conv(a), [x, w])),
                     NamedValue("dx", try g.add(.convInputGrad(a, inputSize: [256]), [dy, w])),
                     NamedValue("dw", try g.add(.convFilterGrad(a, kernelSize: [5]), [x, dy]))]
        var runs: [[String: [Float]]] = []
        for threads in [1, 2] {
            let e = try load(g, threads: threads)
            try e.setInput("x", floats: (0..<(32 * 16 * 256)).map { Float(($0 * 37) % 23) / 11 - 1 })
            try e.setInput("w", floats: (0..<(32 * 16 * 5)).map { Float(($0 * 13) % 17) / 8 - 1 })
            try e.setInput("dy", floats: (0..<(32 * 32 * 256)).map { Float(($0 * 29) % 19) / 9 - 1 })
            try e.run(seed: 1)
            runs.append(Dictionary(uniqueKeysWithValues: ["y", "dx", "dw"].map { ($0, e.output($0)!.floats) }))
        }
        XCTAssertEqual(Conv1DGeometry(batch: 32, channels: 16, length: 256, filters: 32, kernel: 5, pad: 2).conv2d.batchWorkers(threads: 2), 2)
        XCTAssertEqual(runs[0]["y"], runs[1]["y"])
        XCTAssertEqual(runs[0]["dx"], runs[1]["dx"])
        let (one, two) = (runs[0]["dw"]!, runs[1]["dw"]!)
        let scale = one.map { abs($0) }.max() ?? 1
        XCTAssertLessThanOrEqual(zip(one, two).map { abs($0 - $1) }.max() ?? 0, 1e-5 * scale)
    }

    /// Softmax on every axis of a 4-d tensor (negative ones too), and
    /// log-softmax, each lane along the axis summing to 1.
    func testSoftmaxOnEveryAxis() throws {
        let shape = [2, 3, 4, 5]
        let x = (0..<120).map { Float(($0 * 37) % 23) / 3 - 4 }
        for axis in -4..<4 {
            var g = Graph(name: "sm")
            let v = try g.add(.input("x"), type: .f32(shape))
            let s = try g.add(.softmax(axis: axis), [v])
            let l = try g.add(.unary(.exp), [try g.add(.logSoftmax(axis: axis), [v])])
            g.outputs = [NamedValue("s", s), NamedValue("l", l)]
            let e = try load(g, threads: 2)
            try e.setInput("x", floats: x)
            try e.run(seed: 0)
            let a = axis < 0 ? axis + 4 : axis
            let inner = shape[(a + 1)...].reduce(1, *), n = shape[a]
            for out in ["s", "l"] {
                let y = try XCTUnwrap(e.output(out)).floats
                for lane in 0..<(120 / n) {
                    let (o, j) = lane.quotientAndRemainder(dividingBy: inner)
                    let sum = (0..<n).reduce(Float(0)) { $0 + y[(o * n + $1) * inner + j] }
                    XCTAssertEqual(sum, 1, accuracy: 1e-5, "\(out) axis \(axis) lane \(lane)")
                }
            }
        }
    }

    /// Negative axes are valid IR (lowering normalises them, a hand-built
    /// graph need not): concat, reduce and softmax give what the positive
    /// axis gives. Transpose, stepped slices, f32 broadcast and i32 data
    /// movement load too.
    func testNegativeAxesAndDataMovementLoad() throws {
        var g = Graph(name: "moves")
        let a = try g.add(.input("a"), type: .f32([2, 3]))
        let b = try g.add(.input("b"), type: .f32([2, 2]))
        let ids = try g.add(.input("ids"), type: .i32([2, 3]))
        let cat = try g.add(.concat(axis: -1), [a, b])
        let catPositive = try g.add(.concat(axis: 1), [a, b])
        let sum = try g.add(.reduce(.sum, axes: [-1], keepDims: false), [cat])
        let t = try g.add(.transpose([1, 0]), [cat])
        let sl = try g.add(.slice(SliceAttributes(start: [0, 1], end: [5, 2], step: [2, 1])), [t])
        let bc = try g.add(.broadcast([3, 2, 5]), [cat])
        let idCat = try g.add(.concat(axis: -2), [ids, ids])
        let idSlice = try g.add(.slice(SliceAttributes(start: [1, 0], end: [4, 3], step: [2, 2])), [idCat])
        let hot = try g.add(.oneHot(depth: 8), [try g.add(.reshape([4]), [idSlice])])
        g.outputs = [NamedValue("cat", cat), NamedValue("cat1", catPositive), NamedValue("sum", sum), NamedValue("slice", sl),
                     NamedValue("bc", bc), NamedValue("hot", hot)]
        let e = try load(g)
        try e.setInput("a", floats: [1, 2, 3, 4, 5, 6])
        try e.setInput("b", floats: [7, 8, 9, 10])
        try e.setInput("ids", ints: [0, 1, 2, 3, 4, 5])
        try e.run(seed: 0)
        let cat5: [Float] = [1, 2, 3, 7, 8, 4, 5, 6, 9, 10]
        XCTAssertEqual(e.output("cat")?.floats, cat5)
        XCTAssertEqual(e.output("cat1")?.floats, cat5)
        XCTAssertEqual(e.output("sum")?.floats, [21, 34])
        XCTAssertEqual(e.output("slice")?.floats, [4, 6, 10])  // rows 0, 2, 4 of the transpose, column 1
        XCTAssertEqual(e.output("bc")?.floats, cat5 + cat5 + cat5)
        // idCat rows: [0 1 2] [3 4 5] [0 1 2] [3 4 5]; rows 1, 3, columns 0, 2: 3 5 3 5.
        let rows = try XCTUnwrap(e.output("hot")).floats
        XCTAssertEqual((0..<4).map { r in (0..<8).first { rows[r * 8 + $0] == 1 } }, [3, 5, 3, 5])
    }

    /// Asymmetric convolution padding and i32 broadcast: no model that
    /// passes `check` has them (lowering pads symmetrically; nothing emits an
    /// i32 broadcast), but a graph can, and the refusal names the op's line.
    func testUnsupportedLayoutsAreRefusedAtTheOp() throws {
        var conv = Graph(name: "conv")
        let x = try conv.add(.input("x"), type: .f32([1, 1, 5, 5]))
        let w = try conv.add(.parameter("w"), type: .f32([1, 1, 2, 2]))
        let y = try conv.add(.conv(ConvAttributes(stride: [1, 1], padBefore: [0, 0], padAfter: [1, 1])), [x, w], at: here)
        conv.outputs = [NamedValue("y", y)]

        var bcast = Graph(name: "bcast")
        let ids = try bcast.add(.input("ids"), type: .i32([3]))
        bcast.outputs = [NamedValue("b", try bcast.add(.broadcast([2, 3]), [ids], at: here))]

        for (g, message) in [(conv, "only symmetric padding is supported"), (bcast, "broadcasting i32 values is not supported")] {
            let plan = try Planner.plan(g) { _, _, _ in .constant(0) }
            let problems = Executable.unsupported(plan)
            XCTAssertEqual(problems.count, 1)
            XCTAssertEqual(problems.first?.location, here)
            XCTAssertTrue(problems.first?.message.contains(message) == true, "\(problems)")
            XCTAssertThrowsError(try Executable(plan: plan, store: ParameterStore())) { error in
                XCTAssertTrue("\(error)".hasPrefix("m.yaml:7:9: "), "\(error)")
            }
        }
    }
}
