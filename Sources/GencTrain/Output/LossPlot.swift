// The loss plot a training run leaves behind (loss.svg): each loss against
// the global step, raw and smoothed, as one standalone SVG file that stays
// small however long the run.
//
// Decisions, all visible in the picture:
// - Bucketing: the raw line is drawn as its min/max envelope, at most
//   `envelopeBuckets` buckets of consecutive points, each giving its minimum
//   and maximum in step order (≤ 750 points); spikes survive, which a mean
//   would hide. The smoothed line is the mean (step, value) of at most
//   `smoothedPoints` buckets (≤ 250 points). So ≤ 1,000 points a series.
// - Smoothing: an exponential moving average over the series' finite
//   values, sᵢ = sᵢ₋₁ + (xᵢ − sᵢ₋₁) / min(τ, i + 1), τ = max(1, n/100)
//   points: past the first τ points that is sᵢ = β·sᵢ₋₁ + (1 − β)·xᵢ with
//   β = 1 − 1/τ, and before it the running mean, so the first value (often
//   a spike) does not drag the curve for τ steps as s₀ = x₀ would. The time
//   constant is 1% of the run (β = 0.99 for 10,000 points), so the curve
//   looks alike for short and long runs; up to 100 points it is the raw line.
// - Y range: per series, the 1st to 99th percentile (nearest rank) of its
//   finite values; the axis spans the union, padded 5% each side. One early
//   spike thus does not flatten the curve; values beyond it are drawn at the
//   edge and counted in a note. Series of up to 100 points are not trimmed.
//   If that range is empty (e.g. 99% of values equal) the full min...max is
//   used; all-equal values get ±10% (±1 around 0).
// - Palette: Okabe & Ito's colour-blind-safe eight, yellow last (it is
//   faint on white), cycled.

import Foundation

/// Loss curves as a standalone SVG document.
public enum LossPlot {
    /// One loss: `values[i]` at global step `steps[i]` (extra entries of the
    /// longer array are ignored).
    public struct Series {
        public var name: String
        public var steps: [Int]
        public var values: [Double]

        public init(name: String, steps: [Int], values: [Double]) {
            self.name = name
            self.steps = steps
            self.values = values
        }
    }

    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
    static let envelopeBuckets = 375
    static let smoothedPoints = 250

    // MARK: - Document

    /// A standalone SVG document (viewBox 800×400, no external resources)
    /// plotting each series' loss against the global step: axes with round
    /// tick labels, a legend, one colour per series, the raw values as a thin
    /// light line under the smoothed one. Non-finite values are skipped and
    /// counted in the legend ("g_loss (3 non-finite)"). Empty series, one
    /// point and constant values still give a valid document; text is
    /// XML-escaped. See the file header for bucketing, smoothing and range.
    public static func svg(_ series: [Series], title: String) -> String {
        let curves = series.map(Curve.init)
        let frame = Frame(curves)
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Frame.width) \(Frame.height)" \
            width="\(Frame.width)" height="\(Frame.height)" font-family="sans-serif" font-size="12">
            <title>\(xml(title))</title>
            <rect width="\(Frame.width)" height="\(Frame.height)" fill="#ffffff"/>
            <text x="\(Frame.width / 2)" y="22" text-anchor="middle" font-size="15">\(xml(title))</text>

