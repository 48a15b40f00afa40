import Foundation
import GencIR
import GencTestSupport
import XCTest

/// `genc dump --format dot --collapse`: big graphs drawn one box per layer,
/// small ones op by op as before.
final class DotCollapseTests: XCTestCase {
    let charLSTM = Repository.path("models/char-lstm.yaml")
    let dcgan = Repository.path("models/dcgan.yaml")

    /// Box lines of a collapsed DOT (`g3 [label=...]`) and op lines of a full one (`n3 [label=...]`).
    func lines(_ dot: String, prefix: Character) -> [String] {
        dot.split(separator: "\n").map(String.init).filter { line in
            let t = line.drop { $0 == " " }
            guard t.first == prefix else { return false }
            let rest = t.dropFirst()
            let digits = rest.prefix { $0.isNumber }
            return !digits.isEmpty && rest.dropFirst(digits.count).hasPrefix(" [label=")
        }
    }

    /// Runs `dot -Tsvg` on `dot` and returns the seconds it took; skips when Graphviz is missing.
    func render(_ dot: String, limit: Double) throws -> Double {
        guard let graphviz = ["/usr/bin/dot", "/usr/local/bin/dot"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("graphviz is not installed (scripts/setup.sh installs it)")
        }
        let dir = FileManager.default.temporaryDirectory
        let input = dir.appendingPathComponent("collapse-\(getpid())-\(UUID().uuidString).dot")
        let output = dir.appendingPathComponent("collapse-\(getpid())-\(UUID().uuidString).svg")
        try dot.write(to: input, atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: output)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: graphviz)
        p.arguments = ["-Tsvg", "-o", output.path, input.path]
        let start = Date()
        try p.run()
        while p.isRunning, Date().timeIntervalSince(start) < limit { usleep(10_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        XCTAssertLessThan(seconds, limit, "dot -Tsvg ran past \(limit) s")
        XCTAssertEqual(p.terminationStatus, 0)
        let svg = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        XCTAssertTrue(svg.contains("<svg"), svg)
        return seconds
    }

    func testCharLSTMIsCollapsedByDefaultAndGraphvizDrawsItInSeconds() throws {
        let full = try GencBinary.run(["dump", "--format", "dot", "--collapse", "none", charLSTM])
        XCTAssertEqual(full.status, 0, full.stderr)
        let ops = lines(full.stdout, prefix: "n").count
        XCTAssertGreaterThan(ops, IRDot.collapseThreshold)

        let r = try GencBinary.run(["dump", "--format", "dot", charLSTM])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Said on stderr, so the default is never a silent surprise.
        XCTAssertTrue(r.stderr.contains("one box per layer; --collapse none draws every op"), r.stderr)
        let boxes = lines(r.stdout, prefix: "g")
        XCTAssertTrue(lines(r.stdout, prefix: "n").isEmpty, r.stdout)
        XCTAssertLessThan(boxes.count, 20, r.stdout)
        XCTAssertGreaterThan(ops, 50 * boxes.count)
        // The two layers of `lstm: {layers: 2}` are two boxes, each folding its 64 unrolled steps.
        let l0 = boxes.first { $0.contains("charlm.lstm0.l0") }, l1 = boxes.first { $0.contains("charlm.lstm0.l1") }
        XCTAssertNotNil(l0, r.stdout)
        XCTAssertNotNil(l1, r.stdout)
        XCTAssertTrue(l0?.contains("lstm: {units: 256, layers: 2}") ?? false, l0 ?? "")
        XCTAssertTrue(boxes.contains { $0.contains("charlm.embedding0") && $0.contains("char-lstm.yaml:21:9") }, r.stdout)
        // Edges carry the types that cross them.
        XCTAssertTrue(r.stdout.contains("[label=\"f32[32, 64, 256]\"]"), r.stdout)
        XCTAssertTrue(r.stdout.contains("output loss"), r.stdout)
        XCTAssertEqual(try GencBinary.run(["dump", "--format", "dot", "--collapse", "layers", charLSTM]).stdout, r.stdout)
        _ = try render(r.stdout, limit: 20)
    }

    func testSmallGraphsStillDrawEveryOpByDefault() throws {
        let text = try GencBinary.run(["dump", dcgan])
        let ops = try IRParser.parse(text.stdout).nodes.count
        XCTAssertLessThan(ops, IRDot.collapseThreshold)
        let byDefault = try GencBinary.run(["dump", "--format", "dot", dcgan])
        XCTAssertEqual(byDefault.status, 0, byDefault.stderr)
        XCTAssertEqual(byDefault.stderr, "")
        XCTAssertEqual(lines(byDefault.stdout, prefix: "n").count, ops)
        XCTAssertTrue(lines(byDefault.stdout, prefix: "g").isEmpty)
        let none = try GencBinary.run(["dump", "--format", "dot", "--collapse", "none", dcgan])
        XCTAssertEqual(none.stdout, byDefault.stdout)
        let auto = try GencBinary.run(["dump", "--format", "dot", "--collapse=auto", dcgan])
        XCTAssertEqual(auto.stdout, byDefault.stdout)
    }

    /// Every op is in exactly one box; a network called twice (the
    /// discriminator on real and generated images) is one box per layer,
    /// with `×2` on its edges.
    func testCollapsedBoxesAccountForEveryOp() throws {
        let text = try GencBinary.run(["dump", dcgan])
        let ops = try IRParser.parse(text.stdout).nodes.count
        let r = try GencBinary.run(["dump", "--format", "dot", "--collapse", "layers", dcgan])
        XCTAssertEqual(r.status, 0, r.stderr)
        var counted = 0
        for box in lines(r.stdout, prefix: "g") {
            // "...\n8 ops: add ×2, ..." or "...\n1 op: relu"
            guard let range = box.range(of: #"\\n([0-9,]+) ops?: "#, options: .regularExpression) else { return XCTFail(box) }
            let number = box[range].dropFirst(2).prefix { $0.isNumber || $0 == "," }.filter(\.isNumber)
            counted += Int(String(number)) ?? 0
        }
        XCTAssertEqual(counted, ops, r.stdout)
        XCTAssertEqual(r.stdout.components(separatedBy: "discriminator.conv0").count - 1, 1, r.stdout)
        XCTAssertTrue(r.stdout.contains("[label=\"f32[64, 64, 14, 14] ×2\"]"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\"update discriminator.batchnorm0.running_mean\""), r.stdout)
        _ = try render(r.stdout, limit: 20)
    }

    /// From text IR: ops of one location split by the parameters they use;
    /// an op with no parameter of its own goes with its user; constants join
    /// their first user and draw no edges.
    func testGroupingByLocationAndParameterScope() throws {
        let g = try IRParser.parse("""
        graph "t" {
          %0 = input {name: "x"} : f32[2, 3] loc("m.yaml":3:3)
          %1 = reshape %0 {shape: [2, 3]} : f32[2, 3] loc("m.yaml":9:9)
          %2 = parameter {name: "net.rnn0.l0.w"} : f32[3, 3] loc("m.yaml":9:9)
          %3 = matmul %1, %2 {transpose_a: false, transpose_b: false} : f32[2, 3] loc("m.yaml":9:9)
          %4 = parameter {name: "net.rnn0.l1.w"} : f32[3, 3] loc("m.yaml":9:9)
          %5 = matmul %3, %4 {transpose_a: false, transpose_b: false} : f32[2, 3] loc("m.yaml":9:9)
          %6 = constant {value: 2.0} : f32[] loc("m.yaml":9:9)
          %7 = multiply %5, %6 : f32[2, 3] loc("m.yaml":12:5)
          %8 = multiply %3, %6 : f32[2, 3] loc("m.yaml":12:5)
          output "a" = %7
          output "b" = %8
        }
        """)
        let dot = IRDot.printCollapsed(g) { $0.line == 9 ? "rnn: {layers: 2}" : nil }
        let boxes = lines(dot, prefix: "g")
        XCTAssertEqual(boxes.count, 4, dot)
        XCTAssertTrue(boxes[1].contains("net.rnn0.l0\\nrnn: {layers: 2}\\nm.yaml:9:9\\n3 ops: matmul, parameter, reshape"), dot)
        XCTAssertTrue(boxes[2].contains("net.rnn0.l1\\nrnn: {layers: 2}\\nm.yaml:9:9\\n2 ops: matmul, parameter"), dot)
        XCTAssertTrue(boxes[3].contains("m.yaml:12:5\\n3 ops: multiply ×2, constant"), dot)
        XCTAssertTrue(dot.contains("g0 -> g1 [label=\"f32[2, 3]\"];"), dot)
        XCTAssertTrue(dot.contains("g1 -> g2 [label=\"f32[2, 3]\"];"), dot)
        XCTAssertTrue(dot.contains("g1 -> g3 [label=\"f32[2, 3]\"];"), dot)
        XCTAssertTrue(dot.contains("g2 -> g3 [label=\"f32[2, 3]\"];"), dot)
        XCTAssertEqual(dot.components(separatedBy: " -> g").count - 1, 4, dot)
        XCTAssertTrue(dot.contains("g3 -> out0;") && dot.contains("g3 -> out1;"), dot)
        // Model text cannot break out of a label.
        let hostile = IRDot.printCollapsed(g) { _ in "a \"quoted\" \\ name" }
        XCTAssertTrue(hostile.contains("a \\\"quoted\\\" \\\\ name"), hostile)
    }

    func testCollapseUsageErrors() throws {
        for args in [["--collapse", "none"], ["--collapse", "layers", "--format", "json"], ["--collapse", "bogus", "--format", "dot"]] {
            let r = try GencBinary.run(["dump"] + args + [dcgan])
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("genc: error: "), r.stderr)
            XCTAssertTrue(r.stdout.isEmpty, r.stdout)
        }
    }
}
