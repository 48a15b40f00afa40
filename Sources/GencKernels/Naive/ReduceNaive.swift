// ReduceNaive.swift — reductions by sending every input element to its
// output element through explicit multi-indices (Double accumulation).

/// Naive twin of `reduce`. x: (inputShape); y: (inputShape with 1 at each axis).
public func reduceNaive(
    _ op: ReduceOp, x: UnsafePointer<Float>, inputShape: [Int], axes: [Int],
    y: UnsafeMutablePointer<Float>
) {
    let rank = inputShape.count
    let set = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
    let outShape = inputShape.enumerated().map { set.contains($0.offset) ? 1 : $0.element }
    let outCount = outShape.reduce(1, *)
    var acc = [Double](repeating: op == .max ? -.infinity : 0, count: outCount)
    var seen = [Int](repeating: 0, count: outCount)
    for i in 0..<inputShape.reduce(1, *) {
        let o = broadcastIndex(unravel(i, inputShape), outShape)
        let v = Double(x[i])
        acc[o] = op == .max ? max(acc[o], v) : acc[o] + v
        seen[o] += 1
    }
    for o in 0..<outCount {
        y[o] = Float(op == .mean ? acc[o] / Double(seen[o]) : acc[o])
    }
}
