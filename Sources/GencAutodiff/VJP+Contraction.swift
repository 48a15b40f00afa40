import GencIR

// MARK: - Matrix products, convolutions and pooling

extension Emitter {
    /// C = op(A)·op(B): dop(A) = G·op(B)ᵀ and dop(B) = op(A)ᵀ·G, written
    /// with the transpose flags so no transpose is materialised.
    mutating func matmulVJP(transposeA ta: Bool, transposeB tb: Bool, _ v: VJPArguments) throws -> [Value?] {
        let (a, b, g) = (v.operands[0], v.operands[1], v.gradient)
        var da: Value?, db: Value?
        if v.needs[0] {
            da = ta ? try add(.matmul(transposeA: tb, transposeB: true), [b, g])  // A = (G·op(B)ᵀ)ᵀ = op(B)·Gᵀ
                : try add(.matmul(transposeA: false, transposeB: !tb), [g, b])
        }
        if v.needs[1] {
            db = tb ? try add(.matmul(transposeA: true, transposeB: ta), [g, a])  // B = (op(A)ᵀ·G)ᵀ = Gᵀ·op(A)
                : try add(.matmul(transposeA: !ta, transposeB: false), [a, g])
        }
        return [da, db]
    }

    /// y = conv(x, w): dx = conv_input_grad(G, w), dw = conv_filter_grad(x, G).
    mutating func convVJP(_ c: ConvAttributes, _ v: VJPArguments) throws -> [Value?] {
        let (x, w, g) = (v.operands[0], v.operands[1], v.gradient)
        return [
            v.needs[0] ? try add(.convInputGrad(c, inputSize: Array(shape(x).dropFirst(2))), [g, w]) : nil,
            v.needs[1] ? try add(.convFilterGrad(c, kernelSize: Array(shape(w).dropFirst(2))), [x, g]) : nil,
        ]
    }

    /// y = conv_input_grad(dy, w) is linear in each operand; its adjoints
    /// are the forward conv (for dy) and the filter gradient (for w).
    mutating func convInputGradVJP(_ c: ConvAttributes, _ v: VJPArguments) throws -> [Value?] {
        let (dy, w, g) = (v.operands[0], v.operands[1], v.gradient)
        return [
            v.needs[0] ? try add(.conv(c), [g, w]) : nil,
            v.needs[1] ? try add(.convFilterGrad(c, kernelSize: Array(shape(w).dropFirst(2))), [g, dy]) : nil,
        ]
    }

    /// y = conv_filter_grad(x, dy): dx = conv_input_grad(dy, G), ddy = conv(x, G).
    mutating func convFilterGradVJP(_ c: ConvAttributes, _ v: VJPArguments) throws -> [Value?] {
        let (x, dy, g) = (v.operands[0], v.operands[1], v.gradient)
        return [
            v.needs[0] ? try add(.convInputGrad(c, inputSize: Array(shape(x).dropFirst(2))), [dy, g]) : nil,
            v.needs[1] ? try add(.conv(c), [x, g]) : nil,
        ]
    }

    /// y = pool_grad(x, dy) is linear in dy. Average pooling's is its own
    /// pooling of G; max pooling's would gather G at each window's argmax,
    /// an op genc does not have, so differentiating it twice is refused.
    mutating func poolGradVJP(_ p: PoolAttributes, _ v: VJPArguments) throws -> [Value?] {
        guard v.needs[1] else { return [nil, nil] }
        switch p.kind {
        case .average: return [nil, try add(.pool(p), [v.gradient])]
        case .max: throw AutodiffError("the second derivative of max pooling is not supported", at: location)
        }
    }
}
