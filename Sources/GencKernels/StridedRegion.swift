// StridedRegion.swift — copies between a contiguous tensor and a strided
// region of another: transpose (any permutation of axes), slice (start,
// end, step per axis), and concat (each input is a slice of the output).
//
//   transpose  out = gatherRegion(x, StridedRegion(permuting: shape, by: perm))
//   slice      out = gatherRegion(x, StridedRegion(slicing: shape, …))
//   concat     scatterRegion(part_i, StridedRegion(slicing: outShape, …axis range i…), into: out)
// and the gradients are the other direction (a slice's gradient scatters dy
// into a zeroed dx; a concat's gradient gathers each part's slice of dy).
// The region's loops are collapsed like BroadcastLayout's, so a slice of
// whole rows is one memcpy per row. Float and Int32 (token ids) both work.

/// A strided region of a contiguous source tensor, in row-major order of `shape`.
///
/// Element i of the region (flattened over `shape`) sits at
/// `offset + Σ_k index_k · stride_k` in the source.
public struct StridedRegion: Hashable, Sendable {
    /// The region's shape: the shape of the contiguous side of a copy.
    public let shape: [Int]
    /// Elements in the region.
    public let count: Int
    let dims: [Int]
    let strides: [Int]
    let offset: Int

    /// The region `x.transpose(perm)`: out axis k is input axis perm[k].
    /// nil unless perm is a permutation of 0..<rank.
    public init?(permuting inputShape: [Int], by perm: [Int]) {
        guard perm.count == inputShape.count, Set(perm) == Set(0..<inputShape.count) else { return nil }
        let strides = contiguousStrides(inputShape)
        self.init(shape: perm.map { inputShape[$0] }, strides: perm.map { strides[$0] }, offset: 0)
    }

    /// The region `x[start_0:end_0:step_0, …]` (Python slicing with
    /// 0 <= start <= end <= size and step >= 1; no negative indices).
    /// nil when the arrays disagree in length or a bound is out of range.
    public init?(slicing inputShape: [Int], starts: [Int], ends: [Int], steps: [Int]? = nil) {
        let rank = inputShape.count
        let steps = steps ?? Array(repeating: 1, count: rank)
        guard starts.count == rank, ends.count == rank, steps.count == rank else { return nil }
        for k in 0..<rank {
            guard steps[k] >= 1, starts[k] >= 0, starts[k] <= ends[k], ends[k] <= inputShape[k] else { return nil }
        }
        let strides = contiguousStrides(inputShape)
        var shape: [Int] = [], stepped: [Int] = [], offset = 0
        for k in 0..<rank {
            // A step past the span selects one element: clamping it gives
            // the same region and keeps stride × step within the tensor
            // (a step of Int.max would overflow both sums below).
            let span = ends[k] - starts[k]
            let step = min(steps[k], max(span, 1))
            shape.append(span / step + (span % step == 0 ? 0 : 1))
            stepped.append(strides[k] * step)
            offset += starts[k] * strides[k]
        }
        self.init(shape: shape, strides: stepped, offset: offset)
    }

    /// Collapses size-1 axes and merges neighbours that step contiguously.
    private init(shape: [Int], strides: [Int], offset: Int) {
        var dims: [Int] = [], st: [Int] = []
        for (size, stride) in zip(shape, strides) where size != 1 {
            if let last = dims.last, let ls = st.last, ls == stride * size {
                dims[dims.count - 1] = last * size
                st[st.count - 1] = stride
            } else {
                dims.append(size); st.append(stride)
            }
        }
        if dims.isEmpty { dims = [1]; st = [1] }
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.dims = dims
        self.strides = st
        self.offset = offset
    }

    var innerCount: Int { dims[dims.count - 1] }
    var innerStride: Int { strides[strides.count - 1] }

    /// Where row r (of count / innerCount) starts in the source.
    @inline(__always)
    func rowOffset(_ r: Int) -> Int {
        var r = r, o = offset
        var d = dims.count - 2
        while d >= 0 && r > 0 {
            o += (r % dims[d]) * strides[d]
            r /= dims[d]
            d -= 1
        }
        return o
    }
}

// MARK: - Copies

/// out = the region of src, contiguous.
///
/// - src: the tensor the region was made from; out: (region.shape), overwritten
public func gatherRegion(
    _ src: UnsafePointer<Float>, region: StridedRegion, out: UnsafeMutablePointer<Float>, threads: Int = 1
) {
    copyRegion(src, region, out, gather: true, threads)
}

/// The region of dst = src (other elements of dst untouched).
///
/// - src: (region.shape); dst: the tensor the region was made from
public func scatterRegion(
    _ src: UnsafePointer<Float>, region: StridedRegion, into dst: UnsafeMutablePointer<Float>, threads: Int = 1
) {
    copyRegion(src, region, dst, gather: false, threads)
}

/// `gatherRegion` for Int32 tensors (token ids).
public func gatherRegion(
    _ src: UnsafePointer<Int32>, region: StridedRegion, out: UnsafeMutablePointer<Int32>, threads: Int = 1
) {
    copyRegion(src, region, out, gather: true, threads)
}

/// `scatterRegion` for Int32 tensors (token ids).
public func scatterRegion(
    _ src: UnsafePointer<Int32>, region: StridedRegion, into dst: UnsafeMutablePointer<Int32>, threads: Int = 1
) {
    copyRegion(src, region, dst, gather: false, threads)
}

/// Row by row: contiguous side at r·inner, strided side at rowOffset(r).
@inline(__always)
private func copyRegion<T>(
    _ a: UnsafePointer<T>, _ region: StridedRegion, _ b: UnsafeMutablePointer<T>, gather: Bool, _ threads: Int
) {
    let n = region.innerCount
    let s = region.innerStride
    let rows = n == 0 ? 0 : region.count / n
    let t = region.count >= parallelThreshold ? threads : 1
    parallelFor(count: rows, grain: max(1, elementwiseGrain / max(1, n)), threads: t, EachIndex(RegionRow(a: a, region: region, b: b, gather: gather, n: n, s: s)))
}

private struct RegionRow<T>: IndexBody {
    let a: UnsafePointer<T>, region: StridedRegion, b: UnsafeMutablePointer<T>, gather: Bool
    let n: Int, s: Int
    func run(_ r: Int) {
        let strided = region.rowOffset(r)
        let flat = r * n
        if gather {
            let (src, dst) = (a + strided, b + flat)
            if s == 1 { dst.update(from: src, count: n) } else { for i in 0..<n { dst[i] = src[i * s] } }
        } else {
            let (src, dst) = (a + flat, b + strided)
            if s == 1 { dst.update(from: src, count: n) } else { for i in 0..<n { dst[i * s] = src[i] } }
        }
    }
}

/// Row-major strides of a contiguous shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    var s = 1
    for k in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[k] = s
        s *= shape[k]
    }
    return strides
}
