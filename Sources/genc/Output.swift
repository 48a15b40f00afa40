#if canImport(Glibc)
import Glibc
#endif
import Genc
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

    /// Renders diagnostics, then a count line when there are errors.
    static func diagnostics(_ ds: [Diagnostic]) {
        guard !ds.isEmpty else { return }
        stderr(DiagnosticRenderer().render(ds))
        let errors = ds.filter { $0.severity == .error }.count
        if errors > 0 { stderr("\(errors) error\(errors == 1 ? "" : "s") generated.\n") }
    }
}
