// CrossEntropy.swift — softmax cross-entropy from logits and integer ids,
// fused: the composed form (log_softmax, pick, neg) writes and re-reads a
// (rows, V) log-probability array; this reads the logits once forward and
// writes the gradient once backward.
//
// Bad ids are counted, as in Gather.swift: their loss and gradient rows are 0.

/// loss[r] = logsumexp(logits[r, :]) − logits[r, ids[r]].
///
/// - logits: (R, V); ids: (R), Int32; loss: (R), overwritten
/// - Returns: the number of ids outside 0..<V.
public func softmaxCrossEntropy(
    logits: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows: Int, classes v: Int,
    loss: UnsafeMutablePointer<Float>
) -> Int {
    var bad = 0
    for r in 0..<rows {
        let row = logits + r * v
        let id = Int(ids[r])
        guard id >= 0 && id < v else { loss[r] = 0; bad += 1; continue }
        let (m, logSum) = maxAndLogSumExp(row, v)
        loss[r] = (m - row[id]) + logSum
    }
    return bad
}

/// dlogits[r, :] = dloss[r] · (softmax(logits[r, :]) − onehot(ids[r])).
///
/// - logits: (R, V); ids: (R), Int32; dloss: (R)
/// - dlogits: (R, V), overwritten (may alias logits)
/// - Returns: the number of ids outside 0..<V (their rows are zeros).
public func softmaxCrossEntropyBackward(
    logits: UnsafePointer<Float>, ids: UnsafePointer<Int32>, dloss: UnsafePointer<Float>,
    rows: Int, classes v: Int, dlogits: UnsafeMutablePointer<Float>
) -> Int {
    var bad = 0
    for r in 0..<rows {
        let (row, out) = (logits + r * v, dlogits + r * v)
        let id = Int(ids[r])
        guard id >= 0 && id < v else {
            out.update(repeating: 0, count: v)
            bad += 1
            continue
        }
        let (m, logSum) = maxAndLogSumExp(row, v)
        let g = dloss[r]
        map8(row, out, v) { x in g * vexp((x - m) - logSum) }
        out[id] -= g
    }
    return bad
}
