// The `shapes` dataset: procedural 1×28×28 images that need nothing
// installed. Image i of a split is a pure function of (split, i): one shape —
// filled square, disc, triangle, cross, ring, horizontal or vertical bar — of
// random size, position and brightness on black, drawn from its signed
// distance (anti-aliased over one pixel, or hard-edged).

import GencRuntime
import GencSpec

enum Shapes {
    static let trainCount = 12_000
    static let testCount = 2_000
    static let side = 28
    /// The base seed ("SHAPES"); each split derives its own from it, so test
    /// images are not train images.
    static let seed: UInt64 = 0x5348_4150_4553

    enum Kind: CaseIterable { case square, disc, triangle, cross, ring, horizontalBar, verticalBar }

    /// All images of `split`.
    static func images(_ split: DatasetSpec.Split) -> ImageSet {
        let count = split == .train ? trainCount : testCount
        let splitSeed = Seeds.derive(seed, "shapes.\(split.rawValue)")
        let n = side * side
        var pixels = [UInt8](repeating: 0, count: count * n)
        pixels.withUnsafeMutableBufferPointer { buf in
            for i in 0..<count {
                draw(seed: Seeds.derive(splitSeed, i), into: UnsafeMutableBufferPointer(rebasing: buf[(i * n)..<((i + 1) * n)]))
            }
        }
        return ImageSet(
            name: "shapes", count: count, channels: 1, height: side, width: side,
            pixels: pixels, source: "shapes (\(split.rawValue), built in)")
    }

    /// Draws one image into `image` (side × side bytes, all 0 on entry).
    static func draw(seed: UInt64, into image: UnsafeMutableBufferPointer<UInt8>) {
        // The k-th uniform draw in [0, 1).
        func u(_ k: Int) -> Double { Double(Seeds.derive(seed, k) >> 11) * 0x1p-53 }
        func uniform(_ k: Int, _ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * u(k) }

        let kind = Kind.allCases[Int(Seeds.derive(seed, 0) % UInt64(Kind.allCases.count))]
        let r = uniform(1, 4, 10)
        let thin = max(1.5, 0.3 * r)  // half-thickness of arms and bars
        let ringHalf = max(1.0, 0.2 * r)
        let pointsDown = u(2) < 0.5
        let antialiased = u(3) < 0.5
        let brightness = uniform(4, 150, 255)

        // Half-extents of the shape's bounding box around its centre.
        let (ex, ey): (Double, Double)
        switch kind {
        case .square, .disc, .cross: (ex, ey) = (r, r)
        case .triangle: (ex, ey) = (r, 2 * r / 3.0.squareRoot())
        case .ring: (ex, ey) = (r + ringHalf, r + ringHalf)
        case .horizontalBar: (ex, ey) = (r, thin)
        case .verticalBar: (ex, ey) = (thin, r)
        }
        let s = Double(side)
        let cx = uniform(5, ex + 1, max(ex + 1, s - ex - 1))
        let cy = uniform(6, ey + 1, max(ey + 1, s - ey - 1))

        func box(_ x: Double, _ y: Double, _ hx: Double, _ hy: Double) -> Double {
            let qx = abs(x) - hx, qy = abs(y) - hy
            let ox = max(qx, 0), oy = max(qy, 0)
            return (ox * ox + oy * oy).squareRoot() + min(max(qx, qy), 0)
        }
        /// The signed distance (pixels; negative inside) from the centre-relative point (x, y).
        func distance(_ x: Double, _ y: Double) -> Double {
            switch kind {
            case .square: return box(x, y, r, r)
            case .disc: return (x * x + y * y).squareRoot() - r
            case .ring: return abs((x * x + y * y).squareRoot() - r) - ringHalf
            case .cross: return min(box(x, y, r, thin), box(x, y, thin, r))
            case .horizontalBar: return box(x, y, r, thin)
            case .verticalBar: return box(x, y, thin, r)
            case .triangle:
                // Equilateral, side 2r, centroid at the origin (Inigo Quilez's
                // sdEquilateralTriangle, y up).
                let k = 3.0.squareRoot()
                var px = abs(x) - r, py = (pointsDown ? y : -y) + r / k
                if px + k * py > 0 { (px, py) = ((px - k * py) / 2, (-k * px - py) / 2) }
                px -= min(max(px, -2 * r), 0)
                let d = (px * px + py * py).squareRoot()
                return py < 0 ? d : -d
            }
        }

        let x0 = max(0, Int(cx - ex - 2)), x1 = min(side - 1, Int(cx + ex + 2))
        let y0 = max(0, Int(cy - ey - 2)), y1 = min(side - 1, Int(cy + ey + 2))
        for y in y0...y1 {
            for x in x0...x1 {
                let d = distance(Double(x) + 0.5 - cx, Double(y) + 0.5 - cy)
                let coverage = antialiased ? min(max(0.5 - d, 0), 1) : (d <= 0 ? 1 : 0)
                image[y * side + x] = UInt8((coverage * brightness).rounded())
            }
        }
    }
}
