#if canImport(Glibc)
import Glibc
#endif

/// Live progress on stderr: on a terminal, one bar redrawn in place at most
/// ten times a second; otherwise a plain line about every 5% of the run (and
/// at least once a minute), so logs of CI or `nohup` stay readable. Losses
/// shown are running averages (exponential, factor 0.98, bias-corrected), the
/// same smoothing as the reference figures' "running training loss".
struct Progress {
    let style: RunOptions.ProgressStyle
    let names: [String]
    let total: Int
    let start: Int
    let startTime: Double
    private var average: [Double]
    private var weight = 0.0
    private var lastDraw = 0.0
    private var lastLineStep: Int
    private let lineEvery: Int

    init(style: RunOptions.ProgressStyle, names: [String], start: Int, total: Int) {
        self.style = style
        self.names = names
        self.start = start
        self.total = total
        startTime = Progress.now()
        average = Array(repeating: 0, count: names.count)
        lastLineStep = start
        lineEvery = max(1, (total - start) / 20)
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// The running loss of each objective.
    var running: [Double] { weight > 0 ? average.map { $0 / weight } : average }

    /// Records the losses of step `step` (0-based; `step + 1` steps are done).
    mutating func record(step: Int, losses: [Float]) {
        weight = 0.98 * weight + 0.02
        for i in losses.indices where i < average.count { average[i] = 0.98 * average[i] + 0.02 * Double(losses[i]) }
        let done = step + 1
        let t = Progress.now()
        switch style {
        case .quiet: return
        case .bar:
            if t - lastDraw >= 0.1 || done == total {
                lastDraw = t
                draw(done: done, time: t)
            }
        case .lines:
            if done - lastLineStep >= lineEvery || done == total || t - lastDraw >= 60 {
                lastDraw = t
                lastLineStep = done
                fputs(line(done: done, time: t) + "\n", stderr)
            }
        }
    }

    /// Clears the bar before other output (epoch messages, the summary).
    func clear() {
        if style == .bar { fputs("\r\u{1B}[K", stderr) }
    }

    func rate(done: Int, time: Double) -> Double {
        let elapsed = time - startTime
        return elapsed > 0 ? Double(done - start) / elapsed : 0
    }

    func line(done: Int, time: Double) -> String {
        let r = rate(done: done, time: time)
        let losses = zip(names, running).map { "\($0) \(Progress.format($1))" }.joined(separator: "  ")
        let eta = r > 0 ? Progress.duration(Double(total - done) / r) : "?"
        return "step \(done)/\(total)  \(losses)  \(Progress.fixed(r, 1)) steps/s  ETA \(eta)"
    }

    func draw(done: Int, time: Double) {
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : width
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" + String(repeating: " ", count: width - filled - 1) : "")
        fputs("\r\u{1B}[K[\(bar)] " + line(done: done, time: time), stderr)
    }

    static func format(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        return abs(v) >= 100 ? fixed(v, 1) : fixed(v, 4)
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        // Beyond 1e15 a fixed-point figure means nothing (and would overflow Int).
        guard v.isFinite, abs(v) < 1e15 else { return "\(v)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (abs(v) * scale).rounded()
        let whole = Int(r / scale), frac = Int(r.truncatingRemainder(dividingBy: scale))
        let f = String(frac)
        let text = digits > 0 ? "\(whole).\(String(repeating: "0", count: digits - f.count))\(f)" : "\(whole)"
        return (v < 0 && r > 0 ? "-" : "") + text
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e12 else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format2(s % 60)))s" }
        return "\(s / 3600)h\(format2((s / 60) % 60))m"
    }

    static func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
