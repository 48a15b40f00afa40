import GencIR
import GencSpec
import GencSupport

// MARK: - batchnorm, layernorm, dropout (compositions of primitives)

extension Lowerer {
    /// Batch normalisation over every axis but 1 (the channel/feature axis).
    ///
    /// train/eval: batch statistics (biased variance); in train, the running
    /// statistics of networks the objective trains are updated with
    /// PyTorch's rule (unbiased variance, `momentum`). sample: running
    /// statistics.
    mutating func batchnorm(_ x: Value, _ l: LayerSpec, momentum: Double, eps: Double, network: String) throws -> Value {
        let r = l.kindRange
        try expect(x, l, ranks: 2...5, form: "input [N, C] or [N, C, ...]")
        let t = type(x)
        let c = t.shape[1]
        let axes = [0] + Array(2..<t.rank)
        let bshape = [c] + Array(repeating: 1, count: t.rank - 2)
        let p = l.qualifiedName
        let scale = try reshape(try parameter("\(p).scale", [c], role: .scale, layer: l, fanIn: c, fanOut: c, network: network), bshape, at: r)
        let bias = try reshape(try parameter("\(p).bias", [c], role: .bias, layer: l, fanIn: c, fanOut: c, network: network), bshape, at: r)
        let runningMean = try state("\(p).running_mean", [c], role: .runningMean, layer: l, network: network)
        let runningVar = try state("\(p).running_var", [c], role: .runningVariance, layer: l, network: network)
        let epsilon = try constant(eps, at: r)
        if mode == .sample {
            let centered = try binary(.subtract, x, try reshape(runningMean, bshape, at: r), at: r)
            let inv = try unary(.rsqrt, try binary(.add, try reshape(runningVar, bshape, at: r), epsilon, at: r), at: r)
            return try binary(.add, try binary(.multiply, try binary(.multiply, centered, inv, at: r), scale, at: r), bias, at: r)
        }
        let mean = try emit(.reduce(.mean, axes: axes, keepDims: true), [x], at: r)
        let centered = try binary(.subtract, x, mean, at: r)
        let variance = try emit(.reduce(.mean, axes: axes, keepDims: true), [try unary(.square, centered, at: r)], at: r)
        let inv = try unary(.rsqrt, try binary(.add, variance, epsilon, at: r), at: r)
        let y = try binary(.add, try binary(.multiply, try binary(.multiply, centered, inv, at: r), scale, at: r), bias, at: r)
        if mode == .train, updating.contains(network) {
            let n = t.elementCount / c
            let keep = try constant(1 - momentum, at: r), m = try constant(momentum, at: r)
            let unbias = try constant(n > 1 ? Double(n) / Double(n - 1) : 1, at: r)
            let newMean = try binary(.add, try binary(.multiply, runningMean, keep, at: r),
                                     try binary(.multiply, try reshape(mean, [c], at: r), m, at: r), at: r)
            let newVar = try binary(.add, try binary(.multiply, runningVar, keep, at: r),
                                    try binary(.multiply, try binary(.multiply, try reshape(variance, [c], at: r), unbias, at: r), m, at: r), at: r)
            setState("\(p).running_mean", newMean)
            setState("\(p).running_var", newVar)
        }
        return y
    }

    /// Layer normalisation over the last axis, with `scale` and `bias` of its size.
    mutating func layernorm(_ x: Value, _ l: LayerSpec, eps: Double, network: String) throws -> Value {
        let r = l.kindRange
        try expect(x, l, ranks: 2...8, form: "input [batch, ..., features]")
        let t = type(x)
        let f = t.shape[t.rank - 1]
        let p = l.qualifiedName
        let scale = try parameter("\(p).scale", [f], role: .scale, layer: l, fanIn: f, fanOut: f, network: network)
        let bias = try parameter("\(p).bias", [f], role: .bias, layer: l, fanIn: f, fanOut: f, network: network)
        let mean = try emit(.reduce(.mean, axes: [t.rank - 1], keepDims: true), [x], at: r)
        let centered = try binary(.subtract, x, mean, at: r)
        let variance = try emit(.reduce(.mean, axes: [t.rank - 1], keepDims: true), [try unary(.square, centered, at: r)], at: r)
        let inv = try unary(.rsqrt, try binary(.add, variance, try constant(eps, at: r), at: r), at: r)
        return try binary(.add, try binary(.multiply, try binary(.multiply, centered, inv, at: r), scale, at: r), bias, at: r)
    }

    /// Inverted dropout in train and eval programs: keep each element with
    /// probability `1 - rate` and scale by `1 / (1 - rate)`; identity when sampling.
    mutating func dropout(_ x: Value, _ l: LayerSpec, rate: Double) throws -> Value {
        let r = l.kindRange
        try expect(x, l, ranks: 0...8, form: "f32 values")
        guard mode != .sample, rate > 0 else { return x }
        let u = try emit(.random(.uniform(low: 0, high: 1), stream: nextStream()), [], type: type(x), at: r)
        let keep = try binary(.greater, u, try constant(rate, at: r), at: r)
        return try binary(.multiply, try binary(.multiply, x, keep, at: r), try constant(1 / (1 - rate), at: r), at: r)
    }

    mutating func nextStream() -> Int {
        randomStream += 1
        return randomStream
    }
}
