import Genc
import GencIR
import GencLower
@testable import GencPasses
import GencTestSupport
import XCTest

/// Schedule sharing: which objectives share, what they carry, and that a
/// carried value is always one the consumer would have computed alike.
final class ScheduleSharingTests: XCTestCase {
    func testPairsNeedTheSameOtherProducerBeforeEveryOccurrence() {
        func pairs(_ s: [String]) -> [String] { ScheduleSharing.pairs(s).map { "\($0.producer)->\($0.consumer)" } }
        XCTAssertEqual(pairs(["d", "g"]), ["d->g"])
        XCTAssertEqual(pairs(["g"]), [])
        // g follows d once and g once: the second run would read what g itself left, so nothing.
        XCTAssertEqual(pairs(["d", "g", "g"]), [])
        XCTAssertEqual(pairs(["d", "d", "g"]), ["d->g"])
        // Each b follows an a, which has just computed with the parameters of that moment;
        // the first a follows nothing in the step, the second a follows b.
        XCTAssertEqual(pairs(["a", "b", "a", "b"]), ["a->b"])
        XCTAssertEqual(pairs(["a", "b", "c"]), ["a->b", "b->c"])
    }

    func load(_ path: String, share: Bool = true) throws -> LoweredModel {
        let r = FrontEnd.load(path: path, shareSchedule: share)
        return try XCTUnwrap(r.optimized, "\(path): \(r.diagnostics)")
    }

    func count(_ g: Graph, _ f: (Op) -> Bool) -> Int { g.nodes.filter { f($0.op) }.count }
    func isMatmul(_ op: Op) -> Bool { if case .matmul = op { return true } else { return false } }
    func isCarried(_ op: Op) -> Bool { if case .carried = op { return true } else { return false } }

    func testMLPGANGeneratorUpdateReadsTheDiscriminatorStepsGeneratorForward() throws {
        let shared = try load(Repository.path("models/mlp-gan.yaml"))
        let plain = try load(Repository.path("models/mlp-gan.yaml"), share: false)
        let g = try XCTUnwrap(shared.program("train.g_loss")).graph
        let g0 = try XCTUnwrap(plain.program("train.g_loss")).graph
        let d = try XCTUnwrap(shared.program("train.d_loss")).graph
        let d0 = try XCTUnwrap(plain.program("train.d_loss")).graph
        // The four generator-forward GEMMs are gone from g_loss, and only they.
        XCTAssertEqual(count(g0, isMatmul) - count(g, isMatmul), 4)
        XCTAssertEqual(count(d, isMatmul), count(d0, isMatmul))
        // What g_loss reads, d_loss writes, with the same names and types.
        let read = g.carried
        XCTAssertFalse(read.isEmpty)
        XCTAssertEqual(count(g0, isCarried), 0)
        XCTAssertEqual(Set(read.map(\.name)), Set(d.updates.map(\.name).filter { $0.hasPrefix("carry.g_loss.") }))
        for (name, type) in read {
            let u = try XCTUnwrap(d.updates.first { $0.name == name })
            XCTAssertEqual(d.type(u.value), type, name)
        }
        // Only batch-sized activations cross (the generator's, 64 rows each).
        XCTAssertTrue(read.allSatisfy { $0.type.shape.first == 64 }, "\(read)")
        // d_loss is otherwise unchanged: the same nodes, and the carried leaves nothing reads.
        XCTAssertEqual(d.nodes.count, d0.nodes.count + read.count)
        XCTAssertEqual(Verifier.verify(d), [])
        XCTAssertEqual(Verifier.verify(g), [])
    }

    /// Every carried value's cone in its producer is free of random draws,
    /// of carried leaves, and of anything the producer updates: the
    /// consumer would have computed exactly it.
    func testEveryCarriedValueIsIndependentOfWhatItsProducerChanges() throws {
        var models = Repository.files(in: "models", extension: "yaml")
        models.append(try writeModel(Self.ganWithDropoutInTheGenerator))
        var sharedSomewhere = 0
        for f in models {
            let m = try load(f)
            for p in m.programs {
                let g = p.graph
                let changed = Set(g.updates.map(\.name).filter { !$0.hasPrefix("carry.") })
                for u in g.updates where u.name.hasPrefix("carry.") {
                    sharedSomewhere += 1
                    var stack = [u.value.id]
                    var seen = Set<Int>()
                    while let i = stack.popLast() {
                        guard seen.insert(i).inserted else { continue }
                        switch g.nodes[i].op {
                        case .random: XCTFail("\(f) \(p.name): \(u.name) depends on a random draw (%\(i))")
                        case .carried: XCTFail("\(f) \(p.name): \(u.name) depends on a carried leaf (%\(i))")
                        case let .parameter(n), let .state(n):
                            XCTAssertFalse(changed.contains(n), "\(f) \(p.name): \(u.name) depends on '\(n)', which \(p.name) updates")
                        default: break
                        }
                        stack.append(contentsOf: g.nodes[i].operands.map(\.id))
                    }
                }
            }
        }
        // mlp-gan, dcgan and the dropout GAN share; the VAE and the LSTM have one objective.
        XCTAssertGreaterThan(sharedSomewhere, 0)
    }

    func testDropoutInTheGeneratorStopsTheShareAtTheDraw() throws {
        let m = try load(try writeModel(Self.ganWithDropoutInTheGenerator))
        let g = try XCTUnwrap(m.program("train.g_loss")).graph
        // The first dense layer's output is shared (it is before the dropout); g_loss draws its own mask.
        XCTAssertFalse(g.carried.isEmpty)
        XCTAssertTrue(g.nodes.contains { if case .random = $0.op { return true } else { return false } })
        XCTAssertTrue(g.carried.allSatisfy { $0.type.shape == [8, 32] }, "\(g.carried)")
    }

    func testAScheduleThatRepeatsTheConsumerSharesNothing() throws {
        let text = try String(contentsOfFile: Repository.path("models/mlp-gan.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "schedule: [d_loss, g_loss]", with: "schedule: [d_loss, g_loss, g_loss]")
        let m = try load(try writeModel(text))
        for p in m.programs { XCTAssertTrue(p.graph.carried.isEmpty, p.name) }
        let reversed = try String(contentsOfFile: Repository.path("models/mlp-gan.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "schedule: [d_loss, g_loss]", with: "schedule: [g_loss, d_loss]")
        // g_loss updates the generator first, so d_loss's G(z) is a new one.
        for p in try load(try writeModel(reversed)).programs { XCTAssertTrue(p.graph.carried.isEmpty, p.name) }
    }

    static let ganWithDropoutInTheGenerator = """
    genc: 1
    name: dropout-gan
    dims: {batch: 8, zdim: 4}
    inputs:
      x: {shape: [batch, 16], sample: normal}
      z: {shape: [batch, zdim], sample: normal}
    networks:
      generator:
        in: {z: [batch, zdim]}
        layers:
          - dense: 32
          - dropout: 0.5
          - dense: {units: 16, activation: tanh}
      discriminator:
        in: {x: [batch, 16]}
        layers:
          - dense: {units: 8, activation: relu}
          - dense: 1
    objectives:
      d_loss:
        minimize: mean(bce_logits(discriminator(x), 1)) + mean(bce_logits(discriminator(generator(z)), 0))
        update: discriminator
      g_loss:
        minimize: mean(bce_logits(discriminator(generator(z)), 1))
        update: generator
    train:
      optimizer: {adam: {lr: 1.0e-3}}
      schedule: [d_loss, g_loss]
      steps: 2
    """

    func writeModel(_ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("genc-share-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("m.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
