import Foundation
import Genc
import GencRuntime
import GencSpec
import GencSupport
import GencTestSupport
@testable import GencTrain
import XCTest

/// Small models in training: resume is bit-exact, the loss falls, the
/// checkpoint holds everything, the files a run leaves are there.
final class TrainerTests: XCTestCase {
    /// A GAN with batchnorm, dropout and noise on a 32-image IDX dataset
    /// the test writes (4 batches per epoch), so that every kind of state
    /// and random stream crosses the checkpoint.
    static func ganModel(dataDirectory: String) -> String {
        """
        genc: 1
        name: tiny-gan
        dims: {batch: 8, zdim: 4}
        inputs:
          x: [batch, 1, 28, 28]
          z: {shape: [batch, zdim], sample: normal}
        networks:
          generator:
            in: {z: [batch, zdim]}
            layers:
              - dense: 16
              - batchnorm
              - relu
              - dense: {units: 784, activation: tanh}
              - reshape: [1, 28, 28]
          discriminator:
            in: {x: [batch, 1, 28, 28]}
            layers:
              - flatten
              - dense: {units: 16, activation: relu}
              - dropout: 0.25
              - dense: 1
        objectives:
          d_loss:
            minimize: mean(bce_logits(discriminator(x), 1)) + mean(bce_logits(discriminator(generator(z)), 0))
            update: discriminator
          g_loss:
            minimize: mean(bce_logits(discriminator(generator(z)), 1))
            update: generator
        train:
          data:
            x: {dataset: mnist, path: \(dataDirectory), split: train, scale: [-1, 1]}
          optimizer: {adam: {lr: 2.0e-3, beta1: 0.5}}
          schedule: [d_loss, g_loss]
          epochs: 3
          seed: 3
        sample:
          images: {from: generator(z), grid: [2, 4], to: samples.png}
        """
    }

    static func temporaryDirectory() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("genc-train-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    static func dataDirectory() throws -> String {
        let d = try temporaryDirectory()
        try IDXFixture.write(d + "/train-images-idx3-ubyte", count: 32)
        try IDXFixture.write(d + "/t10k-images-idx3-ubyte", count: 16)
        return d
    }

    func load(_ text: String) throws -> FrontEnd.Result {
        let r = FrontEnd.load(file: SourceFile(path: "t.yaml", text: text))
        let errors = r.diagnostics.filter { $0.severity == .error }
        XCTAssertTrue(errors.isEmpty, "\(errors)")
        guard r.spec != nil, r.lowered != nil else { throw XCTSkip("model did not load") }
        return r
    }

    func trainer(_ r: FrontEnd.Result, out: String, steps: Int? = nil, resume: String? = nil, every: Int? = nil, threads: Int = 1, seed: UInt64? = nil) throws -> Trainer {
        var o = RunOptions(outDirectory: out)
        o.seed = seed
        o.steps = steps
        o.resume = resume
        o.checkpointEvery = every
        o.progress = .quiet
        o.threads = threads
        return try Trainer(spec: r.spec!, plans: r.plans, options: o)
    }

    static func snapshot(_ t: Trainer) -> [String: [UInt32]] {
        var s: [String: [UInt32]] = [:]
        for e in t.store.entries where e.kind.isModelState {
            s[e.name] = UnsafeBufferPointer(start: e.pointer.assumingMemoryBound(to: UInt32.self), count: e.type.elementCount).map { $0 }
        }
        return s
    }

