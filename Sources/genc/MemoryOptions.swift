#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import Genc

/// `--max-memory`: the most bytes a verb may allocate for a model. The
/// default is what this process can really get: the machine's available
/// memory (`MemAvailable`), or the address-space limit (`ulimit -v`) less
/// what the process already maps, whichever is smaller. Only the CLI reads
/// the system; the library takes the limit as a value.
struct MemoryOptions: ParsableArguments {
    @Option(name: .customLong("max-memory"),
            help: ArgumentHelp("Refuse a model that needs more than this many bytes (e.g. 8G, 512M, 1000000; default: the memory available).",
                               valueName: "BYTES"))
    var maxMemory: String?

    func validate() throws {
        if let m = maxMemory, Self.parse(m) == nil {
            throw ValidationError("--max-memory expects a positive byte count such as 8G, 512M or 1000000, got '\(m)'")
        }
    }

    /// `8G`, `512M`, `64k`, `1000000`, `1.5G` (powers of 1024; a trailing `B` or `iB` is allowed).
    static func parse(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
        let scale: Double
        switch s.last {
        case "K": scale = 0x1p10
        case "M": scale = 0x1p20
        case "G": scale = 0x1p30
        case "T": scale = 0x1p40
        default: scale = 1
        }
        if scale > 1 { s.removeLast() }
        guard let v = Double(s), v.isFinite, v > 0, v * scale < 0x1p62 else { return nil }
        let bytes = Int(v * scale)
        return bytes >= 1 ? bytes : nil
    }

    var limit: MemoryEstimate.Limit {
        if let m = maxMemory, let bytes = Self.parse(m) { return MemoryEstimate.Limit(bytes: bytes, source: "--max-memory") }
        return Self.available()
    }

    /// What this process can allocate now.
    static func available() -> MemoryEstimate.Limit {
        var best = MemoryEstimate.Limit(bytes: Int.max, source: "no known limit")
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            best = MemoryEstimate.Limit(bytes: kb * 1024, source: "the memory available on this machine")
        }
        var r = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &r) == 0, r.rlim_cur != rlim_t.max {
            let mapped = Self.mappedBytes()
            let left = Int(clamping: r.rlim_cur) - mapped
            if left < best.bytes { best = MemoryEstimate.Limit(bytes: max(left, 0), source: "the address-space limit (ulimit -v) less what genc already maps") }
        }
        return best
    }

    /// The process's current virtual size (`VmSize`).
    static func mappedBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmSize:") }),
              let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return kb * 1024
    }
}
