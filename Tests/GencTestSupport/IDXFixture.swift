import Foundation

/// Small IDX image files for training tests: image `i` is a bright 8×8
/// square on black at a position (and brightness) that depend on `i`, so
/// the images differ and a model can learn them in a few steps.
public enum IDXFixture {
    public static func write(_ path: String, count: Int) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var bytes: [UInt8] = [0, 0, 8, 3]
        for v in [count, 28, 28] { bytes += [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        for i in 0..<count {
            var img = [UInt8](repeating: 0, count: 784)
            let r = 4 + (i * 7) % 16, c = 4 + (i * 5) % 16
            for y in r..<(r + 8) { for x in c..<(c + 8) { img[y * 28 + x] = UInt8(128 + (i * 37) % 128) } }
            bytes += img
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
