import GencIR

/// Shared transposed B: no value is read as the transposed right operand
/// of two or more matmuls that contract over K ≥ 1024 (not counting matmuls
/// of at most 64 rows of which B has two or more: the runtime packs their B
/// once, from its transposed layout); those matmuls read one transposed
/// copy of it, untransposed, of the same result type.
///   before: %1 = parameter "w_hh" : f32[256, 1024]
///           %7 = matmul %5, %1 {transpose_a: false, transpose_b: true} : f32[32, 256]
///           %9 = matmul %8, %1 {transpose_a: false, transpose_b: true} : f32[32, 256]
///   after:  %1 = parameter "w_hh" : f32[256, 1024]; %2 = transpose %1 {perm: [1, 0]} : f32[1024, 256]
///           %8 = matmul %6, %2 {transpose_a: false, transpose_b: false} : f32[32, 256]
///           %10 = matmul %9, %2 {transpose_a: false, transpose_b: false} : f32[32, 256]
/// Why: OpenBLAS 0.3.21's SkylakeX sgemm packs a transposed B of long K
/// slowly: dgates·W_hhᵀ, M 32 N 256 K 1024, takes 316 µs against 194 µs
/// for the same product from Wᵀ stored (1.04–2.1× over the shapes with
/// K ≥ 1024 measured, the most at small M; at K ≤ 512 the two are within
/// 10% either way). An LSTM's backward reads W_hh so once per step, so one
/// copy per step pays for itself many times over. The copy is made right
/// after the value it copies; draws are never touched.
public enum SharedTransposeB {
    public static let pass = Pass(name: "transpose-shared-b", guarantee: "no value is read as the transposed B of two or more matmuls with K ≥ 1024 (but skinny ones the runtime packs): they read one transposed copy, untransposed") { g in
        try run(&g) > 0
    }

    /// The shortest K at which the copy is made (measured, above).
    static let minimumK = 1024
    /// Matmuls that must read one B transposed for the copy to be shared.
    static let minimumReaders = 2

    /// Rows of A up to which the runtime multiplies a B shared by two or
    /// more matmuls from one packed copy, made straight from B's transposed
    /// layout (GencRuntime's `PackedOperandGroup`, `PackedOperand.maxRows`:
    /// the same number, checked by a test). Those readers need no copy.
    public static let packedRows = 64

    /// How many values were given a transposed copy.
    @discardableResult
    static func run(_ g: inout Graph) throws -> Int {
        // Skinny readers of one B, which the runtime packs when there are two or more.
        var skinny = [Int](repeating: 0, count: g.nodes.count)
        for n in g.nodes where isSkinny(n) { skinny[n.operands[1].id] += 1 }
        func reads(_ n: Node, _ g: Graph) -> Bool {
            Self.reads(n, g) && !(isSkinny(n) && skinny[n.operands[1].id] >= 2)
        }
        var readers = [Int](repeating: 0, count: g.nodes.count)
        for n in g.nodes where reads(n, g) { readers[n.operands[1].id] += 1 }
        guard readers.contains(where: { $0 >= minimumReaders }) else { return 0 }

        var out = Graph(name: g.name)
        var map: [Value] = []
        map.reserveCapacity(g.nodes.count)
        var copies: [Int: Value] = [:]
        for (i, n) in g.nodes.enumerated() {
            // Only a B with enough such readers has a copy.
            if reads(n, g), case let .matmul(transposeA, _) = n.op, let t = copies[n.operands[1].id] {
                let v = try out.add(.matmul(transposeA: transposeA, transposeB: false), [map[n.operands[0].id], t], at: n.location)
                guard out.type(v) == n.type else {
                    throw PassError("transpose-shared-b: the rewritten matmul has type \(out.type(v)), not \(n.type)")
                }
                map.append(v)
            } else {
                var node = n
                node.operands = n.operands.map { map[$0.id] }
                out.appendUnchecked(node)
                map.append(Value(out.nodes.count - 1))
            }
            if readers[i] >= minimumReaders {
                copies[i] = try out.add(.transpose([1, 0]), [map[i]], at: n.location)
            }
        }
        out.outputs = g.outputs.map { NamedValue($0.name, map[$0.value.id]) }
        out.updates = g.updates.map { NamedValue($0.name, map[$0.value.id]) }
        g = out
        return copies.count
    }

    /// A matmul computing A·Bᵀ with A untransposed and at most `packedRows` rows.
    static func isSkinny(_ n: Node) -> Bool {
        guard case .matmul(false, true) = n.op, n.type.rank == 2 else { return false }
        return n.type.shape[0] <= packedRows
    }

    /// A matmul reading its B transposed, B [N, K] with K ≥ `minimumK`.
    static func reads(_ n: Node, _ g: Graph) -> Bool {
        guard case .matmul(_, true) = n.op else { return false }
        let b = g.type(n.operands[1])
        return b.rank == 2 && b.shape[1] >= minimumK
    }
}