    func testResumeIsBitIdentical() throws {
        let data = try Self.dataDirectory()
        let r = try load(Self.ganModel(dataDirectory: data))
        let a = try trainer(r, out: try Self.temporaryDirectory(), steps: 10)
        _ = try a.run()
        let outB = try Self.temporaryDirectory()
        let b1 = try trainer(r, out: outB, steps: 5)
        let s1 = try b1.run()
        XCTAssertEqual(s1.steps, 5)
        let b2 = try trainer(r, out: outB, steps: 10, resume: outB + "/checkpoint.safetensors")
        XCTAssertEqual(b2.step, 5)
        let s2 = try b2.run()
        XCTAssertEqual(s2.steps, 10)
        XCTAssertEqual(s2.stepsThisRun, 5)
        let sa = Self.snapshot(a), sb = Self.snapshot(b2)
        XCTAssertEqual(Set(sa.keys), Set(sb.keys))
        XCTAssertTrue(sa.keys.contains("generator.batchnorm0.running_mean"))
        XCTAssertTrue(sa.keys.contains("optimizer.g_loss.generator.dense0.weight.exp_avg_sq"))
        for (k, v) in sa { XCTAssertEqual(v, sb[k], "'\(k)' differs after resume") }
        // The training moved the weights (the comparison is not of two initial states).
        let fresh = Self.snapshot(try trainer(r, out: try Self.temporaryDirectory()))
        XCTAssertNotEqual(fresh["generator.dense0.weight"], sa["generator.dense0.weight"])
        // A resumed run's records cover every step.
        let lines = try String(contentsOfFile: outB + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 10)
        XCTAssertTrue(lines[9].contains("\"step\":10"), String(lines[9]))
    }

    /// `ScheduleSharing` makes g_loss read the generator forward d_loss
    /// computed: after training, every weight, moment and running
    /// statistic equals the unshared pipeline's to float rounding, the
    /// losses too, and the carried buffers stay out of the checkpoint.
    func testSharingTheGeneratorForwardChangesOnlyRounding() throws {
        let data = try Self.dataDirectory()
        let text = Self.ganModel(dataDirectory: data)
        let shared = try load(text)
        let plain = FrontEnd.load(file: SourceFile(path: "t.yaml", text: text), shareSchedule: false)
        XCTAssertFalse(try XCTUnwrap(shared.optimized?.program("train.g_loss")).graph.carried.isEmpty)
        XCTAssertTrue(try XCTUnwrap(plain.optimized?.program("train.g_loss")).graph.carried.isEmpty)
        let out = try Self.temporaryDirectory()
        let a = try trainer(shared, out: out, steps: 8)
        let b = try trainer(plain, out: try Self.temporaryDirectory(), steps: 8)
        let la = try a.run().losses, lb = try b.run().losses
        XCTAssertTrue(a.store.entries.contains { $0.kind == .carried })
        XCTAssertEqual(la.map(\.name), lb.map(\.name))
        for (x, y) in zip(la, lb) { XCTAssertEqual(x.value, y.value, accuracy: 1e-5 * max(1, abs(y.value)), x.name) }
        var worst = 0.0
        var compared = 0
        for e in b.store.entries where e.kind.isModelState {
            let want = try XCTUnwrap(b.store.floats(e.name, kind: e.kind)), got = try XCTUnwrap(a.store.floats(e.name, kind: e.kind), e.name)
            for (x, y) in zip(got, want) { worst = max(worst, Double(abs(x - y)) / max(1, Double(abs(y)))) }
            compared += 1
        }
        XCTAssertGreaterThan(compared, 10)
        XCTAssertLessThanOrEqual(worst, 1e-5, "largest relative difference of a weight, moment or statistic")
        let file = try SafeTensors.read(path: out + "/checkpoint.safetensors")
        XCTAssertFalse(file.tensors.contains { $0.name.hasPrefix("carry.") })
    }

