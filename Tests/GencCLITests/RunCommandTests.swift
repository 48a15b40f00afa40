import Foundation
import GencRuntime
import GencTestSupport
import GencTrain
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `genc run` as a user runs it: the files a run leaves, sampling from
/// weights, text models, `eval --split`, and a run killed while it writes
/// its checkpoint.
final class RunCommandTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws { dir = try Self.fixtureDirectory("genc-run") }

    /// A fresh temporary directory whose `data/` holds 48 training and 20 test IDX images.
    static func fixtureDirectory(_ prefix: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try IDXFixture.write(dir + "/data/train-images-idx3-ubyte", count: 48)
        try IDXFixture.write(dir + "/data/t10k-images-idx3-ubyte", count: 20)
        return dir
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// A VAE on the test's IDX files (batch 8: 6 batches per epoch), with
    /// `units` hidden units (large makes a large checkpoint).
    func vae(units: Int = 16, epochs: Int = 2) throws -> String { try Self.vae(in: dir, units: units, epochs: epochs) }

    /// The VAE's file in `dir`, whose `data/` holds the IDX files `setUpWithError` writes.
    static func vae(in dir: String, units: Int = 16, epochs: Int = 2) throws -> String {
        let path = dir + "/vae.yaml"
        try """
        genc: 1
        name: small-vae
        dims: {batch: 8, latent: 2}
        inputs:
          x: [batch, 784]
          z_prior: {shape: [batch, latent], sample: normal}
        networks:
          encoder:
            in: {x: [batch, 784]}
            graph:
              h: {dense: {units: \(units), activation: relu}, from: x}
              mu: {dense: latent, from: h}
              logvar: {dense: latent, from: h}
            out: [mu, logvar]
          decoder:
            in: {z: [batch, latent]}
            layers:
              - dense: {units: 16, activation: relu}
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
            x: {dataset: mnist, path: \(dir)/data, scale: [0, 1]}
          optimizer: {adam: {lr: 1.0e-3}}
          epochs: \(epochs)
          seed: 1
        sample:
          images: {from: sigmoid(decoder(z_prior)), grid: [2, 3]}
          reconstructions: {from: sigmoid(decoder(encoder(x).mu)), grid: [1, 4]}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testRunWritesEverythingAndSampleOnlyReadsItBack() throws {
        let model = try vae()
        let out = dir + "/out"
        let r = try GencBinary.run(["run", model, "--out", out, "--threads", "1", "--log", dir + "/log.jsonl"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("small-vae: 12 steps (2 epochs)"), r.stdout)
        for f in ["checkpoint.safetensors", "samples.png", "reconstructions.png", "samples-epoch-001.png", "samples-epoch-002.png", "loss.svg", "metrics.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + f), f)
            XCTAssertTrue(r.stdout.contains(out + "/" + (f.hasPrefix("samples-epoch") ? "samples-epoch-001.png" : f)), "\(f): \(r.stdout)")
        }
        // Progress went to stderr as plain lines (not a terminal).
        XCTAssertTrue(r.stderr.contains("step 12/12"), r.stderr)
        XCTAssertFalse(r.stderr.contains("\u{1B}["), "no terminal escapes when stderr is a file")
        let log = try String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 12)
        XCTAssertTrue(log[0].hasPrefix("{\"step\":1,\"epoch\":1,\"loss\":{\"elbo\":"), String(log[0]))
        // Reconstructions: 1 pair of rows of 4 cells.
        let rec = try PNG.decode(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/reconstructions.png"))))
        XCTAssertEqual([rec.width, rec.height], [4 * 28 + 5 * 2, 2 * 28 + 3 * 2])

        // Sampling from the checkpoint: N single images and one tensor.
        let s = try GencBinary.run(["run", model, "--sample-only", "--weights", out + "/checkpoint.safetensors", "--count", "11", "--out", dir + "/s"], timeout: 60)
        XCTAssertEqual(s.status, 0, s.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/s/samples").sorted()
        XCTAssertEqual(files.count, 11)
        XCTAssertEqual(files.first, "000000.png")
        let one = try PNG.decode(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/s/samples/000010.png"))))
        XCTAssertEqual([one.width, one.height, one.channels], [28, 28, 1])
        let t = try SafeTensors.read(path: dir + "/s/samples.safetensors")
        XCTAssertEqual(t["samples"]?.shape, [11, 1, 28, 28])
        // The same weights and seed give the same grid.
        let g1 = try GencBinary.run(["run", model, "--sample-only", "--weights", out + "/checkpoint.safetensors", "--out", dir + "/g1"], timeout: 60)
        XCTAssertEqual(g1.status, 0, g1.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/g1/samples.png")), try Data(contentsOf: URL(fileURLWithPath: out + "/samples.png")))

        // eval --split test: 20 test images, batch 8 → 2 batches, 4 left out.
        let e = try GencBinary.run(["eval", model, "--split", "test", "--weights", out + "/checkpoint.safetensors", "--json"], timeout: 60)
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("\"elbo\""), e.stdout)
        let e4 = try GencBinary.run(["eval", model, "--split", "test", "--dim", "batch=4", "--weights", out + "/checkpoint.safetensors"], timeout: 60)
        XCTAssertEqual(e4.status, 0, e4.stderr)
        XCTAssertTrue(e4.stderr.contains("5 batches, 20 samples"), e4.stderr)
        let e1 = try GencBinary.run(["eval", model, "--split", "test", "--batches", "1", "--weights", out + "/checkpoint.safetensors"], timeout: 60)
        XCTAssertEqual(e1.status, 0, e1.stderr)
        XCTAssertTrue(e1.stderr.contains("the first 1 of 2 batches, 8 samples"), e1.stderr)
    }

    func testResumeThroughTheCommandLineMatchesOneRun() throws {
        let model = try vae()
        let one = try GencBinary.run(["run", model, "--out", dir + "/one", "--steps", "9", "--threads", "1"], timeout: 120)
        XCTAssertEqual(one.status, 0, one.stderr)
        let a = try GencBinary.run(["run", model, "--out", dir + "/two", "--steps", "4", "--threads", "1"], timeout: 120)
        XCTAssertEqual(a.status, 0, a.stderr)
        let b = try GencBinary.run(["run", model, "--out", dir + "/two", "--steps", "9", "--threads", "1", "--resume", dir + "/two/checkpoint.safetensors"], timeout: 120)
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertTrue(b.stderr.contains("resuming at step 4 of 9"), b.stderr)
        let x = try SafeTensors.read(path: dir + "/one/checkpoint.safetensors"), y = try SafeTensors.read(path: dir + "/two/checkpoint.safetensors")
        XCTAssertEqual(x.tensors.map(\.name), y.tensors.map(\.name))
        for (name, t) in x.tensors { XCTAssertEqual(t.bytes, y[name]?.bytes, name) }
    }

    func testCorruptAndMissingDataAreDiagnostics() throws {
        let model = try vae()
        // Truncate the training images in the middle of the pixels.
        let path = dir + "/data/train-images-idx3-ubyte"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(1000).write(to: URL(fileURLWithPath: path))
        let r = try GencBinary.run(["run", model, "--out", dir + "/out"], timeout: 60)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("vae.yaml:29:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("train-images-idx3-ubyte") && r.stderr.contains("offset"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/checkpoint.safetensors"))
        try FileManager.default.removeItem(atPath: path)
        let m = try GencBinary.run(["run", model, "--out", dir + "/out"], timeout: 60)
        XCTAssertEqual(m.status, 1, m.stderr)
        XCTAssertTrue(m.stderr.contains("error:") && m.stderr.contains("train-images-idx3-ubyte"), m.stderr)
    }

    func testTextModelTrainsAndSamples() throws {
        let corpus = dir + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        try String(repeating: "the cat sat on the mat. ", count: 200).write(toFile: corpus + "/a", atomically: true, encoding: .utf8)
        let model = dir + "/lm.yaml"
        try """
        genc: 1
        name: tiny-lm
        dims: {batch: 4, steps: 8, vocab: 98}
        inputs:
          text: {shape: [batch, steps + 1], dtype: i32}
        networks:
          lm:
            in: {tokens: {shape: [batch, steps], dtype: i32}}
            layers:
              - embedding: {vocab: vocab, dim: 8}
              - lstm: 16
              - dense: vocab
        objectives:
          loss:
            graph:
              logits: lm(text[:, :-1])
            minimize: mean(cross_entropy(logits, text[:, 1:]))
            update: lm
        train:
          data:
            text: {dataset: text, path: \(corpus)}
          optimizer: {adam: {lr: 1.0e-2}}
          steps: 60
          seed: 2
        sample:
          text: {network: lm, from: text, prime: "the ", length: 30, temperature: 0.5}
        """.write(toFile: model, atomically: true, encoding: .utf8)
        let r = try GencBinary.run(["run", model, "--out", dir + "/lm"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: dir + "/lm/samples.txt", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("the "), text)
        XCTAssertEqual(text.count, 4 + 30 + 1, text)
        XCTAssertTrue(r.stdout.contains(text.dropLast()), r.stdout)
        let h = try XCTUnwrap(try SafeTensors.read(path: dir + "/lm/checkpoint.safetensors")["run.loss.loss"]?.floats)
        XCTAssertLessThan(h.suffix(10).reduce(0, +) / 10, 0.7 * h.prefix(5).reduce(0, +) / 5)
        // Greedy sampling from the weights, with overrides, is deterministic.
        let args = ["run", model, "--sample-only", "--weights", dir + "/lm/checkpoint.safetensors", "--out", dir + "/lm2", "--prime", "the c", "--length", "12", "--temperature", "0"]
        let s1 = try GencBinary.run(args, timeout: 60), s2 = try GencBinary.run(args, timeout: 60)
        XCTAssertEqual(s1.status, 0, s1.stderr)
        XCTAssertTrue(s1.stdout.hasPrefix("the c"), s1.stdout)
        XCTAssertEqual(s1.stdout, s2.stdout)
    }

    /// infogan-shapes schedules g_loss twice a step: the records name the
    /// entries g_loss and g_loss#2, and the run resumes from its checkpoint.
    func testAScheduleThatRepeatsAnObjectiveTrainsAndResumes() throws {
        let model = Repository.path("models/examples/infogan-shapes.yaml")
        let a = try GencBinary.run(["run", model, "--steps", "2", "--out", dir + "/ig", "--threads", "1"], timeout: 120)
        XCTAssertEqual(a.status, 0, a.stderr)
        let b = try GencBinary.run(["run", model, "--steps", "3", "--out", dir + "/ig", "--threads", "1", "--resume", dir + "/ig/checkpoint.safetensors"], timeout: 120)
        XCTAssertEqual(b.status, 0, b.stderr)
        let lines = try String(contentsOfFile: dir + "/ig/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[2].contains("\"g_loss\":") && lines[2].contains("\"g_loss#2\":"), String(lines[2]))
        XCTAssertEqual(try SafeTensors.read(path: dir + "/ig/checkpoint.safetensors")["run.loss.g_loss#2"]?.shape, [3])
    }

    func testCtrlCWritesACheckpointAndExits130() throws {
        let model = try vae(epochs: 100_000)
        let p = Process()
        p.executableURL = GencBinary.url
        p.arguments = ["run", model, "--out", dir + "/int", "--threads", "1", "--progress", "none"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let start = Date()
        // Interrupt once training is under way (the first epoch's grid is written).
        while !FileManager.default.fileExists(atPath: dir + "/int/samples-epoch-001.png"), Date().timeIntervalSince(start) < 60 { usleep(5000) }
        kill(p.processIdentifier, SIGINT)
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130, out)
        XCTAssertTrue(out.contains("interrupted at step"), out)
        // The command to continue repeats how the run was started.
        XCTAssertTrue(out.contains("continue with: genc run \(model) --out \(dir)/int --resume \(dir)/int/checkpoint.safetensors --threads 1"), out)
        let file = try SafeTensors.read(path: dir + "/int/checkpoint.safetensors")
        let step = try XCTUnwrap(Int(file.metadata["step"] ?? ""))
        XCTAssertGreaterThanOrEqual(step, 6)
        XCTAssertEqual(file["run.loss.elbo"]?.shape, [step])
    }

    /// SIGKILL at random moments of a run that writes its checkpoint every
    /// step (so much of its time is spent writing it), 20 times: each time
    /// the checkpoint left behind is complete and loads, and resuming from
    /// the last one ends at the very weights, optimizer state and loss
    /// history of a run that was never interrupted (issue 12).
    func testTwentySIGKILLsThenResumeEndsAtTheUninterruptedWeights() throws {
        let model = try vae(units: 64, epochs: 1000)
        let total = 300
        let straight = try GencBinary.run(["run", model, "--out", dir + "/straight", "--steps", String(total), "--threads", "1", "--progress", "none"], timeout: 300)
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let checkpoint = dir + "/kill/checkpoint.safetensors"
        var lastStep = 0
        var rng = SystemRandomNumberGenerator()
        func stamp() -> String {
            guard let a = try? FileManager.default.attributesOfItem(atPath: checkpoint) else { return "" }
            return "\(a[.systemFileNumber] ?? 0)-\(a[.modificationDate] ?? 0)"
        }
        for round in 0..<20 where lastStep < total {
            let before = stamp()
            let p = Process()
            p.executableURL = GencBinary.url
            p.arguments = ["run", model, "--out", dir + "/kill", "--steps", String(total), "--checkpoint-every", "1", "--threads", "1", "--progress", "none"]
                + (round == 0 ? [] : ["--resume", checkpoint])
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Once this process has written a checkpoint of its own, kill it at a random moment.
            let start = Date()
            while stamp() == before, p.isRunning, Date().timeIntervalSince(start) < 60 { usleep(2000) }
            usleep(UInt32.random(in: 0...150_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let file = try SafeTensors.read(path: checkpoint)
            let step = try XCTUnwrap(Int(file.metadata["step"] ?? ""), "round \(round)")
            XCTAssertGreaterThanOrEqual(step, lastStep, "round \(round)")
            XCTAssertEqual(file["run.loss.elbo"]?.shape, [step], "round \(round)")
            lastStep = step
        }
        XCTAssertLessThan(lastStep, total, "every round should have been killed before the end")
        let r = try GencBinary.run(["run", model, "--out", dir + "/kill", "--resume", checkpoint, "--steps", String(total), "--threads", "1", "--progress", "none"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("resuming at step \(lastStep) of \(total)"), r.stderr)
        let a = try SafeTensors.read(path: dir + "/straight/checkpoint.safetensors")
        let b = try SafeTensors.read(path: checkpoint)
        XCTAssertEqual(a.tensors.map(\.name).sorted(), b.tensors.map(\.name).sorted())
        for (name, t) in a.tensors { XCTAssertEqual(b[name], t, name) }
    }

    /// SIGTERM is Ctrl-C's twin: a checkpoint, the command to continue, exit 143.
    func testSIGTERMWritesACheckpointAndExits143() throws {
        let model = try vae(epochs: 100_000)
        let p = Process()
        p.executableURL = GencBinary.url
        p.arguments = ["run", model, "--out", dir + "/term", "--threads", "1", "--progress", "none", "--checkpoint-every", "5"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let start = Date()
        while !FileManager.default.fileExists(atPath: dir + "/term/checkpoint.safetensors"), Date().timeIntervalSince(start) < 60 { usleep(5000) }
        kill(p.processIdentifier, SIGTERM)
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 143, out)
        XCTAssertTrue(out.contains("interrupted by SIGTERM at step"), out)
        let file = try SafeTensors.read(path: dir + "/term/checkpoint.safetensors")
        let step = try XCTUnwrap(Int(file.metadata["step"] ?? ""))
        XCTAssertGreaterThanOrEqual(step, 5)
        XCTAssertEqual(file["run.loss.elbo"]?.shape, [step])
        // Nothing half-written is left beside it.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir + "/term").filter { $0.contains(".tmp-") }
        XCTAssertEqual(left, [])
    }
}
