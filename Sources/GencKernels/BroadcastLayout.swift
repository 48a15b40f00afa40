// BroadcastLayout.swift — NumPy broadcasting of two operands, reduced to
// the fewest loops.
//
// Shapes are right-aligned; a dimension of size 1 (or a missing leading
// one) repeats along the output. The layout drops output dimensions of size
// 1 and merges neighbours that both operands step through the same way, so
// same-shape operands become one flat loop, a scalar becomes stride 0, and
// a row vector over a matrix becomes rows × one contiguous inner loop.
// Built once, when a plan is made; the kernels only read it.

/// How two operands broadcast to an output, as collapsed loops.
///
/// Row r of the output (of `rowCount`, each `innerCount` long, contiguous)
/// reads operand a from `aOffset(r)` stepping `aInnerStride` (0 or 1), and
/// likewise b.
public struct BroadcastLayout: Hashable, Sendable {
    /// The output shape (row-major, contiguous).
    public let shape: [Int]
    /// Elements in the output.
    public let count: Int
    /// Collapsed loop sizes, outermost first; never empty.
    let dims: [Int]
    let aStrides: [Int]
    let bStrides: [Int]

    /// The layout of `a ⊙ b` with NumPy broadcasting, or nil when the shapes do not broadcast.
    public init?(a: [Int], b: [Int]) {
        guard let out = BroadcastLayout.broadcastShape(a, b) else { return nil }
        self.init(output: out, a: a, b: b)
    }

    /// The layout of `a` broadcast to `output` (b is the output's own shape), or nil.
    public init?(from a: [Int], to output: [Int]) {
        self.init(output: output, a: a, b: output)
    }

    /// The layout of operands a and b broadcast to `output`, or nil when
    /// either does not broadcast to exactly that shape.
    public init?(output: [Int], a: [Int], b: [Int]) {
        let rank = output.count
        guard a.count <= rank, b.count <= rank,
              !output.contains(where: { $0 < 0 }) else { return nil }
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        var dims: [Int] = [], sa: [Int] = [], sb: [Int] = []
        var strideA = 1, strideB = 1
        // Walk from the innermost dimension out, building contiguous strides.
        var rev: [(Int, Int, Int)] = []
        for d in stride(from: rank - 1, through: 0, by: -1) {
            let o = output[d]
            guard pa[d] == o || pa[d] == 1, pb[d] == o || pb[d] == 1 else { return nil }
            if o != 1 {
                rev.append((o, pa[d] == 1 ? 0 : strideA, pb[d] == 1 ? 0 : strideB))
            }
            strideA *= pa[d]
            strideB *= pb[d]
        }
        for (size, da, db) in rev.reversed() {
            if let last = dims.last, let la = sa.last, let lb = sb.last,
               la == da * size, lb == db * size {
                dims[dims.count - 1] = last * size
                sa[sa.count - 1] = da
                sb[sb.count - 1] = db
            } else {
                dims.append(size); sa.append(da); sb.append(db)
            }
        }
        if dims.isEmpty { dims = [1]; sa = [0]; sb = [0] }
        self.shape = output
        self.count = output.reduce(1, *)
        self.dims = dims
        self.aStrides = sa
        self.bStrides = sb
    }

    /// The NumPy broadcast of two shapes, or nil when a pair of sizes differs and neither is 1.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        var out: [Int] = []
        for (x, y) in zip(pa, pb) {
            if x == y || y == 1 { out.append(x) } else if x == 1 { out.append(y) } else { return nil }
        }
        return out
    }

    // MARK: Loops

    /// Length of the innermost (contiguous in the output) loop.
    public var innerCount: Int { dims[dims.count - 1] }
    /// Number of inner loops.
    public var rowCount: Int { innerCount == 0 ? 0 : count / innerCount }
    /// a's step along the inner loop: 1, or 0 when a repeats there.
    var aInnerStride: Int { aStrides[aStrides.count - 1] }
    var bInnerStride: Int { bStrides[bStrides.count - 1] }

    /// Where row `r` starts in a and in b.
    @inline(__always)
    func offsets(ofRow r: Int) -> (a: Int, b: Int) {
        var r = r, oa = 0, ob = 0
        var d = dims.count - 2
        while d >= 0 && r > 0 {
            let i = r % dims[d]
            r /= dims[d]
            oa += i * aStrides[d]
            ob += i * bStrides[d]
            d -= 1
        }
        return (oa, ob)
    }
}

// MARK: - Broadcast copy

/// out = a broadcast to the layout's output shape (the gradient of a sum over the broadcast axes).
///
/// - a: the `a` shape of `layout` (e.g. from `BroadcastLayout(from:to:)`)
/// - out: `layout.shape`, overwritten
public func broadcastCopy(
    _ a: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
    layout: BroadcastLayout, threads: Int = 1
) {
    forRows(layout, threads: threads, BroadcastCopyRow(a: a, out: out, layout: layout))
}

private struct BroadcastCopyRow: IndexBody {
    let a: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, layout: BroadcastLayout
    func run(_ r: Int) {
        let inner = layout.innerCount
        let src = a + layout.offsets(ofRow: r).a
        let dst = out + r * inner
        if layout.aInnerStride == 1 {
            dst.update(from: src, count: inner)
        } else {
            dst.update(repeating: src[0], count: inner)
        }
    }
}

/// Calls `body(row)` for every row of the layout, fanning big layouts out over threads.
@inline(__always)
func forRows<Body: IndexBody>(_ layout: BroadcastLayout, threads: Int, _ body: Body) {
    let rows = layout.rowCount
    let t = layout.count >= parallelThreshold ? threads : 1
    let grain = max(1, elementwiseGrain / max(1, layout.innerCount))
    parallelFor(count: rows, grain: grain, threads: t, EachIndex(body))
}