    /// What determinism means here (docs/reliability.md): the same seed and
    /// thread count give the same bits in every weight, moment and running
    /// statistic after N training steps; another thread count gives weights
    /// equal to float rounding (a GEMM cut into blocks for two workers can
    /// round differently on OpenBLAS's AVX kernels; docs/runtime.md), and
    /// another seed other weights. The discriminator's 784→512 layer is large
    /// enough that its GEMMs are split at 2 threads (on the development
    /// machine the two thread counts happened to give the same bits here).
    func testSameSeedAndThreadsGiveTheSameBitsAfterTrainingAndOtherThreadsCloseWeights() throws {
        let data = try Self.dataDirectory()
        let r = try load(Self.ganModel(dataDirectory: data).replacingOccurrences(of: "dense: {units: 16, activation: relu}", with: "dense: {units: 512, activation: relu}"))
        func trained(threads: Int, seed: UInt64? = nil) throws -> [String: [UInt32]] {
            let t = try trainer(r, out: try Self.temporaryDirectory(), steps: 12, threads: threads, seed: seed)
            _ = try t.run()
            return Self.snapshot(t)
        }
        let one = try trained(threads: 1), oneAgain = try trained(threads: 1)
        let two = try trained(threads: 2), twoAgain = try trained(threads: 2)
        XCTAssertGreaterThan(one.count, 20)
        for (k, v) in one {
            XCTAssertEqual(v, oneAgain[k], "'\(k)' differs between two runs at 1 thread")
            XCTAssertEqual(two[k], twoAgain[k], "'\(k)' differs between two runs at 2 threads")
        }
        var largest: Float = 0
        for (k, v) in one {
            let a = v.map { Float(bitPattern: $0) }, b = (two[k] ?? []).map { Float(bitPattern: $0) }
            XCTAssertEqual(a.count, b.count, k)
            for (x, y) in zip(a, b) { largest = max(largest, abs(x - y) / max(1, abs(x))) }
        }
        XCTAssertLessThan(largest, 1e-3, "1 and 2 threads drifted apart")
        print("determinism: largest relative difference between 1 and 2 threads after 12 steps: \(largest)")
        let other = try trained(threads: 1, seed: 4)
        XCTAssertNotEqual(other["discriminator.dense0.weight"], one["discriminator.dense0.weight"])
    }

    func testCheckpointHoldsEverythingAndRefusesAnotherModel() throws {
        let data = try Self.dataDirectory()
        let r = try load(Self.ganModel(dataDirectory: data))
        let out = try Self.temporaryDirectory()
        let t = try trainer(r, out: out, steps: 4)
        _ = try t.run()
        let file = try SafeTensors.read(path: out + "/checkpoint.safetensors")
        XCTAssertEqual(file.metadata["model"], "tiny-gan")
        XCTAssertEqual(file.metadata["step"], "4")
        XCTAssertEqual(file.metadata["seed"], "3")
        XCTAssertEqual(file.metadata["batches_per_epoch"], "4")
        XCTAssertEqual(file["optimizer.d_loss.step"]?.floats, [4])
        XCTAssertEqual(file["optimizer.g_loss.step"]?.floats, [4])
        XCTAssertEqual(file["run.loss.d_loss"]?.shape, [4])
        XCTAssertNotNil(file["generator.batchnorm0.running_var"])
        for e in t.store.entries where e.kind.isModelState { XCTAssertNotNil(file[e.name], e.name) }
        // Another seed than the checkpoint's is refused, not silently mixed.
        var o = RunOptions(outDirectory: out)
        o.resume = out + "/checkpoint.safetensors"
        o.seed = 4
        XCTAssertThrowsError(try Trainer(spec: r.spec!, plans: r.plans, options: o)) { e in
            XCTAssertTrue("\(e)".contains("seed"), "\(e)")
        }
    }

