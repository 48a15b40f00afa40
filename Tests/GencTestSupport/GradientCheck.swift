import GencIR

/// A graph-level finite-difference gradient checker, in double precision.
///
/// The analytic gradients (a differentiated graph, evaluated by the float64
/// `ReferenceInterpreter`) are compared with central differences of the
/// forward graph's loss, also evaluated in float64. Working in Double is
/// what lets the check fail for real: with a step h = 1e-6·(1 + |x|) the
/// difference quotient is accurate to about 1e-9 relative (truncation
/// h²·f‴/6 plus rounding 1e-16/h), so a tolerance of 1e-6 leaves three
/// orders of magnitude between a correct rule and any wrong one, where in
/// float32 the rounding term alone (1e-7/h) would swamp a wrong factor of
/// 1.001. Random draws are fixed (`random`), the same for every evaluation.
public enum GradientCheck {
    public struct Mismatch: CustomStringConvertible, Sendable {
        public var leaf: String
        public var index: Int
        public var analytic: Double
        public var numeric: Double
        public var description: String { "d loss / d \(leaf)[\(index)]: rule gives \(analytic), finite differences \(numeric)" }
    }

    /// Compares `gradients` (leaf name → value in `differentiated`) with
    /// central differences of `loss` in `forward`, for up to
    /// `coordinates` elements of each leaf (all of them when it has fewer;
    /// otherwise an even spread). Returns every mismatch beyond
    /// `tolerance` (relative to the larger of the two and 1e-3·scale, where
    /// scale is the largest gradient element of that leaf).
    public static func compare(
        forward: Graph, loss: Value, differentiated: Graph, gradients: [NamedValue],
        leaves: [String: ReferenceTensor], random: [Int: ReferenceTensor] = [:],
        coordinates: Int = 64, tolerance: Double = 1e-6
    ) throws -> [Mismatch] {
        let analytic = try ReferenceInterpreter.run(differentiated, leaves: leaves, random: random)
        var mismatches: [Mismatch] = []
        for g in gradients {
            guard let base = leaves[g.name] else { throw ReferenceError("no value for leaf '\(g.name)'") }
            let grad = analytic[g.value.id]
            guard grad.count == base.count else { throw ReferenceError("the gradient of '\(g.name)' has \(grad.count) elements, the leaf \(base.count)") }
            let scale = grad.values.map(Swift.abs).max() ?? 0
            let n = base.count
            let picks = n <= coordinates ? Array(0..<n) : (0..<coordinates).map { $0 * n / coordinates }
            for i in picks {
                let numeric = try centralDifference(forward, loss: loss, leaf: g.name, index: i, leaves: leaves, random: random)
                let a = grad.values[i]
                let allowed = tolerance * Swift.max(Swift.abs(a), Swift.abs(numeric), 1e-3 * scale, 1e-12)
                if !(Swift.abs(a - numeric) <= allowed) { mismatches.append(Mismatch(leaf: g.name, index: i, analytic: a, numeric: numeric)) }
            }
        }
        return mismatches
    }

    /// (L(x + h·e_i) − L(x − h·e_i)) / 2h, h = 1e-6·(1 + |x_i|).
    public static func centralDifference(
        _ g: Graph, loss: Value, leaf: String, index i: Int, leaves: [String: ReferenceTensor], random: [Int: ReferenceTensor]
    ) throws -> Double {
        guard var t = leaves[leaf] else { throw ReferenceError("no value for leaf '\(leaf)'") }
        let x = t.values[i]
        let h = 1e-6 * (1 + Swift.abs(x))
        var shifted = leaves
        t.values[i] = x + h
        shifted[leaf] = t
        let up = try lossValue(g, loss, shifted, random)
        t.values[i] = x - h
        shifted[leaf] = t
        let down = try lossValue(g, loss, shifted, random)
        return (up - down) / (2 * h)
    }

    /// The loss of `g` in Double.
    public static func lossValue(_ g: Graph, _ loss: Value, _ leaves: [String: ReferenceTensor], _ random: [Int: ReferenceTensor]) throws -> Double {
        let values = try ReferenceInterpreter.run(g, leaves: leaves, random: random)
        return values[loss.id].values[0]
    }

    /// A directional check for large models: ⟨∇L, v⟩ against
    /// (L(x + h·v) − L(x − h·v)) / 2h for a random direction v over every
    /// leaf at once. Returns (analytic, numeric). The step is small (1e-7)
    /// because a whole model has thousands of relu and leaky_relu kinks: a
    /// step of 1e-5 along every parameter at once crosses some of them and
    /// the quotient is off by percent (measured on dcgan's generator), while
    /// at 1e-7 it agrees with the rules to about 1e-8 relative.
    public static func directional(
        forward: Graph, loss: Value, differentiated: Graph, gradients: [NamedValue],
        leaves: [String: ReferenceTensor], random: [Int: ReferenceTensor] = [:], seed: UInt64 = 1, step: Double = 1e-7
    ) throws -> (analytic: Double, numeric: Double) {
        let analytic = try ReferenceInterpreter.run(differentiated, leaves: leaves, random: random)
        var rng = SplitMix(seed)
        var up = leaves, down = leaves
        var dot = 0.0
        for g in gradients {
            guard let base = leaves[g.name] else { throw ReferenceError("no value for leaf '\(g.name)'") }
            var u = base, d = base
            for i in 0..<base.count {
                let v = rng.uniform() * 2 - 1
                dot += v * analytic[g.value.id].values[i]
                u.values[i] += step * v
                d.values[i] -= step * v
            }
            up[g.name] = u
            down[g.name] = d
        }
        let numeric = (try lossValue(forward, loss, up, random) - lossValue(forward, loss, down, random)) / (2 * step)
        return (dot, numeric)
    }
}

/// A small deterministic generator for test values.
public struct SplitMix {
    var state: UInt64
    public init(_ seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// In [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    public mutating func values(_ n: Int, _ lo: Double, _ hi: Double) -> [Double] { (0..<n).map { _ in lo + (hi - lo) * uniform() } }
}
