import Foundation
import GencIR

/// Constant folding: no pure node computes one repeated finite value from
/// constant leaves alone; it is that constant leaf (shared, as `Graph.add`
/// shares constants of one value and type).
///   before: %1 = constant {value: 2.0} : f32[]; %2 = broadcast %1 {shape: [4, 3]} : f32[4, 3]; %3 = exp %2 : f32[4, 3]; %4 = add %0, %3
///   after:  %1 = constant {value: 2.0} : f32[]; %2 = constant {value: 2.0} : f32[4, 3];          %3 = constant {value: 7.38905609893065} : f32[4, 3]; %4 = add %0, %3
/// The operands stay until dead-code elimination removes them. Values are
/// computed in Double with the runtime's definitions (GencKernels'
/// Unary.swift and Binary.swift); a result that is not finite, in Double
/// or once rounded to f32, is left to the runtime.
public enum ConstantFolding {
    public static let pass = Pass(name: "constant-folding", guarantee: "no pure node computes one repeated finite value from constant leaves alone") { g in
        try run(&g)
    }

    static func run(_ g: inout Graph) throws -> Bool {
        var out = Graph(name: g.name)
        // Old id → new value: a folded node becomes a constant leaf, and a
        // constant equal to an earlier one (value and type) is that one.
        var map: [Value] = []
        map.reserveCapacity(g.nodes.count)
        for n in g.nodes {
            var copy = n
            copy.operands = n.operands.map { map[$0.id] }
            if case let .constant(c) = n.op {
                map.append(try out.add(.constant(c), type: n.type, at: n.location))
                continue
            }
            if !n.op.isLeaf, n.op.isPure, n.type.dtype == .f32, let v = foldedValue(copy, in: out) {
                map.append(try out.add(.constant(v), type: n.type, at: n.location))
                continue
            }
            out.appendUnchecked(copy)
            map.append(Value(out.nodes.count - 1))
        }
        out.outputs = g.outputs.map { NamedValue($0.name, map[$0.value.id]) }
        out.updates = g.updates.map { NamedValue($0.name, map[$0.value.id]) }
        let changed = out != g
        g = out
        return changed
    }

    /// The one value every element of `n` takes when each operand is a
    /// constant leaf of `g`; nil when an operand is not, when the result is
    /// not one repeated value, or when it is not finite.
    static func foldedValue(_ n: Node, in g: Graph) -> Double? {
        var values: [Double] = []
        for o in n.operands {
            guard case let .constant(c) = g.node(o).op else { return nil }
            values.append(c)
        }
        guard let v = value(n.op, values, operands: n.operands.map { g.type($0) }) else { return nil }
        guard v.isFinite, Float(v).isFinite else { return nil }
        return v
    }

    /// The evaluator: `op` on operands whose every element is `x[i]`, of
    /// types `t[i]`. One row per op; those whose result is not one repeated
    /// value say why.
    static func value(_ op: Op, _ x: [Double], operands t: [TensorType]) -> Double? {
        switch op {
        case .input, .parameter, .state, .carried, .constant, .random:
            return nil  // leaves: nothing to fold
        case let .unary(f):
            return unary(f, x[0])
        case let .binary(f):
            return binary(f, x[0], x[1])
        case let .matmul(ta, _):
            // Every output element sums K equal products.
            let k = ta ? t[0].shape[0] : t[0].shape[1]
            return x[0] * x[1] * Double(k)
        case .conv, .convInputGrad, .convFilterGrad:
            return nil  // padding and strides give the edges fewer taps than the middle
        case .pool, .poolGrad:
            return nil  // padded windows (average) and the max's routing (gradient) differ by position
        case let .reduce(f, axes, _):
            guard let ax = try? Op.normalizedAxes(axes, rank: t[0].rank) else { return nil }
            let count = ax.reduce(1) { $0 * t[0].shape[$1] }
            switch f {
            case .sum: return x[0] * Double(count)
            case .mean: return count == 0 ? nil : x[0]  // the mean of nothing is NaN
            case .max: return count == 0 ? nil : x[0]  // the max of nothing is −∞
            }
        case let .softmax(axis):
            guard let a = try? Op.normalizedAxis(axis, rank: t[0].rank), t[0].shape[a] > 0 else { return nil }
            return 1 / Double(t[0].shape[a])
        case let .logSoftmax(axis):
            guard let a = try? Op.normalizedAxis(axis, rank: t[0].rank), t[0].shape[a] > 0 else { return nil }
            return -log(Double(t[0].shape[a]))
        case .reshape, .transpose, .slice, .broadcast:
            return x[0]
        case .unslice:
            return x[0] == 0 ? 0 : nil  // zeros around the written positions
        case .concat:
            return x.allSatisfy { $0 == x[0] } ? x[0] : nil
        case .gather, .scatterAdd, .oneHot:
            return nil  // their ids are i32, and constants are f32
        }
    }

    /// As GencKernels' `unaryBlock` (and the reference interpreter), in Double.
    static func unary(_ f: UnaryFunction, _ x: Double) -> Double {
        switch f {
        case .negate: return -x
        case .exp: return exp(x)
        case .log: return log(x)
        case .sqrt: return x.squareRoot()
        case .rsqrt: return 1 / x.squareRoot()
        case .abs: return Swift.abs(x)
        case .tanh: return tanh(x)
        case .sigmoid: return 1 / (1 + exp(-x))
        case .relu: return x < 0 ? 0 : x
        case .softplus: return Swift.max(x, 0) + log1p(exp(-Swift.abs(x)))
        case .square: return x * x
        case .reciprocal: return 1 / x
        case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .geluDerivative: return 0.5 * (1 + erf(x / 2.0.squareRoot())) + x * exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
        case let .leakyRelu(slope): return x < 0 ? slope * x : x
        }
    }

    /// As GencKernels' `binary` (and the reference interpreter), in Double.
    static func binary(_ f: BinaryFunction, _ a: Double, _ b: Double) -> Double {
        switch f {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        case .power: return pow(a, b)
        case .maximum: return a > b ? a : b
        case .minimum: return a < b ? a : b
        case .greater: return a > b ? 1 : 0
        }
    }
}
