#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Genc
import GencLower
import GencSpec
import GencSupport

/// Where the CLI writes: people's output to stdout, diagnostics to stderr.
enum Output {
    static func stdout(_ s: String) {
        fputs(s, Glibc.stdout)
        fflush(Glibc.stdout)
    }

    static func stderr(_ s: String) {
        fputs(s, Glibc.stderr)
    }

    /// Prints a loaded model's diagnostics and returns its spec and
    /// programs; a model with errors ends the command (exit 1, or 64 when
    /// only the command line was wrong).
    static func loaded(_ result: FrontEnd.Result) throws -> (ModelSpec, LoweredModel) {
        diagnostics(result.diagnostics)
        if result.hasErrors { throw ExitCode(result.isUsageError ? 64 : 1) }
        guard let spec = result.spec, let lowered = result.lowered else { throw ExitCode(1) }
        return (spec, lowered)
    }

    /// Renders diagnostics, then a count line when there are errors.
    static func diagnostics(_ ds: [Diagnostic]) {
        guard !ds.isEmpty else { return }
        stderr(DiagnosticRenderer().render(ds))
        let errors = ds.filter { $0.severity == .error }.count
        if errors > 0 { stderr("\(errors) error\(errors == 1 ? "" : "s") generated.\n") }
    }
}
