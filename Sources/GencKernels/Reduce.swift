// Reduce.swift — sum, mean and max over any set of axes, and the gradients
// that broadcast back.
//
// The layout drops size-1 dimensions and merges neighbours that are both
// reduced or both kept, leaving alternating loops. The innermost loop is
// either reduced (a row summed to one number) or kept (a row added into an
// output row), both vectorised. Input is read once, in order, so results
// are deterministic; with `threads` > 1 the outermost kept loop is split,
// which changes no sum's order.

// MARK: - Layout

/// The kind of a reduction.
public enum ReduceOp: Hashable, Sendable {
    case sum, mean, max
}

/// How an input shape reduces over a set of axes, as collapsed loops.
public struct ReduceLayout: Hashable, Sendable {
    public let inputShape: [Int]
    /// The reduced axes, sorted, in 0..<rank.
    public let axes: [Int]
    /// The output shape, keepdims-style: the input shape with 1 at each reduced axis.
    public let outputShape: [Int]
    public let inputCount: Int
    public let outputCount: Int
    /// Input elements per output element.
    public let reduceCount: Int
    let dims: [Int]
    let reduced: [Bool]
    /// The output's stride per collapsed loop (0 where reduced).
    let outStrides: [Int]

    /// nil when an axis is out of range; negative axes count from the end; repeats are ignored.
    public init?(inputShape: [Int], axes: [Int]) {
        let rank = inputShape.count
        guard !inputShape.contains(where: { $0 < 0 }) else { return nil }
        var set = Set<Int>()
        for a in axes {
            let axis = a < 0 ? a + rank : a
            guard axis >= 0 && axis < rank else { return nil }
            set.insert(axis)
        }
        self.inputShape = inputShape
        self.axes = set.sorted()
        self.outputShape = inputShape.enumerated().map { set.contains($0.offset) ? 1 : $0.element }
        self.inputCount = inputShape.reduce(1, *)
        self.outputCount = outputShape.reduce(1, *)
        self.reduceCount = self.axes.reduce(1) { $0 * inputShape[$1] }
        var dims: [Int] = [], kinds: [Bool] = []
        for (d, size) in inputShape.enumerated() where size != 1 {
            let r = set.contains(d)
            if let last = kinds.last, last == r {
                dims[dims.count - 1] *= size
            } else {
                dims.append(size); kinds.append(r)
            }
        }
        if dims.isEmpty { dims = [1]; kinds = [false] }
        var strides = Array(repeating: 0, count: dims.count)
        var s = 1
        for d in stride(from: dims.count - 1, through: 0, by: -1) where !kinds[d] {
            strides[d] = s
            s *= dims[d]
        }
        self.dims = dims
        self.reduced = kinds
        self.outStrides = strides
    }

    var innerCount: Int { dims[dims.count - 1] }
    var innerReduced: Bool { reduced[reduced.count - 1] }

    /// Where input row r's output starts.
    @inline(__always)
    func outOffset(ofRow r: Int) -> Int {
        var r = r, o = 0
        var d = dims.count - 2
        while d >= 0 && r > 0 {
            o += (r % dims[d]) * outStrides[d]
            r /= dims[d]
            d -= 1
        }
        return o
    }

    /// Calls body on the input rows, split over threads along the outermost
    /// loop when it is kept (disjoint outputs).
    @inline(__always)
    func forRows<Body: ParallelBody>(threads: Int, _ body: Body) {
        let rows = innerCount == 0 ? 0 : inputCount / innerCount
        if threads > 1 && dims.count > 1 && !reduced[0] && inputCount >= parallelThreshold {
            let perOuter = rows / dims[0]
            let grain = max(1, elementwiseGrain / max(1, perOuter * innerCount))
            parallelFor(count: dims[0], grain: grain, threads: threads, OuterRows(body: body, perOuter: perOuter))
        } else {
            body.run(0..<rows)
        }
    }
}

