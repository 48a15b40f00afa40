#if canImport(Glibc)
import Glibc
#endif
import GencKernels

/// The thread count: all cores by default (`--threads N` to choose).
enum Threads {
    static var available: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// BLAS uses the same count as genc's own parallel loops.
    static func configure(_ n: Int) { setOpenBLASThreadCount(n) }
}
