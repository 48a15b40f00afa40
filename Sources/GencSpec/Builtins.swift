/// The built-in functions of expressions (LANGUAGE.md §5): their arity and
/// keyword arguments. Lowering gives each its meaning; this table is what
/// validation needs.
public enum Builtin: String, CaseIterable, Sendable {
    // Elementwise math.
    case exp, log, sqrt, abs, tanh, sigmoid, relu, softplus, square
    // Reductions.
    case sum, mean, max
    // Noise shaped like a tensor.
    case normalLike = "normal_like", uniformLike = "uniform_like"
    // Losses (elementwise; reduce them yourself).
    case mse, l1, bce, bceLogits = "bce_logits", klNormal = "kl_normal", crossEntropy = "cross_entropy"

    /// Positional arguments.
    public var arity: Int {
        switch self {
        case .mse, .l1, .bce, .bceLogits, .klNormal, .crossEntropy: return 2
        default: return 1
        }
    }

    /// Keyword arguments it accepts.
    public var keywords: [String] {
        switch self {
        case .sum, .mean, .max: return ["axis", "keepdims"]
        default: return []
        }
    }

    public var isReduction: Bool { self == .sum || self == .mean || self == .max }
}
