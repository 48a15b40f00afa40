import GencIR
import GencPlan

// MARK: - What the runtime can run, decided before anything is allocated

extension Executable {
    /// A step the runtime cannot run, and why.
    public struct Unsupported: Sendable {
        public var location: IRLocation?
        public var message: String
    }

    /// Every step of `plan` the runtime would refuse. The compiler calls
    /// this on every program it builds (`genc check` included), so a model
    /// that passes `check` never fails at load time, and each refusal is
    /// reported at the YAML line of the op.
    public static func unsupported(_ plan: Plan) -> [Unsupported] {
        var problems: [Unsupported] = []
        // OpenBLAS takes 32-bit sizes and leading dimensions.
        let blasLimit = Int(Int32.max)
        for step in plan.steps {
            guard let s = OpCall(step) else { continue }
            func shape(_ k: Int) -> [Int] { plan.slots[k].type.shape }
            func refuse(_ m: String) { problems.append(Unsupported(location: s.location, message: m)) }
            switch s.op {
            case let .matmul(ta, tb):
                let a = shape(s.inputs[0]), b = shape(s.inputs[1])
                let (m, k) = ta ? (a[1], a[0]) : (a[0], a[1])
                let n = tb ? b[0] : b[1]
                if max(m, n, k) > blasLimit {
                    refuse("a matrix product of [\(m), \(k)] × [\(k), \(n)] has a side longer than 2^31 - 1, the most OpenBLAS takes")
                }
            case .conv(let a), .convInputGrad(let a, _), .convFilterGrad(let a, _):
                // The im2col kernels pad symmetrically (the language's `same` needs an odd kernel for that reason).
                if a.padBefore != a.padAfter { refuse("convolution padding \(a.padBefore) before and \(a.padAfter) after: only symmetric padding is supported") }
                let w: [Int]
                if case .convFilterGrad = s.op { w = shape(s.output) } else { w = shape(s.inputs[1]) }
                let taps = w.dropFirst().reduce(1.0) { $0 * Double($1) }
                let spatial = (s.inputs + [s.output]).map { shape($0).dropFirst(2).reduce(1.0) { $0 * Double($1) } }.max() ?? 1
                if taps > Double(blasLimit) || spatial > Double(blasLimit) || Double(w[0]) > Double(blasLimit) {
                    refuse("a convolution with filter \(TensorType.f32(w).shapeDescription) needs a matrix product with a side longer than 2^31 - 1, the most OpenBLAS takes")
                } else if taps * Double(w[0]) * spatial > Double(Size.maxElements) {
                    refuse("a convolution with filter \(TensorType.f32(w).shapeDescription) over \(Int(spatial)) positions needs a scratch matrix of more than 2^40 elements")
                }
            case .pool, .poolGrad:
                // Max pooling keeps each window's argmax as a 32-bit index into its plane.
                let x = shape(s.inputs[0])
                if x.count == 4, x[2] * x[3] > blasLimit {
                    refuse("pooling over a \(x[2])×\(x[3]) plane: planes of more than 2^31 - 1 elements are not supported")
                }
            case .broadcast:
                if plan.slots[s.output].type.dtype != .f32 { refuse("broadcasting i32 values is not supported") }
            case .input, .parameter, .state, .carried, .constant, .random, .unary, .binary, .reduce, .softmax,
                 .logSoftmax, .reshape, .transpose, .slice, .unslice, .concat, .gather, .scatterAdd, .oneHot:
                break
            }
        }
        return problems
    }
}

/// A step's one library-kernel op (its op, or its fused loop's head), for
/// the checks and bounds that look at ops one at a time.
struct OpCall {
    var op: Op
    var inputs: [Int]
    var output: Int
    var location: IRLocation?

    init?(_ step: Step) {
        guard let c = step.opCall else { return nil }
        (op, inputs, output, location) = (c.op, c.inputs, c.output, step.location)
    }
}
