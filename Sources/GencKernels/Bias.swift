// Bias.swift — adding a bias per channel or per column, and its gradient.
//
// Channel form: (N, C, S) where S is the spatial size (H·W for conv2d, L
// for conv1d, 1 for a plain (N, C) matrix). Column form: (M, D) rows, as
// after a dense layer.

// MARK: - Per channel

/// y[n, c, s] += bias[c].
///
/// - y: (N, C, S), updated in place
/// - bias: (C)
public func addChannelBias(
    _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>,
    batch: Int, channels: Int, spatial: Int
) {
    for n in 0..<batch {
        for c in 0..<channels {
            let row = y + (n * channels + c) * spatial
            let b = bias[c]
            for s in 0..<spatial { row[s] += b }
        }
    }
}

/// db[c] = Σ_{n,s} dy[n, c, s] — the gradient of `addChannelBias`.
///
/// - dy: (N, C, S)
/// - db: (C), overwritten (or added to when `accumulate`)
public func channelBiasGrad(
    _ dy: UnsafePointer<Float>, db: UnsafeMutablePointer<Float>,
    batch: Int, channels: Int, spatial: Int, accumulate: Bool = false
) {
    if !accumulate { db.update(repeating: 0, count: channels) }
    for n in 0..<batch {
        for c in 0..<channels {
            db[c] += sum8(dy + (n * channels + c) * spatial, spatial)
        }
    }
}

// MARK: - Per column

/// y[m, d] += bias[d].
///
/// - y: (M, D), updated in place
/// - bias: (D)
public func addColumnBias(
    _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, columns: Int
) {
    for m in 0..<rows {
        let row = y + m * columns
        for d in 0..<columns { row[d] += bias[d] }
    }
}

/// db[d] = Σ_m dy[m, d] — the gradient of `addColumnBias`.
///
/// - dy: (M, D)
/// - db: (D), overwritten (or added to when `accumulate`)
public func columnBiasGrad(
    _ dy: UnsafePointer<Float>, db: UnsafeMutablePointer<Float>,
    rows: Int, columns: Int, accumulate: Bool = false
) {
    if !accumulate { db.update(repeating: 0, count: columns) }
    for m in 0..<rows {
        let row = dy + m * columns
        for d in 0..<columns { db[d] += row[d] }
    }
}
