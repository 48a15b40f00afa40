import Foundation
import Genc
import GencIR
import GencPlan
import GencRuntime
import GencSpec
import GencSupport
import GencSyntax
import GencTrain

/// libFuzzer entry point for every reader of outside bytes. The reader is
/// chosen by the environment variable GENC_FUZZ_TARGET (one binary, so one
/// build serves all; `scripts/fuzz.sh` sets it):
///
/// | target | the bytes are | through |
/// |---|---|---|
/// | model | a model YAML file | UTF-8 check, libyaml, validation, lowering, autodiff, passes, planning |
/// | expr | one expression | the expression lexer and parser |
/// | ir | text IR | the IR parser, the verifier, and a print/parse round trip |
/// | safetensors | a .safetensors file | the decoder, a re-encode, and the checkpoint reader |
/// | plan | a plan file | the decoder, the plan verifier, the model check, and each small plan run once |
/// | idx | an IDX image file (plain or gzip) | the MNIST / Fashion-MNIST reader |
/// | gzip | any file | the streaming gunzip reader (64 MiB at most) |
/// | cifar10 | a CIFAR-10 batch file | the CIFAR-10 reader |
/// | text | a text corpus file | the text loader and both encodings |
///
/// A crash, trap, hang, leak or runaway allocation here is a bug; a
/// diagnostic or a thrown error is the expected outcome for bad bytes.
///
///     GENC_FUZZ=1 swift build -c release --sanitize=fuzzer --product GencFuzz --scratch-path .build-fuzz
///     scripts/fuzz.sh model 60
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch FuzzTarget.current {
    case .model: FuzzTarget.model(bytes)
    case .expr: FuzzTarget.expr(bytes)
    case .ir: FuzzTarget.ir(bytes)
    case .safetensors: FuzzTarget.safetensors(bytes)
    case .plan: FuzzTarget.plan(bytes)
    case .idx: FuzzTarget.onFile(bytes) { _ = try? DataReaders.idxImages(path: $0) }
    case .gzip: FuzzTarget.onFile(bytes) { _ = try? DataReaders.gunzip(path: $0, limit: 64 << 20) }
    case .cifar10: FuzzTarget.onFile(bytes) { _ = try? DataReaders.cifar10(path: $0) }
    case .text:
        FuzzTarget.onFile(bytes) { path in
            for e in DatasetSpec.TextEncoding.allCases { _ = try? DataReaders.text(path: path, encoding: e) }
        }
    }
    return 0
}

enum FuzzTarget: String, CaseIterable {
    case model, expr, ir, safetensors, plan, idx, gzip, cifar10, text

    static let current: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["GENC_FUZZ_TARGET"] ?? ""
        guard let t = FuzzTarget(rawValue: name) else {
            let all = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            fputs("GencFuzz: set GENC_FUZZ_TARGET to one of: \(all) (got '\(name)')\n", stderr)
            exit(2)
        }
        return t
    }()

    static func model(_ bytes: [UInt8]) {
        guard case let .success(file) = SourceLoader.decode(path: "fuzz.yaml", bytes: bytes) else { return }
        let result = FrontEnd.load(file: file)
        _ = DiagnosticRenderer().render(result.diagnostics)
    }

    static func expr(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        let file = SourceFile(path: "fuzz.yaml", text: text)
        let scalar = YAMLScalar(value: text, style: .plain, sourceStart: 0, sourceEnd: text.unicodeScalars.count)
        if case let .failure(d) = ExprParser.parse(scalar, in: file) { _ = DiagnosticRenderer().render([d]) }
    }

    static func ir(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self),
              let graph = try? IRParser.parse(text), Verifier.verify(graph).isEmpty else { return }
        // A verified graph prints and parses back to the same text.
        let printed = IRText.print(graph)
        guard let again = try? IRParser.parse(printed), IRText.print(again) == printed else {
            fatalError("IR print/parse round trip differs for:\n\(printed)")
        }
        _ = IRJSON.value(graph).serialized()
        _ = IRDot.print(graph)
    }

    static func safetensors(_ bytes: [UInt8]) {
        guard let file = try? SafeTensors.decode(bytes) else { return }
        // What decodes re-encodes and decodes to the same tensors.
        guard (try? file.validate()) != nil else { fatalError("a decoded safetensors file does not validate") }
        guard let again = try? SafeTensors.decode(file.encode()), again.metadata == file.metadata,
              again.tensors.count == file.tensors.count,
              file.tensors.allSatisfy({ again[$0.name] == $0.tensor }) else {
            fatalError("safetensors encode/decode round trip differs")
        }
        _ = try? Checkpoint.read(file, path: "fuzz.safetensors")
    }

    static func plan(_ bytes: [UInt8]) {
        // The bytes as they are test the header; a mutated body rarely keeps
        // its checksum, so the body after the two header lines is also framed
        // afresh, as a hostile file would be.
        _ = PlanFileLoader.load(bytes: bytes, path: "fuzz.genc-plan")
        guard let first = bytes.firstIndex(of: 0x0A), let second = bytes[(first + 1)...].firstIndex(of: 0x0A) else { return }
        let loaded = PlanFileLoader.load(bytes: PlanFile.framed(Array(bytes[(second + 1)...])), path: "fuzz.genc-plan")
        _ = DiagnosticRenderer().render(loaded.diagnostics)
        guard let compiled = loaded.compiled else { return }
        // Each plan that verified and is small runs once: a plan file that
        // passes the checks must not make a kernel read or write out of bounds.
        for name in compiled.plans.keys.sorted() {
            guard let plan = compiled.plans[name], let estimate = try? MemoryEstimate(plans: [plan]),
                  estimate.totalBytes < 64 << 20 else { continue }
            let store = ParameterStore()
            guard let exe = try? Executable(plan: plan, store: store) else { continue }
            store.initialize(seed: 0)
            for i in plan.inputs {
                guard let t = exe.inputType(i.name) else { continue }
                if t.dtype == .i32 { try? exe.setInput(i.name, ints: [Int32](repeating: 0, count: t.elementCount)) }
            }
            try? exe.run(seed: 1)
        }
    }

    /// Runs `read` on the bytes written to a file of their own (the data
    /// readers take paths: they stream, and never hold a whole gzip file).
    static func onFile(_ bytes: [UInt8], _ read: (String) -> Void) {
        let path = scratchPath
        guard let f = fopen(path, "wb") else { fatalError("GencFuzz: cannot write \(path)") }
        if !bytes.isEmpty { fwrite(bytes, 1, bytes.count, f) }
        fclose(f)
        read(path)
    }

    static let scratchPath: String = {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        return "\(dir)/genc-fuzz-\(getpid()).bin"
    }()
}
