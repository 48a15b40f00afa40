#if canImport(Glibc)
import Glibc
#endif
import GencKernels

/// Debian's OpenBLAS picks a slow SSE3 kernel on CPUs it does not know, and
/// reads OPENBLAS_CORETYPE only when the library loads (TOOLCHAIN.md). So,
/// when the user has not set it, genc chooses the kernel from the CPU's
/// features and re-executes itself once with it set. Only the CLI reads the
/// environment; the library takes options as values.
enum OpenBLASSetup {
    static let marker = "GENC_OPENBLAS_CHOSEN"

    /// Re-executes the process with OPENBLAS_CORETYPE set, when it is unset
    /// and the CPU has a faster kernel. Returns if nothing needs doing or
    /// re-executing fails (genc then runs on the default kernel).
    static func ensureFastKernel() {
        guard getenv("OPENBLAS_CORETYPE") == nil, getenv(marker) == nil else { return }
        guard let info = try? readCPUInfo(), let core = recommendedOpenBLASCoreType(cpuInfo: info) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(marker, core, 1)
        var args = CommandLine.arguments.map { strdup($0) }
        args.append(nil)
        execv("/proc/self/exe", &args)
        // execv returned: it failed. Carry on with the default kernel.
        unsetenv("OPENBLAS_CORETYPE")
    }

    /// The kernels (GencKernels) are compiled for AVX2 and FMA (Package.swift).
    /// On a CPU without them the first kernel would die with SIGILL; this
    /// says so instead, before any kernel runs. The check is here, in a module
    /// built for the default target, so it cannot itself use those instructions.
    static func requireKernelInstructions() {
        #if arch(x86_64)
        guard let info = try? readCPUInfo() else { return }
        guard let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
        let missing = ["avx2", "fma"].filter { !flags.contains($0) }
        guard !missing.isEmpty else { return }
        let text = "genc: error: this CPU lacks \(missing.joined(separator: " and ")), which genc's kernels are compiled for "
            + "(Package.swift, -target-cpu haswell); build genc without that flag to run here\n"
        fputs(text, stderr)
        exit(1)
        #endif
    }

    static func readCPUInfo() throws -> String {
        guard let f = fopen("/proc/cpuinfo", "r") else { return "" }
        defer { fclose(f) }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
            if out.count > 1 << 20 { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A line for `--version` and verbose output: the kernel OpenBLAS uses and why.
    static var description: String {
        let core = openBLASCoreName()
        if let chosen = getenv(marker).map({ String(cString: $0) }) {
            return "OpenBLAS kernel \(core) (OPENBLAS_CORETYPE=\(chosen), chosen by genc from the CPU's features)"
        }
        if let set = getenv("OPENBLAS_CORETYPE").map({ String(cString: $0) }) {
            return "OpenBLAS kernel \(core) (OPENBLAS_CORETYPE=\(set), set by the user)"
        }
        return "OpenBLAS kernel \(core) (OpenBLAS's own choice)"
    }
}
