import GencIR
import GencPasses

/// Strided views: a slice, transpose or broadcast that is a kernel of its
/// own, or a reshape, whose every reader is a fused loop is never written.
/// The loops read the bytes it would have copied from, through composed
/// strides, so no copy is made (the LSTM's per-step slices of its input
/// projection and of the backward's sums).
///   before: %11 = slice %10 (copy f32[32, 1, 1024]); %12 = reshape %11 (view); fused(%12 at offsets 0, 256, 512, 768)
///   after:  fused(%10 at offsets 1024·t, 1024·t + 256, …; row stride 65536)
extension Planner {
    /// Where a value's elements are: `root`'s buffer at `offset + Σ index[a]·strides[a]`.
    struct Layout: Equatable {
        var root: Int
        var offset: Int
        var strides: [Int]
    }

    /// The values no kernel writes because every reader reads them through
    /// a `Layout` of another buffer, and the layout of every value.
    struct StridedViews {
        var virtual: [Bool]
        var layouts: [Layout]
    }

    /// A kernel-of-its-own affine read: a fused group of one slice,
    /// transpose or broadcast (a group of one otherwise runs the op).
    static func isLoneAffineRead(_ g: Graph, _ gr: KernelGroup) -> Bool {
        guard gr.kind == .fused, gr.nodes.count == 1, g.nodes[gr.nodes[0]].type.dtype == .f32 else { return false }
        switch g.nodes[gr.nodes[0]].op {
        case .slice, .transpose, .broadcast: return true
        case .input, .parameter, .state, .carried, .constant, .random, .unary, .binary, .matmul, .conv, .convInputGrad, .convFilterGrad,
             .pool, .poolGrad, .reduce, .softmax, .logSoftmax, .reshape, .unslice, .concat, .gather, .scatterAdd, .oneHot:
            return false
        }
    }

    static func stridedViews(_ g: Graph, _ groups: [KernelGroup], enabled: Bool) -> StridedViews {
        let count = g.nodes.count
        var groupOf = [Int](repeating: -1, count: count)
        for (k, gr) in groups.enumerated() { for n in gr.nodes { groupOf[n] = k } }
        var candidate = [Bool](repeating: false, count: count)
        if enabled {
            for gr in groups where gr.kind == .view || isLoneAffineRead(g, gr) {
                for n in gr.nodes where g.nodes[n].type.elementCount > 0 { candidate[n] = true }
            }
        }
        // A member of a loop (not its contraction head); a loop of one op
        // that reads a strided view runs as a loop, not as the op's kernel.
        func inLoop(_ r: Int) -> Bool {
            let k = groupOf[r]
            guard k >= 0 else { return false }
            let gr = groups[k]
            return gr.kind == .fused || (gr.kind == .epilogue && gr.nodes[0] != r)
        }
        // Layouts as if every candidate were virtual: where a reshape cannot
        // be expressed over its operand's strides, it needs real bytes.
        var hypothetical: [Layout] = []
        hypothetical.reserveCapacity(count)
        var expressible = [Bool](repeating: true, count: count)
        for i in 0..<count {
            let own = Layout(root: i, offset: 0, strides: AffineRead.contiguousStrides(g.nodes[i].type.shape))
            if candidate[i], let o = g.nodes[i].operands.first, let l = compose(g, i, over: hypothetical[o.id]) {
                hypothetical.append(l)
            } else {
                if candidate[i] { expressible[i] = false }
                hypothetical.append(own)
            }
        }
        var readers = [[Int]](repeating: [], count: count)
        for (i, n) in g.nodes.enumerated() { for o in n.operands where !readers[o.id].contains(i) { readers[o.id].append(i) } }
        var pinned = [Bool](repeating: false, count: count)
        for o in g.outputs { pinned[o.value.id] = true }
        for u in g.updates { pinned[u.value.id] = true }
        // Readers come after what they read: decide from the last node back.
        var virtual = [Bool](repeating: false, count: count)
        for i in stride(from: count - 1, through: 0, by: -1) where candidate[i] && expressible[i] && !pinned[i] {
            virtual[i] = readers[i].allSatisfy { r in inLoop(r) || virtual[r] }
        }
        var layouts: [Layout] = []
        layouts.reserveCapacity(count)
        for i in 0..<count {
            if virtual[i], let o = g.nodes[i].operands.first, let l = compose(g, i, over: layouts[o.id]) {
                layouts.append(l)
            } else {
                virtual[i] = false
                layouts.append(Layout(root: i, offset: 0, strides: AffineRead.contiguousStrides(g.nodes[i].type.shape)))
            }
        }
        return StridedViews(virtual: virtual, layouts: layouts)
    }

