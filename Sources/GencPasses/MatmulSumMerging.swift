import GencIR

/// Matmul-sum merging: no sum of single-use matmuls with the same
/// transposes and type is left as separate products where one product of
/// their operands concatenated along the contracted axis K copies fewer
/// elements than the separate results would write; the sum's readers read
/// the merged product (plus the sum's other terms), of the same type.
///   before: %5 = matmul %0, %1 {transpose_a: true, transpose_b: false} : f32[256, 1024]
///           %6 = matmul %2, %3 {transpose_a: true, transpose_b: false} : f32[256, 1024]
///           %7 = add %5, %6 : f32[256, 1024]
///   after:  %7 = concat %0, %2 {axis: 0}; %8 = concat %1, %3 {axis: 0}
///           %9 = matmul %7, %8 {transpose_a: true, transpose_b: false} : f32[256, 1024]
/// Why: reverse mode differentiates a weight read at every step of a loop
/// (an LSTM's W_hh, 63 reads per layer in char-lstm) into one small-K GEMM
/// per step, each writing a whole weight-sized result, and one long add.
/// A·B + C·D = [A C]·[B; D]: one GEMM with the summed K runs near peak, and
/// the arena holds two thin concats instead of one result per step.
/// A sum is a tree of `add`s of one type whose inner adds have no other
/// reader; its terms are kept in order, the merged products first. Only
/// the summation order changes (rounding, not meaning). Draws are never
/// touched (matmul and add are pure); the replaced nodes stay for `dce`.
public enum MatmulSumMerging {
    public static let pass = Pass(name: "merge-matmul-sums", guarantee: "no sum of single-use matmuls of one kind is left unmerged where merging along K copies less than their results") { g in
        try run(&g) > 0
    }

    /// One group of terms the rewrite turns into one matmul.
    struct Group {
        var transposeA: Bool
        var transposeB: Bool
        var terms: [Value]
    }

    /// How many sums were merged.
    @discardableResult
    static func run(_ g: inout Graph) throws -> Int {
        let uses = readers(g)
        var inner = [Bool](repeating: false, count: g.nodes.count)
        // Roots are found from the end, so a sum's inner adds are marked
        // before the walk reaches them.
        var merges: [Int: (groups: [Group], rest: [Value])] = [:]
        for i in g.nodes.indices.reversed() where !inner[i] && isSum(g, Value(i)) {
            var terms: [Value] = []
            collect(g, Value(i), uses, into: &terms, inner: &inner)
            let (groups, rest) = partition(g, terms, uses)
            if !groups.isEmpty { merges[i] = (groups, rest) }
        }
        guard !merges.isEmpty else { return 0 }

        var out = Graph(name: g.name)
        var map: [Value] = []
        map.reserveCapacity(g.nodes.count)
        for (i, n) in g.nodes.enumerated() {
            if let m = merges[i] {
                map.append(try emit(m.groups, m.rest, type: n.type, at: n.location, map: map, into: &out))
            } else {
                var node = n
                node.operands = n.operands.map { map[$0.id] }
                out.appendUnchecked(node)
                map.append(Value(out.nodes.count - 1))
            }
        }
        out.outputs = g.outputs.map { NamedValue($0.name, map[$0.value.id]) }
        out.updates = g.updates.map { NamedValue($0.name, map[$0.value.id]) }
        g = out
        return merges.count
    }

    /// Readers of each value: operands of nodes, outputs and updates.
    static func readers(_ g: Graph) -> [Int] {
        var uses = [Int](repeating: 0, count: g.nodes.count)
        for n in g.nodes { for o in n.operands { uses[o.id] += 1 } }
        for o in g.outputs { uses[o.value.id] += 1 }
        for u in g.updates { uses[u.value.id] += 1 }
        return uses
    }

    /// An `add` of two operands of its own type (no broadcasting).
    static func isSum(_ g: Graph, _ v: Value) -> Bool {
        let n = g.node(v)
        guard case .binary(.add) = n.op, n.operands.count == 2 else { return false }
        return n.operands.allSatisfy { g.type($0) == n.type }
    }

    /// The terms of the sum at `root`, left to right: inner adds (sums of
    /// the same type read only here) are opened, everything else is a
    /// term. A stack, not recursion: a chain is as long as the model's loop.
    static func collect(_ g: Graph, _ root: Value, _ uses: [Int], into terms: inout [Value], inner: inout [Bool]) {
        var stack = Array(g.node(root).operands.reversed())
        while let v = stack.popLast() {
            if uses[v.id] == 1, isSum(g, v) {
                inner[v.id] = true
                stack += g.node(v).operands.reversed()
            } else {
                terms.append(v)
            }
        }
    }

    /// The terms that merge, grouped by transposes (in order of their first
    /// term), and the rest. A group is merged only if it has two terms or
    /// more and its concats copy no more elements than the separate
    /// results beyond the first would write.
    static func partition(_ g: Graph, _ terms: [Value], _ uses: [Int]) -> ([Group], [Value]) {
        var groups: [Group] = []
        for t in terms where uses[t.id] == 1 {
            guard case let .matmul(ta, tb) = g.node(t).op else { continue }
            if let k = groups.firstIndex(where: { $0.transposeA == ta && $0.transposeB == tb }) {
                groups[k].terms.append(t)
            } else {
                groups.append(Group(transposeA: ta, transposeB: tb, terms: [t]))
            }
        }
        groups = groups.filter { $0.terms.count >= 2 && pays(g, $0) }
        let merged = Set(groups.flatMap { $0.terms.map(\.id) })
        return (groups, terms.filter { !merged.contains($0.id) })
    }

    /// Copying K·(M + N) elements into the concats against writing (and
    /// reading back) (terms − 1)·M·N elements of separate results. In
    /// Double: counts of a verified graph, never trapping on overflow.
    static func pays(_ g: Graph, _ group: Group) -> Bool {
        let shape = g.type(group.terms[0]).shape
        let m = Double(shape[0]), n = Double(shape[1])
        let k = group.terms.reduce(0.0) { sum, t in
            let a = g.type(g.node(t).operands[0]).shape
            return sum + Double(group.transposeA ? a[0] : a[1])
        }
        return k * (m + n) <= Double(group.terms.count - 1) * m * n
    }

    /// The merged products and the other terms, added left to right, at the
    /// sum's place; returns the value that replaces the sum.
    static func emit(_ groups: [Group], _ rest: [Value], type: TensorType, at location: IRLocation?, map: [Value], into out: inout Graph) throws -> Value {
        var terms: [Value] = []
        for group in groups {
            let a = group.terms.map { map[$0.id] }
            // op(A) is [M, K]: K is axis 0 of a transposed A, else axis 1;
            // op(B) is [K, N]: K is axis 0 of B, else axis 1 of a transposed B.
            let lhs = try out.add(.concat(axis: group.transposeA ? 0 : 1), a.map { out.node($0).operands[0] }, at: location)
            let rhs = try out.add(.concat(axis: group.transposeB ? 1 : 0), a.map { out.node($0).operands[1] }, at: location)
            terms.append(try out.add(.matmul(transposeA: group.transposeA, transposeB: group.transposeB), [lhs, rhs], at: location))
        }
        terms += rest.map { map[$0.id] }
        var sum = terms[0]
        for t in terms.dropFirst() { sum = try out.add(.binary(.add), [sum, t], at: location) }
        guard out.type(sum) == type else {
            throw PassError("merge-matmul-sums: the merged sum has type \(out.type(sum)), not \(type)")
        }
        return sum
    }
}
