#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import GencKernels

/// The thread count: all cores by default (`--threads N` to choose).
enum Threads {
    static var available: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// OpenBLAS runs single-threaded: genc splits GEMMs over its own
    /// workers (GEMM.swift, whose `sgemm` also makes sure of it), and
    /// OpenBLAS's threads, which spin after each call, would compete with
    /// them for the same cores.
    static func configure(_ n: Int) { setOpenBLASThreadCount(1) }
}

/// `--threads N`, shared by the verbs that run programs. Parsed
/// unconditionally so that `--threads -1` is reported as a bad count, not
/// as a missing value followed by an unknown flag.
struct ThreadOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads for BLAS and parallel loops (default: all cores).")
    var threads: Int = Threads.available

    func validate() throws {
        guard threads >= 1, threads <= 1024 else { throw ValidationError("--threads must be a whole number from 1 to 1024, got \(threads)") }
    }
}