    /// The layout of node `i` (a slice, transpose, broadcast or reshape)
    /// when its operand's elements are at `x`; nil where a reshape cannot
    /// be expressed by strides.
    static func compose(_ g: Graph, _ i: Int, over x: Layout) -> Layout? {
        let n = g.nodes[i]
        guard let operand = n.operands.first else { return nil }
        let inShape = g.nodes[operand.id].type.shape
        guard x.strides.count == inShape.count else { return nil }
        switch n.op {
        case let .slice(s):
            // Overflow-checked: hostile steps (2^63 − 1) must give nil, not a trap.
            let out = n.type.shape
            guard s.start.count == inShape.count, s.step.count == inShape.count, out.count == inShape.count else { return nil }
            var offset = x.offset
            var strides: [Int] = []
            for a in inShape.indices {
                let (o, o1) = s.start[a].multipliedReportingOverflow(by: x.strides[a])
                let (sum, o2) = offset.addingReportingOverflow(o)
                // An axis of extent 1 is read at one index: its stride does not matter.
                let (st, o3) = out[a] == 1 ? (0, false) : x.strides[a].multipliedReportingOverflow(by: s.step[a])
                guard !o1, !o2, !o3 else { return nil }
                offset = sum
                strides.append(st)
            }
            return Layout(root: x.root, offset: offset, strides: strides)
        case let .transpose(perm):
            guard perm.count == inShape.count, perm.allSatisfy({ $0 >= 0 && $0 < inShape.count }) else { return nil }
            return Layout(root: x.root, offset: x.offset, strides: perm.map { x.strides[$0] })
        case .broadcast:
            let read = broadcastRead(inShape, to: n.type.shape, strides: x.strides)
            return Layout(root: x.root, offset: x.offset, strides: read.strides)
        case .reshape:
            return reshapedStrides(x.strides, from: inShape, to: n.type.shape).map { Layout(root: x.root, offset: x.offset, strides: $0) }
        case .input, .parameter, .state, .carried, .constant, .random, .unary, .binary, .matmul, .conv, .convInputGrad, .convFilterGrad,
             .pool, .poolGrad, .reduce, .softmax, .logSoftmax, .unslice, .concat, .gather, .scatterAdd, .oneHot:
            return nil
        }
    }

    /// Strides over `new` that read, in row-major order, the same elements
    /// as `strides` over `old` (NumPy's no-copy reshape): axes of extent 1
    /// are free, and each run of old axes that merges or splits must be
    /// unbroken in memory. nil where no strides do, or for empty shapes.
    static func reshapedStrides(_ strides: [Int], from old: [Int], to new: [Int]) -> [Int]? {
        guard strides.count == old.count, !old.contains(0), !new.contains(0) else { return nil }
        let axes = old.indices.filter { old[$0] != 1 }
        var result = [Int](repeating: 0, count: new.count)
        var i = 0, j = 0
        while j < new.count {
            if new[j] == 1 { j += 1; continue }
            guard i < axes.count else { return nil }
            var (po, pn) = (old[axes[i]], new[j])
            var (i2, j2) = (i + 1, j + 1)
            while po != pn {
                if po < pn {
                    guard i2 < axes.count else { return nil }
                    po *= old[axes[i2]]
                    i2 += 1
                } else {
                    guard j2 < new.count else { return nil }
                    pn *= new[j2]
                    j2 += 1
                }
            }
            for k in i..<(i2 - 1) where strides[axes[k]] != strides[axes[k + 1]] * old[axes[k + 1]] { return nil }
            var s = strides[axes[i2 - 1]]
            for k in stride(from: j2 - 1, through: j, by: -1) {
                result[k] = new[k] == 1 ? 0 : s
                let (next, o) = s.multipliedReportingOverflow(by: new[k])
                guard !o else { return nil }
                s = next
            }
            (i, j) = (i2, j2)
        }
        return i == axes.count ? result : nil
    }
}
