import Foundation

/// Runs the built `genc` executable, as a user would, with a time limit.
public enum GencBinary {
    /// `.build/<config>/genc`, next to the test bundle.
    public static var url: URL {
        var dir = Bundle.main.bundleURL
        if dir.pathExtension == "xctest" { dir = dir.deletingLastPathComponent() }
        for candidate in [dir, Bundle.main.bundleURL.deletingLastPathComponent()] {
            let u = candidate.appendingPathComponent("genc")
            if FileManager.default.isExecutableFile(atPath: u.path) { return u }
        }
        return dir.appendingPathComponent("genc")
    }

    public struct Outcome {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var seconds: Double
        public var timedOut: Bool
        /// The child's peak resident set (VmHWM), as last sampled while it
        /// ran (every 20 ms; a peak in its last moments can be missed).
        public var peakResidentBytes: Int
        /// Ended by a signal (`status` is then the signal's number, not an exit status).
        public var signaled: Bool
    }

    /// VmHWM of `pid` from /proc, in bytes (0 once the process is gone).
    static func peakResident(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb * 1024
    }

    /// Runs genc with `arguments`; kills it after `timeout` seconds.
    public static func run(_ arguments: [String], timeout: Double = 20, environment: [String: String]? = nil) throws -> Outcome {
        let p = Process()
        p.executableURL = url
        p.arguments = arguments
        if let environment { p.environment = environment }
        // Output goes to files, so a chatty process can never block on a full pipe.
        let tmp = FileManager.default.temporaryDirectory
        let outURL = tmp.appendingPathComponent("genc-out-\(UUID().uuidString)")
        let errURL = tmp.appendingPathComponent("genc-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        let start = Date()
        try p.run()
        var timedOut = false
        var peak = 0, polls = 0
        while p.isRunning {
            if polls % 10 == 0 { peak = max(peak, peakResident(p.processIdentifier)) }
            polls += 1
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                p.terminate()
                break
            }
            usleep(2000)
        }
        p.waitUntilExit()
        try? out.close()
        try? err.close()
        let outData = (try? Data(contentsOf: outURL)) ?? Data()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self), seconds: Date().timeIntervalSince(start), timedOut: timedOut,
                       peakResidentBytes: peak, signaled: p.terminationReason == .uncaughtSignal)
    }
}
