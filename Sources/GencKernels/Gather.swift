// Gather.swift — embedding lookup (gather rows by id) and its gradient
// (scatter-add rows), plus picking one column per row by id.
//
// Ids come from data, so a bad one is an input error, not a programming
// error: nothing here traps on it. Each function returns the number of ids
// outside 0..<vocab; their output rows are zeros (gather, pick) and they
// contribute nothing (scatter-add). The caller turns a non-zero count into
// a diagnostic.

// MARK: - Rows

/// out[m, :] = table[ids[m], :], or zeros where ids[m] is out of range.
///
/// - ids: (M), Int32
/// - table: (V, D)
/// - out: (M, D), overwritten
/// - Returns: the number of ids outside 0..<V.
public func gatherRows(
    ids: UnsafePointer<Int32>, count m: Int,
    table: UnsafePointer<Float>, vocab: Int, dim: Int,
    out: UnsafeMutablePointer<Float>
) -> Int {
    var bad = 0
    for i in 0..<m {
        let id = Int(ids[i])
        let dst = out + i * dim
        if id >= 0 && id < vocab {
            dst.update(from: table + id * dim, count: dim)
        } else {
            dst.update(repeating: 0, count: dim)
            bad += 1
        }
    }
    return bad
}

/// dTable[ids[m], :] += dOut[m, :] for every in-range id, in order of m — the gradient of `gatherRows`.
///
/// - ids: (M), Int32
/// - dOut: (M, D)
/// - dTable: (V, D), added to (zero it first for a plain gradient)
/// - Returns: the number of ids outside 0..<V (skipped).
public func scatterAddRows(
    ids: UnsafePointer<Int32>, count m: Int,
    dOut: UnsafePointer<Float>, vocab: Int, dim: Int,
    dTable: UnsafeMutablePointer<Float>
) -> Int {
    var bad = 0
    for i in 0..<m {
        let id = Int(ids[i])
        guard id >= 0 && id < vocab else { bad += 1; continue }
        let src = dOut + i * dim
        let dst = dTable + id * dim
        for j in 0..<dim { dst[j] += src[j] }
    }
    return bad
}

// MARK: - One column per row

/// out[r] = x[r, ids[r]], or 0 where ids[r] is out of range.
///
/// - x: (R, V); ids: (R), Int32; out: (R), overwritten
/// - Returns: the number of ids outside 0..<V.
public func pickColumns(
    x: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows: Int, columns v: Int,
    out: UnsafeMutablePointer<Float>
) -> Int {
    var bad = 0
    for r in 0..<rows {
        let id = Int(ids[r])
        if id >= 0 && id < v { out[r] = x[r * v + id] } else { out[r] = 0; bad += 1 }
    }
    return bad
}

/// dx = zeros with dx[r, ids[r]] = dy[r] — the gradient of `pickColumns`.
///
/// - dy: (R); ids: (R), Int32; dx: (R, V), overwritten
/// - Returns: the number of ids outside 0..<V (their rows stay zero).
public func pickColumnsBackward(
    dy: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows: Int, columns v: Int,
    dx: UnsafeMutablePointer<Float>
) -> Int {
    dx.update(repeating: 0, count: rows * v)
    var bad = 0
    for r in 0..<rows {
        let id = Int(ids[r])
        if id >= 0 && id < v { dx[r * v + id] = dy[r] } else { bad += 1 }
    }
    return bad
}
