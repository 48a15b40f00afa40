/// Derives independent 64-bit seeds from a base seed and a name or number
/// (SplitMix64 finaliser over FNV-1a), so that every parameter, noise input
/// and random op draws its own reproducible stream, whatever the order in
/// which they are created.
public enum Seeds {
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public static func derive(_ seed: UInt64, _ name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return mix(seed ^ mix(h))
    }

    public static func derive(_ seed: UInt64, _ n: Int) -> UInt64 { mix(seed ^ mix(UInt64(bitPattern: Int64(n)) &+ 0x5151)) }
}

/// Sebastiano Vigna's SplitMix64: a 64-bit state stepped by the golden gamma,
/// each output the Seeds.mix finaliser of the state. The one small generator
/// of the host side: data order, text sampling.
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(_ seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<bound (Lemire's multiply-shift, with rejection, so unbiased).
    public mutating func next(below bound: Int) -> Int {
        let n = UInt64(bound)
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let threshold = (0 &- n) % n
            while m.low < threshold { m = next().multipliedFullWidth(by: n) }
        }
        return Int(m.high)
    }

    /// Uniform on [0, 1) with 53 bits.
    public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1p-53 }
}
