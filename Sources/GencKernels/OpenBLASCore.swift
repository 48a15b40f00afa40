// OpenBLASCore.swift — choosing and inspecting OpenBLAS's kernel and threads.
//
// Debian's OpenBLAS 0.3.21 does not recognise recent Intel CPUs and falls
// back to its SSE3 "Prescott" kernel, 4–6× slower than the AVX-512 one
// (TOOLCHAIN.md). The kernel is chosen when the library loads, from the
// environment variable OPENBLAS_CORETYPE, so the choice has to be made
// before the process starts: the CLI re-executes itself with the variable
// set. This file holds only the pure decision and the runtime queries; it
// reads no environment and no files (STYLE.md example 15).

import CBLAS

// MARK: - Kernel choice

/// The CPU feature flags in the first `flags` line of a `/proc/cpuinfo` text.
///
/// Returns an empty set when there is no such line (not Linux x86, or a
/// truncated file).
public func cpuFlags(fromCPUInfo text: String) -> Set<String> {
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let key = line[..<colon].trimmingWhitespace()
        guard key == "flags" else { continue }
        let values = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
        return Set(values.map(String.init))
    }
    return []
}

/// The `OPENBLAS_CORETYPE` this CPU should run, or nil to leave OpenBLAS's own choice.
///
/// `avx512f` → "SkylakeX", `avx2` → "Haswell", otherwise nil. Never names a
/// kernel the CPU cannot run (that would die with SIGILL). A value the user
/// already set in the environment should win over this suggestion; that is
/// the caller's decision.
public func recommendedOpenBLASCoreType(cpuFlags flags: Set<String>) -> String? {
    if flags.contains("avx512f") { return "SkylakeX" }
    if flags.contains("avx2") { return "Haswell" }
    return nil
}

/// `recommendedOpenBLASCoreType(cpuFlags:)` on a raw `/proc/cpuinfo` text.
public func recommendedOpenBLASCoreType(cpuInfo text: String) -> String? {
    recommendedOpenBLASCoreType(cpuFlags: cpuFlags(fromCPUInfo: text))
}

// MARK: - Runtime queries

/// The kernel OpenBLAS loaded, e.g. "SkylakeX" or "Prescott".
public func openBLASCoreName() -> String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
}

/// OpenBLAS's build configuration string (version, threading model, core).
public func openBLASConfig() -> String {
    guard let config = openblas_get_config() else { return "unknown" }
    return String(cString: config)
}

/// The number of threads OpenBLAS uses for one call.
public func openBLASThreadCount() -> Int {
    Int(openblas_get_num_threads())
}

/// Sets the number of threads OpenBLAS uses for one call (at least 1).
public func setOpenBLASThreadCount(_ count: Int) {
    openblas_set_num_threads(Int32(clamping: max(1, count)))
}

// MARK: - Helpers

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var s = self
        while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return s
    }
}
