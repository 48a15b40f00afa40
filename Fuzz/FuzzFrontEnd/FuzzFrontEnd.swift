import Genc
import GencSupport

/// libFuzzer entry point: any bytes as a model file, through the whole front
/// end (UTF-8 check, libyaml, validation, lowering and shape checking).
/// A crash, trap, hang or leak here is a bug; diagnostics are the expected outcome.
///
///     GENC_FUZZ=1 swift build -c release --sanitize=fuzzer --product FuzzFrontEnd
///     .build/release/FuzzFrontEnd -max_total_time=300 -timeout=10 Fuzz/corpus models
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrontEnd(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard case let .success(file) = SourceLoader.decode(path: "fuzz.yaml", bytes: bytes) else { return 0 }
    let result = FrontEnd.load(file: file)
    _ = DiagnosticRenderer().render(result.diagnostics)
    return 0
}