/// The input rows of a block of outermost indices.
private struct OuterRows<Body: ParallelBody>: ParallelBody {
    let body: Body, perOuter: Int
    func run(_ outer: Range<Int>) { body.run(outer.lowerBound * perOuter ..< outer.upperBound * perOuter) }
}

// MARK: - Forward

/// y = op of x over the layout's axes.
///
/// - x: (layout.inputShape)
/// - y: (layout.outputShape), overwritten; mean of nothing is NaN, max of nothing −inf
public func reduce(
    _ op: ReduceOp, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    layout: ReduceLayout, threads: Int = 1
) {
    y.update(repeating: op == .max ? -.infinity : 0, count: layout.outputCount)
    layout.forRows(threads: threads, ReduceRows(op: op, x: x, y: y, layout: layout))
    if op == .mean {
        let scale = 1 / Float(layout.reduceCount)
        for i in 0..<layout.outputCount { y[i] *= scale }
    }
}

private struct ReduceRows: ParallelBody {
    let op: ReduceOp, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, layout: ReduceLayout

    func run(_ rows: Range<Int>) {
        let n = layout.innerCount
        for r in rows {
            let src = x + r * n
            let dst = y + layout.outOffset(ofRow: r)
            switch (op, layout.innerReduced) {
            case (.max, true):
                let m = max8(src, n)
                if m > dst[0] { dst[0] = m }
            case (_, true):
                dst[0] += sum8(src, n)
            case (.max, false):
                for i in 0..<n where src[i] > dst[i] { dst[i] = src[i] }
            case (_, false):
                for i in 0..<n { dst[i] += src[i] }
            }
        }
    }
}

// MARK: - Backward

/// dx = dy broadcast back over the reduced axes, times `scale`: the
/// gradient of a sum (scale 1) or a mean (scale 1/reduceCount).
///
/// - dy: (layout.outputShape)
/// - dx: (layout.inputShape), overwritten
public func reduceBroadcastBack(
    dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
    layout: ReduceLayout, scale: Float = 1, threads: Int = 1
) {
    layout.forRows(threads: threads, BroadcastBackRows(dy: dy, dx: dx, layout: layout, scale: scale))
}

private struct BroadcastBackRows: ParallelBody {
    let dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, layout: ReduceLayout, scale: Float

    func run(_ rows: Range<Int>) {
        let n = layout.innerCount
        for r in rows {
            let src = dy + layout.outOffset(ofRow: r)
            let dst = dx + r * n
            if layout.innerReduced {
                dst.update(repeating: scale * src[0], count: n)
            } else {
                for i in 0..<n { dst[i] = scale * src[i] }
            }
        }
    }
}

/// The gradient of a max reduction: dy goes to the elements equal to the
/// maximum, split evenly among ties (as JAX does).
///
/// - x: (layout.inputShape); y: its max, (layout.outputShape); dy: (layout.outputShape)
/// - dx: (layout.inputShape), overwritten
/// - workspace: `layout.outputCount` floats (the tie counts)
public func reduceMaxBackward(
    x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, layout: ReduceLayout,
    workspace count: UnsafeMutablePointer<Float>
) {
    let n = layout.innerCount
    let rows = n == 0 ? 0 : layout.inputCount / n
    count.update(repeating: 0, count: layout.outputCount)
    for r in 0..<rows {
        let o = layout.outOffset(ofRow: r)
        let step = layout.innerReduced ? 0 : 1
        for i in 0..<n where x[r * n + i] == y[o + i * step] { count[o + i * step] += 1 }
    }
    for r in 0..<rows {
        let o = layout.outOffset(ofRow: r)
        let step = layout.innerReduced ? 0 : 1
        for i in 0..<n {
            let j = o + i * step
            dx[r * n + i] = x[r * n + i] == y[j] ? dy[j] / count[j] : 0
        }
    }
}