    func testARunLeavesItsFiles() throws {
        let data = try Self.dataDirectory()
        let r = try load(Self.ganModel(dataDirectory: data))
        let out = try Self.temporaryDirectory() + "/nested/out"
        let s = try trainer(r, out: out).run()
        XCTAssertEqual(s.steps, 12) // 3 epochs of 4 batches
        let fm = FileManager.default
        for f in ["checkpoint.safetensors", "samples.png", "samples-epoch-001.png", "samples-epoch-002.png", "samples-epoch-003.png", "loss.svg", "metrics.jsonl"] {
            XCTAssertTrue(fm.fileExists(atPath: out + "/" + f), f)
        }
        let png = try PNG.decode(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/samples.png"))))
        // 2 × 4 cells of 28 pixels with 2 pixels between and around.
        XCTAssertEqual(png.width, 4 * 28 + 5 * 2)
        XCTAssertEqual(png.height, 2 * 28 + 3 * 2)
        XCTAssertFalse(try fm.contentsOfDirectory(atPath: out).contains { $0.contains(".tmp-") })
        XCTAssertTrue(s.losses.allSatisfy { $0.value.isFinite && $0.value > 0 })
    }

    /// LANGUAGE.md §2: one noise draw per step, seen by every objective of
    /// the step; a new draw the next step.
    func testNoiseIsDrawnOncePerStepForTheWholeSchedule() throws {
        let data = try Self.dataDirectory()
        let r = try load(Self.ganModel(dataDirectory: data))
        let t = try trainer(r, out: try Self.temporaryDirectory(), steps: 1)
        _ = try t.run()
        XCTAssertEqual(t.steps.map(\.name), ["d_loss", "g_loss"])
        func z(_ k: Int) throws -> [Float] {
            let b = try XCTUnwrap(t.steps[k].executable.inputBuffer("z"))
            return Array(UnsafeBufferPointer(start: b.pointer.assumingMemoryBound(to: Float.self), count: b.type.elementCount))
        }
        let first = try z(0)
        XCTAssertEqual(first, try z(1))
        XCTAssertEqual(first.count, 8 * 4)
        let t2 = try trainer(r, out: try Self.temporaryDirectory(), steps: 2)
        _ = try t2.run()
        let b = try XCTUnwrap(t2.steps[0].executable.inputBuffer("z"))
        XCTAssertNotEqual(Array(UnsafeBufferPointer(start: b.pointer.assumingMemoryBound(to: Float.self), count: 32)), first)
    }

    func testVAELossFalls() throws {
        let r = try load("""
        genc: 1
        name: tiny-vae
        dims: {batch: 16, latent: 4}
        inputs:
          x: [batch, 784]
        networks:
          encoder:
            in: {x: [batch, 784]}
            graph:
              h: {dense: {units: 32, activation: relu}, from: x}
              mu: {dense: latent, from: h}
              logvar: {dense: latent, from: h}
            out: [mu, logvar]
          decoder:
            in: {z: [batch, latent]}
            layers:
              - dense: {units: 32, activation: relu}
              - dense: 784
        objectives:
          elbo:
            graph:
              enc: encoder(x)
              z: enc.mu + exp(0.5 * enc.logvar) * normal_like(enc.mu)
            minimize: (sum(bce_logits(decoder(z), x)) + sum(kl_normal(enc.mu, enc.logvar))) / batch
            update: [encoder, decoder]
        train:
          data:
            x: {dataset: shapes, split: train, scale: [0, 1]}
          optimizer: {adam: {lr: 3.0e-3}}
          steps: 120
          seed: 1
        """)
        let t = try trainer(r, out: try Self.temporaryDirectory())
        _ = try t.run()
        let file = try SafeTensors.read(path: t.options.checkpointPath)
        let h = try XCTUnwrap(file["run.loss.elbo"]?.floats)
        XCTAssertEqual(h.count, 120)
        let first = h.prefix(10).reduce(0, +) / 10, last = h.suffix(10).reduce(0, +) / 10
        XCTAssertLessThan(last, 0.6 * first, "ELBO \(first) → \(last)")
    }

    func testProgressFormatsAnyLoss() {
        XCTAssertEqual(Progress.format(0.61234), "0.6123")
        XCTAssertEqual(Progress.format(263.58), "263.6")
        XCTAssertEqual(Progress.format(-1.5), "-1.5000")
        // Finite but past Int: printed as a Double, not a trap.
        XCTAssertEqual(Progress.format(1e22), "1e+22")
        XCTAssertEqual(Progress.format(.infinity), "inf")
        XCTAssertEqual(Progress.duration(125), "2m05s")
        XCTAssertEqual(Progress.duration(1e300), "?")
        XCTAssertEqual(Checkpoint.labels(["d", "g", "g", "d", "g"]), ["d", "g", "g#2", "d#2", "g#3"])
    }

    func testMissingDatasetIsADiagnosticAtTheBinding() throws {
        let r = try load(Self.ganModel(dataDirectory: "/nonexistent/genc-data"))
        XCTAssertThrowsError(try trainer(r, out: try Self.temporaryDirectory())) { e in
            guard let d = e as? Diagnostic else { return XCTFail("\(e)") }
            XCTAssertTrue(d.message.contains("/nonexistent/genc-data"), d.message)
            XCTAssertEqual(d.range?.start.line, 32)
        }
    }
}
