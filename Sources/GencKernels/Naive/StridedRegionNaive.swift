// StridedRegionNaive.swift — transpose and slice by explicit multi-indices.

/// Naive twin of transposing with `gatherRegion`: out[j…] = x[i…] with i[perm[k]] = j[k].
public func transposeNaive(_ x: UnsafePointer<Float>, shape: [Int], perm: [Int], out: UnsafeMutablePointer<Float>) {
    let outShape = perm.map { shape[$0] }
    let strides = contiguousStrides(shape)
    for j in 0..<outShape.reduce(1, *) {
        let index = unravel(j, outShape)
        var src = 0
        for k in 0..<perm.count { src += index[k] * strides[perm[k]] }
        out[j] = x[src]
    }
}

/// Naive twin of slicing with `gatherRegion`: out[j…] = x[start + j·step …].
public func sliceNaive(
    _ x: UnsafePointer<Float>, shape: [Int], starts: [Int], ends: [Int], steps: [Int],
    out: UnsafeMutablePointer<Float>
) {
    var outShape: [Int] = []
    for k in 0..<shape.count { outShape.append((ends[k] - starts[k] + steps[k] - 1) / steps[k]) }
    let strides = contiguousStrides(shape)
    for j in 0..<outShape.reduce(1, *) {
        let index = unravel(j, outShape)
        var src = 0
        for k in 0..<shape.count { src += (starts[k] + index[k] * steps[k]) * strides[k] }
        out[j] = x[src]
    }
}
