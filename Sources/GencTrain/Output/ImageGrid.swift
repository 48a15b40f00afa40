// From a model's float images (NCHW) to 8-bit pixels (HWC, interleaved) for
// PNG: one image, or a grid of them with background between the cells.

/// Float images to 8-bit pixels: one at a time, or tiled into a grid.
public enum ImageGrid {
    /// The value of background pixels (padding and empty cells): white, so
    /// that cells stay apart when the images themselves have dark borders
    /// (MNIST-like digits on black).
    static let background: UInt8 = 255

    // MARK: - Grid

    /// Tiles `count` images (NCHW floats, `channels` 1 or 3, each height×width)
    /// into a grid of rows×columns cells, row-major: image k at row k / columns,
    /// column k % columns. Cells past `count` stay background; images past
    /// rows*columns are not drawn. `padding` pixels (default 2) of background
    /// lie between cells and around the border, so the result is
    /// (columns·width + (columns+1)·padding) wide and
    /// (rows·height + (rows+1)·padding) high, pixels interleaved
    /// (`channels` bytes per pixel), ready for `PNG.encode`.
    ///
    /// Values map linearly from range.low...range.high onto 0...255, rounded,
    /// clamped; NaN maps to 0 (see `Mapping`). Images that `images` does not
    /// fully hold are not drawn; negative sizes count as 0.
    public static func compose(_ images: UnsafeBufferPointer<Float>, count: Int, channels: Int, height: Int, width: Int,
                               rows: Int, columns: Int, range: (low: Double, high: Double), padding: Int = 2)
        -> (pixels: [UInt8], width: Int, height: Int, channels: Int) {
        let c = max(0, channels), h = max(0, height), w = max(0, width)
        let r = max(0, rows), cols = max(0, columns), pad = max(0, padding)
        let outWidth = cols * w + (cols + 1) * pad
        let outHeight = r * h + (r + 1) * pad
        var pixels = [UInt8](repeating: background, count: outWidth * outHeight * c)
        let per = c * h * w
        let drawn = per == 0 ? 0 : min(max(0, count), r * cols, images.count / per)
        let map = Mapping(range)
        pixels.withUnsafeMutableBufferPointer { out in
            for k in 0..<drawn {
                let top = pad + (k / cols) * (h + pad)
                let left = pad + (k % cols) * (w + pad)
                for y in 0..<h {
                    let row = ((top + y) * outWidth + left) * c
                    for ch in 0..<c {
                        let src = k * per + (ch * h + y) * w
                        for x in 0..<w { out[row + x * c + ch] = map.byte(images[src + x]) }
                    }
                }
            }
        }
        return (pixels, outWidth, outHeight, c)
    }

    // MARK: - One image

    /// One image (CHW floats) as height×width pixels of `channels` bytes
    /// each, interleaved, for `PNG.encode`; the same mapping as `compose`.
    /// Values `image` does not hold come out 0.
    public static func single(_ image: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int,
                              range: (low: Double, high: Double)) -> [UInt8] {
        let c = max(0, channels), h = max(0, height), w = max(0, width)
        var pixels = [UInt8](repeating: 0, count: c * h * w)
        let map = Mapping(range)
        let plane = h * w
        pixels.withUnsafeMutableBufferPointer { out in
            for ch in 0..<c {
                for i in 0..<plane where ch * plane + i < image.count {
                    out[i * c + ch] = map.byte(image[ch * plane + i])
                }
            }
        }
        return pixels
    }

    // MARK: - Value mapping

    /// low...high onto 0...255: (v − low) / (high − low) · 255, rounded to
    /// nearest, clamped (±∞ clamp too); NaN is 0. A degenerate range (high ≤
    /// low, or either end not finite) is the limit of that map, a step:
    /// values above low are 255, the rest 0.
    struct Mapping {
        var low: Double
        /// 255 / (high − low), or nil for a degenerate range.
        var scale: Double?

        init(_ range: (low: Double, high: Double)) {
            low = range.low
            let span = range.high - range.low
            scale = range.low.isFinite && range.high.isFinite && span > 0 && span.isFinite ? 255 / span : nil
        }

        func byte(_ value: Float) -> UInt8 {
            let v = Double(value)
            guard let scale else { return v > low ? 255 : 0 }
            let t = (v - low) * scale
            if !(t > 0) { return 0 }  // also NaN
            if t >= 255 { return 255 }
            return UInt8(t.rounded())
        }
    }
}
