import GencIR

// MARK: - Unary and binary elementwise ops
//
// Conventions at kinks and ties follow JAX (and PyTorch where they agree):
// relu'(0) = 0, leaky_relu'(0) = 1, abs'(0) = 0; maximum and minimum split
// the gradient evenly at a tie; ∂(a^b)/∂b is 0 where a = 0.

extension Emitter {
    mutating func unaryVJP(_ f: UnaryFunction, _ a: VJPArguments) throws -> Value? {
        let (x, y, g) = (a.operands[0], a.result, a.gradient)
        switch f {
        case .negate: return try negate(g)
        case .exp: return try multiply(g, y)  // e^x
        case .log: return try divide(g, x)  // 1/x
        case .sqrt: return try divide(try multiply(g, by: 0.5), y)  // 1/(2√x)
        case .rsqrt:
            // −½ x^(−3/2) = −½ y³
            return try multiply(g, try multiply(try multiply(y, try unary(.square, y)), try constant(-0.5)))
        case .abs:
            // sign(x), 0 at 0
            return try multiply(g, try subtract(try greater(x, try constant(0)), try greater(try constant(0), x)))
        case .tanh:
            return try multiply(g, try subtract(try constant(1), try unary(.square, y)))  // 1 − y²
        case .sigmoid:
            return try multiply(g, try multiply(y, try subtract(try constant(1), y)))  // y(1 − y)
        case .relu:
            return try multiply(g, try greater(x, try constant(0)))  // [x > 0]
        case .softplus:
            return try multiply(g, try unary(.sigmoid, x))  // σ(x)
        case .square:
            return try multiply(g, try multiply(x, by: 2))  // 2x
        case .reciprocal:
            return try multiply(try negate(g), try unary(.square, y))  // −1/x² = −y²
        case .gelu:
            return try multiply(g, try unary(.geluDerivative, x))  // Φ(x) + xφ(x)
        case .geluDerivative:
            // d/dx (Φ + xφ) = φ(x)(2 − x²), φ(x) = e^(−x²/2)/√(2π)
            let x2 = try unary(.square, x)
            let phi = try multiply(try unary(.exp, try multiply(x2, by: -0.5)), try constant(0.398_942_280_401_432_7))
            return try multiply(g, try multiply(phi, try subtract(try constant(2), x2)))
        case let .leakyRelu(slope):
            // 1 where x ≥ 0, slope below: slope + (1 − slope)·[x ≥ 0]
            let nonNegative = try subtract(try constant(1), try greater(try constant(0), x))
            return try multiply(g, try add(try constant(slope), try multiply(nonNegative, by: 1 - slope)))
        }
    }

    mutating func binaryVJP(_ f: BinaryFunction, _ a: VJPArguments) throws -> [Value?] {
        let (x, y, out, g) = (a.operands[0], a.operands[1], a.result, a.gradient)
        let (sx, sy) = (shape(x), shape(y))
        // Each operand's gradient at the output's shape, then summed back over broadcast axes.
        func both(_ gx: () throws -> Value, _ gy: () throws -> Value) throws -> [Value?] {
            [a.needs[0] ? try sumTo(try gx(), sx) : nil, a.needs[1] ? try sumTo(try gy(), sy) : nil]
        }
        switch f {
        case .add: return try both({ g }, { g })
        case .subtract: return try both({ g }, { try negate(g) })
        case .multiply: return try both({ try multiply(g, y) }, { try multiply(g, x) })
        case .divide:
            return try both({ try divide(g, y) }, { try negate(try divide(try multiply(g, out), y)) })  // −g·(x/y)/y
        case .power:
            return try both({
                // b·a^(b−1); a constant exponent folds b − 1 (and gives 0 for b = 0)
                if case let .constant(c) = graph.node(y).op {
                    if c == 0 { return try multiply(g, by: 0) }
                    return try multiply(g, try multiply(try binary(.power, x, try constant(c - 1)), try constant(c)))
                }
                return try multiply(g, try multiply(y, try binary(.power, x, try subtract(y, try constant(1)))))
            }, {
                // a^b·log a, with log taken of 1 where a = 0 so the gradient there is 0
                let zero = try constant(0)
                let isZero = try subtract(try constant(1), try add(try greater(x, zero), try greater(zero, x)))
                return try multiply(g, try multiply(out, try unary(.log, try add(x, isZero))))
            })
        case .maximum, .minimum:
            // weight of x: 1 where x wins, ½ at a tie, 0 where y wins
            let xAbove = try greater(x, y), yAbove = try greater(y, x)
            let lead = f == .maximum ? try subtract(xAbove, yAbove) : try subtract(yAbove, xAbove)
            let wx = try multiply(try add(lead, try constant(1)), try constant(0.5))
            return try both({ try multiply(g, wx) }, { try multiply(g, try subtract(try constant(1), wx)) })
        case .greater:
            // A 0/1 mask: zero derivative wherever it is defined.
            return [nil, nil]
        }
    }
}
