// 8-bit gray and RGB PNG through libpng's simplified API (`png_image`).
//
// libpng reports errors by longjmp, which must never cross Swift frames. The
// simplified API catches its own errors (its own setjmp inside libpng) and
// returns 0 with a message in `png_image.message`, so only it is used here;
// nothing below installs an error handler or calls the png_struct API.

import CPNG
import GencSupport

/// PNG encoding and decoding of 8-bit gray (1 channel) and RGB (3 channels) images.
public enum PNG {
    /// The largest decoded image `decode` allocates: 1 GiB of pixels, far
    /// above any grid genc writes; it keeps a hostile header from asking for
    /// terabytes.
    static let maxDecodedBytes = 1 << 30

    // MARK: - Encoding

    /// 8-bit PNG bytes of a gray (channels 1) or RGB (channels 3) image, rows
    /// top to bottom, interleaved (RGBRGB...), `pixels.count == width*height*channels`.
    /// RGB images are tagged sRGB (libpng's default for the simplified writer).
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) throws(OutputError) -> [UInt8] {
        guard channels == 1 || channels == 3 else {
            throw OutputError("cannot encode PNG: \(channels) channels (1 gray or 3 RGB)")
        }
        guard width > 0, height > 0 else {
            throw OutputError("cannot encode PNG: an image of \(width)×\(height) pixels")
        }
        let (rowBytes, o1) = width.multipliedReportingOverflow(by: channels)
        let (total, o2) = rowBytes.multipliedReportingOverflow(by: height)
        guard !o1, !o2, rowBytes <= Int(Int32.max), height <= Int(Int32.max) else {
            throw OutputError("cannot encode PNG: an image of \(width)×\(height)×\(channels) is too large")
        }
        guard pixels.count == total else {
            throw OutputError("cannot encode PNG: \(pixels.count) bytes for a \(width)×\(height)×\(channels) image of \(total)")
        }
        // Deflate never grows data by more than a few bytes per 16 KiB
        // block; the rest is chunk framing and the filter byte per row. If
        // the guess is short anyway, libpng says how much it needs.
        let raw = total + height
        var capacity = raw + raw / 64 + 1024
        for _ in 0..<3 {
            var image = pngImage(width: width, height: height, channels: channels)
            var out = [UInt8](repeating: 0, count: capacity)
            var size = png_alloc_size_t(capacity)
            let ok = out.withUnsafeMutableBytes { dst in
                pixels.withUnsafeBytes { src in
                    png_image_write_to_memory(&image, dst.baseAddress, &size, 0, src.baseAddress, 0, nil)
                }
            }
            png_image_free(&image)
            if ok != 0 {
                out.removeSubrange(Int(size)...)
                return out
            }
            // Failed with a larger size: the buffer was too small, retry.
            guard size > png_alloc_size_t(capacity), size <= png_alloc_size_t(Int.max) else {
                throw OutputError("cannot encode PNG: \(message(image, or: "libpng failed"))")
            }
            capacity = Int(size)
        }
        throw OutputError("cannot encode PNG: libpng kept asking for a larger buffer")
    }

    // MARK: - Decoding

    /// Decodes a PNG into 8-bit gray (channels 1) or RGB (channels 3)
    /// pixels, rows top to bottom. Meant for 8-bit gray or RGB files such as
    /// `encode` writes (which round-trip exactly); anything else is converted
    /// by libpng's simplified reader: palettes expanded, 16-bit reduced, gray
    /// or colour kept, alpha composited onto black.
    public static func decode(_ bytes: [UInt8]) throws(OutputError) -> (pixels: [UInt8], width: Int, height: Int, channels: Int) {
        guard !bytes.isEmpty else { throw OutputError("cannot decode PNG: no bytes") }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        // libpng reads from `bytes` until finish_read, so both calls stay
        // inside the one closure that keeps the pointer valid.
        let result = bytes.withUnsafeBytes { src -> Result<(pixels: [UInt8], width: Int, height: Int, channels: Int), OutputError> in
            guard png_image_begin_read_from_memory(&image, src.baseAddress, src.count) != 0 else {
                return .failure(OutputError("cannot decode PNG: \(message(image, or: "not a PNG file"))"))
            }
            let colour = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
            let channels = colour ? 3 : 1
            image.format = colour ? png_uint_32(PNG_FORMAT_RGB) : png_uint_32(PNG_FORMAT_GRAY)
            let width = Int(image.width), height = Int(image.height)
            let (rowBytes, o1) = width.multipliedReportingOverflow(by: channels)
            let (total, o2) = rowBytes.multipliedReportingOverflow(by: height)
            guard width > 0, height > 0, !o1, !o2, total <= maxDecodedBytes, rowBytes <= Int(Int32.max) else {
                return .failure(OutputError("cannot decode PNG: an image of \(width)×\(height)×\(channels) is larger than \(maxDecodedBytes) bytes"))
            }
            var pixels = [UInt8](repeating: 0, count: total)
            let ok = pixels.withUnsafeMutableBytes { dst in
                png_image_finish_read(&image, nil, dst.baseAddress, png_int_32(rowBytes), nil)
            }
            guard ok != 0 else {
                return .failure(OutputError("cannot decode PNG: \(message(image, or: "corrupt image data"))"))
            }
            return .success((pixels, width, height, channels))
        }
        return try result.get()
    }

    // MARK: - Helpers

    /// A zeroed `png_image` describing an 8-bit gray or RGB image in memory.
    private static func pngImage(width: Int, height: Int, channels: Int) -> png_image {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = channels == 3 ? png_uint_32(PNG_FORMAT_RGB) : png_uint_32(PNG_FORMAT_GRAY)
        return image
    }

    /// libpng's message in `image` (NUL-terminated in a fixed array), or `fallback` when empty.
    private static func message(_ image: png_image, or fallback: String) -> String {
        let text = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? fallback : text
    }
}