            """
        out += frame.axes()
        if curves.allSatisfy({ $0.points.isEmpty }) {
            out += "<text x=\"\(num((Frame.left + Frame.right) / 2))\" y=\"\(num((Frame.top + Frame.bottom) / 2))\" "
                + "text-anchor=\"middle\" fill=\"#888888\">no data</text>\n"
        }
        // All raw lines first, so no series' smoothed line hides under another's raw one.
        for (k, curve) in curves.enumerated() where curve.points.count > 1 {
            out += polyline(envelope(curve.points, buckets: envelopeBuckets), frame, colour(k), width: 0.8, opacity: 0.35)
        }
        for (k, curve) in curves.enumerated() {
            if curve.points.count == 1, let p = curve.points.first {
                out += "<circle cx=\"\(num(frame.x(p.step)))\" cy=\"\(num(frame.y(p.value)))\" r=\"3\" fill=\"\(colour(k))\"/>\n"
            } else if curve.points.count > 1 {
                out += polyline(means(curve.smoothed, buckets: smoothedPoints), frame, colour(k), width: 1.8, opacity: 1)
            }
        }
        out += legend(curves)
        if frame.offScale > 0 {
            let n = frame.offScale
            out += "<text x=\"\(num(Frame.right))\" y=\"\(num(Frame.top - 6))\" text-anchor=\"end\" font-size=\"10\" fill=\"#666666\">"
                + "\(n) value\(n == 1 ? "" : "s") beyond the y axis (1st–99th percentile), drawn at the edge</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    // MARK: - Series data

    /// A series' finite points in step order, their smoothed values, and how
    /// many values were skipped.
    struct Curve {
        var name: String
        var points: [(step: Double, value: Double)]
        var smoothed: [(step: Double, value: Double)]
        var nonFinite: Int

        init(_ series: Series) {
            name = series.name
            var points: [(step: Double, value: Double)] = []
            var nonFinite = 0
            for (step, value) in zip(series.steps, series.values) {
                if value.isFinite { points.append((Double(step), value)) } else { nonFinite += 1 }
            }
            if !zip(points, points.dropFirst()).allSatisfy({ $0.step <= $1.step }) {
                // Stable, so equal steps keep their order.
                points = points.enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }.map(\.element)
            }
            self.points = points
            self.nonFinite = nonFinite
            let tau = max(1, Double(points.count) / 100)
            var s = 0.0
            smoothed = points.enumerated().map { i, p in
                s += (p.value - s) / min(tau, Double(i + 1))
                return (p.step, s)
            }
        }

        var label: String {
            if points.isEmpty && nonFinite == 0 { return "\(name) (no data)" }
            return nonFinite > 0 ? "\(name) (\(nonFinite) non-finite)" : name
        }
    }

    /// At most 2·`buckets` points: each bucket of consecutive points gives
    /// its minimum and maximum, in step order.
    static func envelope(_ points: [(step: Double, value: Double)], buckets: Int) -> [(step: Double, value: Double)] {
        let n = points.count
        guard n > 2 * buckets else { return points }
        var out: [(step: Double, value: Double)] = []
        out.reserveCapacity(2 * buckets)
        for b in 0..<buckets {
            let start = b * n / buckets, end = (b + 1) * n / buckets
            var low = start, high = start
            for i in start..<end {
                if points[i].value < points[low].value { low = i }
                if points[i].value > points[high].value { high = i }
            }
            out.append(points[min(low, high)])
            if low != high { out.append(points[max(low, high)]) }
        }
        return out
    }

    /// At most `buckets` points: the mean step and value of each bucket of consecutive points.
    static func means(_ points: [(step: Double, value: Double)], buckets: Int) -> [(step: Double, value: Double)] {
        let n = points.count
        guard n > buckets else { return points }
        return (0..<buckets).map { b in
            let start = b * n / buckets, end = (b + 1) * n / buckets
            var step = 0.0, value = 0.0
            for i in start..<end { step += points[i].step; value += points[i].value }
            let count = Double(end - start)
            return (step / count, value / count)
        }
    }

    // MARK: - Drawing

    static func colour(_ k: Int) -> String { palette[k % palette.count] }

    static func polyline(_ points: [(step: Double, value: Double)], _ frame: Frame, _ colour: String,
                         width: Double, opacity: Double) -> String {
        let coordinates = points.map { "\(num(frame.x($0.step))),\(num(frame.y($0.value)))" }.joined(separator: " ")
        return "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"\(num(width))\" stroke-opacity=\"\(num(opacity))\" "
            + "stroke-linejoin=\"round\" points=\"\(coordinates)\"/>\n"
    }

    /// The legend: a swatch and a label per series, boxed at the plot's top right.
    static func legend(_ curves: [Curve]) -> String {
        guard !curves.isEmpty else { return "" }
        let labels = curves.map(\.label)
        // About 6.6 pixels a character at 12px sans-serif: enough to size the box.
        let longest = labels.map(\.count).max() ?? 0
        let boxWidth = min(Frame.right - Frame.left - 16, 40 + 6.6 * Double(longest))
        let boxHeight = 8 + 16 * Double(curves.count)
        let x0 = Frame.right - 8 - boxWidth, y0 = Frame.top + 8
        var out = "<g>\n<rect x=\"\(num(x0))\" y=\"\(num(y0))\" width=\"\(num(boxWidth))\" height=\"\(num(boxHeight))\" "
            + "fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n"
        for (k, label) in labels.enumerated() {
            let y = y0 + 12 + 16 * Double(k)
            out += "<line x1=\"\(num(x0 + 8))\" y1=\"\(num(y))\" x2=\"\(num(x0 + 28))\" y2=\"\(num(y))\" stroke=\"\(colour(k))\" stroke-width=\"2.5\"/>\n"
            out += "<text x=\"\(num(x0 + 34))\" y=\"\(num(y + 4))\">\(xml(label))</text>\n"
        }
        return out + "</g>\n"
    }

    // MARK: - Text

    /// `text` safe inside XML character data and attribute values: the five
    /// markup characters as entities, characters XML 1.0 forbids (controls,
    /// U+FFFE, U+FFFF) as U+FFFD, line breaks and tabs as spaces.
    static func xml(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for u in text.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += " "
            case _ where u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF: out += "\u{FFFD}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// A coordinate with at most one decimal ("12", "12.5", "-3.1"); values
    /// are within the document, clamped here so no conversion can trap.
    static func num(_ v: Double) -> String {
        let tenths = Int((min(1e6, max(-1e6, v.isNaN ? 0 : v)) * 10).rounded())
        let sign = tenths < 0 ? "-" : "", a = abs(tenths)
        return a % 10 == 0 ? "\(sign)\(a / 10)" : "\(sign)\(a / 10).\(a % 10)"
    }
}

// MARK: - Axes

extension LossPlot {
    /// The plot area in document coordinates and the data ranges it shows.
    struct Frame {
        static let width = 800, height = 400
        static let left = 70.0, right = 780.0, top = 40.0, bottom = 350.0

        var xLow = 0.0, xHigh = 1.0, yLow = 0.0, yHigh = 1.0
        /// Finite raw values outside yLow...yHigh.
        var offScale = 0

        /// Ranges over all series: x from the first to the last step, y the
        /// robust range of the file header.
        init(_ curves: [Curve]) {
            let filled = curves.filter { !$0.points.isEmpty }
            guard !filled.isEmpty else { return }
            var xl = Double.infinity, xh = -Double.infinity
            var robustLow = Double.infinity, robustHigh = -Double.infinity
            var fullLow = Double.infinity, fullHigh = -Double.infinity
            for curve in filled {
                xl = min(xl, curve.points[0].step)
                xh = max(xh, curve.points[curve.points.count - 1].step)
                let sorted = curve.points.map(\.value).sorted()
                let n = sorted.count
                // Nearest rank: the ⌈n/100⌉-th and ⌈99n/100⌉-th smallest.
                robustLow = min(robustLow, sorted[(n + 99) / 100 - 1])
                robustHigh = max(robustHigh, sorted[(99 * n + 99) / 100 - 1])
                fullLow = min(fullLow, sorted[0])
                fullHigh = max(fullHigh, sorted[n - 1])
            }
            if xh > xl { (xLow, xHigh) = (xl, xh) } else { (xLow, xHigh) = (xl - 1, xl + 1) }
            var (low, high) = robustHigh > robustLow ? (robustLow, robustHigh) : (fullLow, fullHigh)
            // Keep the span finite for values near ±Double.greatestFiniteMagnitude.
            low = max(low, -1e300)
            high = min(high, 1e300)
            if high > low {
                let pad = (high - low) * 0.05
                (yLow, yHigh) = (low - pad, high + pad)
            } else {
                let d = low == 0 ? 1 : abs(low) * 0.1
                (yLow, yHigh) = (low - d, low + d)
            }
            offScale = filled.reduce(0) { sum, curve in
                sum + curve.points.reduce(0) { $0 + ($1.value < yLow || $1.value > yHigh ? 1 : 0) }
            }
        }

        /// The document x of `step`.
        func x(_ step: Double) -> Double {
            Frame.left + (step - xLow) / (xHigh - xLow) * (Frame.right - Frame.left)
        }

        /// The document y of `value`, clamped into the plot area.
        func y(_ value: Double) -> Double {
            let y = Frame.bottom - (value - yLow) / (yHigh - yLow) * (Frame.bottom - Frame.top)
            return y.isNaN ? Frame.bottom : min(Frame.bottom, max(Frame.top, y))
        }

        /// Grid lines, ticks with labels, the frame and the axis names.
        func axes() -> String {
            typealias L = LossPlot
            var grid = "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n"
            var labels = "<g fill=\"#333333\" font-size=\"11\">\n"
            let xt = Frame.ticks(xLow, xHigh, integer: true)
            for v in xt.values {
                let px = L.num(x(v))
                grid += "<line x1=\"\(px)\" y1=\"\(L.num(Frame.top))\" x2=\"\(px)\" y2=\"\(L.num(Frame.bottom))\"/>\n"
                labels += "<text x=\"\(px)\" y=\"\(L.num(Frame.bottom + 16))\" text-anchor=\"middle\">\(Frame.label(v, step: xt.step))</text>\n"
            }
            let yt = Frame.ticks(yLow, yHigh, integer: false)
            for v in yt.values {
                let py = L.num(y(v))
                grid += "<line x1=\"\(L.num(Frame.left))\" y1=\"\(py)\" x2=\"\(L.num(Frame.right))\" y2=\"\(py)\"/>\n"
                labels += "<text x=\"\(L.num(Frame.left - 6))\" y=\"\(py)\" dy=\"4\" text-anchor=\"end\">\(Frame.label(v, step: yt.step))</text>\n"
            }
            let frame = "<rect x=\"\(L.num(Frame.left))\" y=\"\(L.num(Frame.top))\" width=\"\(L.num(Frame.right - Frame.left))\" "
                + "height=\"\(L.num(Frame.bottom - Frame.top))\" fill=\"none\" stroke=\"#333333\"/>\n"
            let names = "<text x=\"\(L.num((Frame.left + Frame.right) / 2))\" y=\"\(L.num(Frame.bottom + 36))\" text-anchor=\"middle\">step</text>\n"
                + "<text x=\"18\" y=\"\(L.num((Frame.top + Frame.bottom) / 2))\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 18 \(L.num((Frame.top + Frame.bottom) / 2)))\">loss</text>\n"
            return grid + "</g>\n" + labels + "</g>\n" + frame + names
        }

        /// Round tick values (1, 2 or 5 × 10ᵏ apart, about `target` of them)
        /// within low...high; steps of at least 1 when `integer`.
        static func ticks(_ low: Double, _ high: Double, target: Double = 6, integer: Bool) -> (values: [Double], step: Double) {
            let span = high - low
            guard span > 0, span.isFinite else { return ([], 1) }
            let raw = span / target
            let magnitude = pow(10, log10(raw).rounded(.down))
            let normal = raw / magnitude
            var step = (normal < 1.5 ? 1 : normal < 3 ? 2 : normal < 7 ? 5 : 10) * magnitude
            if integer { step = max(1, step) }
            guard step > 0, step.isFinite else { return ([], 1) }
            var values: [Double] = []
            var k = (low / step).rounded(.up)
            while values.count < 50 {
                let v = k * step
                if v > high + step * 1e-9 { break }
                values.append(v)
                k += 1
            }
            return (values, step)
        }

        /// A tick label with as many decimals as the tick spacing needs;
        /// `%.4g` for very large or very fine values.
        static func label(_ v: Double, step: Double) -> String {
            let v = v == 0 ? 0 : v  // no "-0"
            let decimals = max(0, -Int((log10(step) + 1e-9).rounded(.down)))
            if decimals > 6 || abs(v) >= 1e7 { return String(format: "%.4g", v) }
            return String(format: "%.\(decimals)f", v)
        }
    }
}
