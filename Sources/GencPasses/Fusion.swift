import GencIR

/// Fusion: partitions a program's computing nodes into kernels by fusion
/// kind (TVM's classes), so that the quotient graph of the groups is acyclic,
/// every member of a fused group has the group's loop shape (a reduction
/// sink: its operand has), no member reads a sink of its own group, and no group
/// holds more than `maxGroupSize` nodes. Random draws are never duplicated:
/// each is a member of exactly one group.
///   before: %2 = matmul %0, %1; %4 = add %2, %3; %5 = leaky_relu %4      (3 kernels)
///   after:  epilogue{%2 matmul; %4 add; %5 leaky_relu} shape [64, 512]     (1 kernel)
///
/// The rules, decided by `Op.fusionKind` and nothing else:
/// - leaves (inputs, parameters, state, constants) belong to no group; a
///   constant operand of a fused node becomes an immediate.
/// - elementwise and broadcast nodes (unary, binary, random, one_hot) join a
///   fused or epilogue group of one of their operands whose loop shape is
///   theirs; where several operands' groups qualify, those groups merge.
///   Operands of another shape are read with broadcasting (one_hot reads its
///   i32 ids with stride 0 on the class axis, so the one-hot is never stored).
/// - the injective nodes that read their operand at an affine index (slice,
///   transpose, broadcast) start a fused group whose loop reads the operand
///   through strides, so the copy they would make is never written unless
///   something outside the group needs it.
/// - a reduction joins the fused or epilogue group of its operand as a sink:
///   the loop accumulates it tile by tile, so what it reduces need not be
///   stored. Nothing in a group reads a sink of that group (its value is
///   complete only after the loop): such a reader goes to another group.
/// - reshape is a view (no kernel); other injective ops (unslice, concat),
///   reductions of leaves or single kernels, and opaque ops are single kernels.
/// - a contraction (`outElementwiseFusable`), softmax and log-softmax start an
///   epilogue group: the head runs first, the loop reads its result in cache.
/// A merge that would make a group depend on itself through another group
/// is refused, so the groups can always be scheduled.
/// After placement, an elementwise member read only by one other loop of its
/// shape moves there when its group then stores fewer values
/// (`moveIntoConsumers`: a backward factor made of forward values).
public enum Fusion {
    public static let guarantee = "kernels by fusion kind: elementwise trees one loop, contractions and softmaxes with their epilogue, reductions as sinks, an acyclic quotient"
    public static let maxGroupSize = 64

    enum Role {
        case none, view, single, head, member, affineRead, sink
    }

    static func role(_ n: Node) -> Role {
        let f32 = n.type.dtype == .f32
        switch n.op {
        case .input, .parameter, .state, .carried, .constant: return .none
        case .reshape: return .view
        case .unary, .binary, .random, .oneHot: return f32 ? .member : .single
        case .slice, .transpose, .broadcast: return f32 ? .affineRead : .single
        case .matmul, .conv, .convInputGrad, .convFilterGrad: return .head
        case .softmax, .logSoftmax: return f32 ? .head : .single
        case .reduce: return f32 ? .sink : .single
        case .unslice, .concat, .pool, .poolGrad, .gather, .scatterAdd: return .single
        }
    }

    /// The groups of `g`'s computing nodes (every non-leaf node is in exactly
    /// one). With `enabled` false every node is its own single kernel (and
    /// reshapes still views): the unoptimized plan tests compare against.
    public static func partition(_ g: Graph, enabled: Bool = true) -> [KernelGroup] {
        var p = Partitioner(g)
        for i in g.nodes.indices { p.place(i, fuse: enabled) }
        if enabled { p.moveIntoConsumers() }
        return p.groups()
    }

    struct Partitioner {
        let g: Graph
        var groupOf: [Int]
        var kinds: [KernelGroup.Kind] = []
        var members: [[Int]] = []
        var shapes: [[Int]] = []
        /// Groups each group reads from (ids may be stale: resolve with `find`).
        var reads: [Set<Int>] = []
        var parent: [Int] = []
        var stamp: [Int] = []
        var epoch = 0

        init(_ g: Graph) {
            self.g = g
            groupOf = Array(repeating: -1, count: g.nodes.count)
        }

        mutating func find(_ x: Int) -> Int {
            var r = x
            while parent[r] != r { r = parent[r] }
            var y = x
            while parent[y] != r { let next = parent[y]; parent[y] = r; y = next }
            return r
        }

        mutating func newGroup(_ kind: KernelGroup.Kind, _ node: Int) -> Int {
            let id = kinds.count
            kinds.append(kind)
            members.append([node])
            shapes.append(g.nodes[node].type.shape)
            reads.append([])
            parent.append(id)
            stamp.append(0)
            groupOf[node] = id
            addReads(id, node)
            return id
        }

        mutating func addReads(_ id: Int, _ node: Int) {
            for o in g.nodes[node].operands where groupOf[o.id] >= 0 {
                let h = find(groupOf[o.id])
                if h != id { reads[id].insert(h) }
            }
        }

        /// Whether group `target` is reachable from `from` along reads (`from` reads, transitively, from `target`).
        mutating func reaches(_ from: Int, _ target: Int) -> Bool {
            epoch += 1
            var stack = [find(from)]
            while let x = stack.popLast() {
                if x == target { return true }
                if stamp[x] == epoch { continue }
                stamp[x] = epoch
                for y in reads[x] {
                    let r = find(y)
                    if stamp[r] != epoch { stack.append(r) }
                }
            }
            return false
        }

        mutating func place(_ i: Int, fuse: Bool) {
            let node = g.nodes[i]
            switch Self.roleOf(node) {
            case .none: return
            case .view: _ = newGroup(.view, i)
            case .single: _ = newGroup(.single, i)
            case .head: _ = newGroup(fuse ? .epilogue : .single, i)
            case .affineRead: _ = newGroup(fuse ? .fused : .single, i)
            case .sink:
                // The group computing the operand, when its loop runs over the operand's shape.
                if fuse, let o = node.operands.first, groupOf[o.id] >= 0, Fusion.role(g.nodes[o.id]) != .sink {
                    let h = find(groupOf[o.id])
                    if kinds[h] == .fused || kinds[h] == .epilogue, shapes[h] == g.nodes[o.id].type.shape, members[h].count < maxGroupSize {
                        members[h].append(i)
                        groupOf[i] = h
                        return
                    }
                }
                _ = newGroup(.single, i)
            case .member:
                guard fuse else { _ = newGroup(.single, i); return }
                // The fusable groups of same-shape operands.
                var candidates: [Int] = []
                for o in node.operands where groupOf[o.id] >= 0 && g.nodes[o.id].type.shape == node.type.shape {
                    let h = find(groupOf[o.id])
                    if (kinds[h] == .fused || kinds[h] == .epilogue), shapes[h] == node.type.shape, !candidates.contains(h) { candidates.append(h) }
                }
                var target: Int?
                for h in candidates where members[h].count < maxGroupSize {
                    if let t = target {
                        if canMerge(t, h) { merge(into: t, h) }
                    } else if canJoin(i, h) {
                        target = h
                    }
                }
                if let t = target, canJoin(i, t) {
                    members[t].append(i)
                    groupOf[i] = t
                    addReads(t, i)
                } else {
                    _ = newGroup(.fused, i)
                }
            }
        }

        static func roleOf(_ n: Node) -> Role { Fusion.role(n) }

        /// Whether `n` may leave its group for its readers' loop: an
        /// elementwise node that reads its operands at its own index.
        static func movable(_ n: Node) -> Bool {
            switch n.op {
            case .unary, .binary: return n.type.dtype == .f32
            case .random, .oneHot, .input, .parameter, .state, .carried, .constant, .matmul, .conv, .convInputGrad, .convFilterGrad,
                 .pool, .poolGrad, .reduce, .softmax, .logSoftmax, .reshape, .transpose, .slice, .unslice, .concat, .broadcast,
                 .gather, .scatterAdd:
                return false
            }
        }

        /// Moves elementwise members out of a fused or epilogue group into
        /// the one group that reads them, when that stores fewer values:
        /// greedy placement puts a node with the group of its operands, so
        /// a backward factor made only of forward values (an LSTM's 1 − tanh²
        /// of its cell) is computed, and stored, by the forward loop, though
        /// only a backward loop reads it. A set S moves from G to C when
        /// every reader of each node of S is in S or in C (not C's head, not
        /// a node of C that reads at other indices), C is a fused or epilogue
        /// group of the same loop shape, and fewer of G's values are read
        /// outside G afterwards. The same ops run in the same order on the
        /// same values, so results are unchanged to the bit; the quotient
        /// stays acyclic (C already read G, which reads whatever S reads).
        mutating func moveIntoConsumers() {
            var users = [[Int]](repeating: [], count: g.nodes.count)
            for (i, n) in g.nodes.enumerated() {
                for o in n.operands where !users[o.id].contains(i) { users[o.id].append(i) }
            }
            var external = [Bool](repeating: false, count: g.nodes.count)
            for v in g.outputs + g.updates { external[v.value.id] = true }
            for m in g.nodes.indices.reversed() {
                guard groupOf[m] >= 0, Self.movable(g.nodes[m]), !external[m] else { continue }
                let from = find(groupOf[m])
                guard kinds[from] == .fused || kinds[from] == .epilogue, members[from].first != m || kinds[from] == .fused else { continue }
                // The one group that reads m.
                var to: Int?
                var fits = !users[m].isEmpty
                for u in users[m] {
                    let c = find(groupOf[u])
                    if to == nil { to = c }
                    if c != to || c == from { fits = false }
                }
                guard fits, let into = to, kinds[into] == .fused || kinds[into] == .epilogue,
                      shapes[into] == shapes[from], shapes[into] == g.nodes[m].type.shape else { continue }
                // A reader in `into` must read at the loop's index, after its head.
                func readsInLoop(_ r: Int) -> Bool {
                    if case .oneHot = g.nodes[r].op { return false }
                    return Fusion.role(g.nodes[r]) != .affineRead && !(kinds[into] == .epilogue && members[into].first == r)
                }
                // S: m and the members of `from` that only S and the loop of `into` read, closed upward.
                var moving: Set<Int> = [m]
                var grew = true
                while grew {
                    grew = false
                    for x in moving {
                        for o in g.nodes[x].operands where !moving.contains(o.id) && groupOf[o.id] >= 0 && find(groupOf[o.id]) == from {
                            let n = g.nodes[o.id]
                            guard Self.movable(n), !external[o.id], members[from].first != o.id || kinds[from] == .fused,
                                  n.type.shape == shapes[from] else { continue }
                            if users[o.id].allSatisfy({ moving.contains($0) || (find(groupOf[$0]) == into && readsInLoop($0)) }) {
                                moving.insert(o.id)
                                grew = true
                            }
                        }
                    }
                }
                guard members[from].count > moving.count, members[into].count + moving.count < maxGroupSize else { continue }
                guard moving.flatMap({ users[$0] }).allSatisfy({ moving.contains($0) || readsInLoop($0) }) else { continue }
                // Values of `from` read outside it, before and after.
                func exported(_ x: Int, without: Set<Int>) -> Bool {
                    external[x] || users[x].contains { !without.contains($0) && find(groupOf[$0]) != from }
                }
                var before = 0, after = 0
                let stays = Set(members[from]).subtracting(moving)
                for x in members[from] {
                    if exported(x, without: []) { before += 1 }
                    if stays.contains(x), external[x] || users[x].contains(where: { moving.contains($0) || find(groupOf[$0]) != from }) { after += 1 }
                }
                guard after < before else { continue }
                members[from].removeAll { moving.contains($0) }
                var all = (members[into] + moving).sorted()
                if kinds[into] == .epilogue, let head = members[into].first, let k = all.firstIndex(of: head) {
                    all.remove(at: k)
                    all.insert(head, at: 0)
                }
                members[into] = all
                for x in moving { groupOf[x] = into }
                reads[into] = []
                for x in members[into] { addReads(into, x) }
                reads[from] = []
                for x in members[from] { addReads(from, x) }
            }
        }

        /// Whether `v` is a reduction accumulated by the loop of `h` (complete only after it).
        mutating func isSink(_ v: Int, of h: Int) -> Bool {
            groupOf[v] >= 0 && Fusion.role(g.nodes[v]) == .sink && find(groupOf[v]) == h
        }

        /// Node `i` may join `h` when it reads no sink of `h` and none of its
        /// operands outside `h` depends on `h`.
        mutating func canJoin(_ i: Int, _ h: Int) -> Bool {
            for o in g.nodes[i].operands where groupOf[o.id] >= 0 {
                let k = find(groupOf[o.id])
                if k == h, isSink(o.id, of: h) { return false }
                if k != h, reaches(k, h) { return false }
            }
            return true
        }

        /// Groups `a` and `b` may merge when neither reaches the other through a third group,
        /// the merged group keeps one loop shape, and an epilogue keeps one head.
        mutating func canMerge(_ a: Int, _ b: Int) -> Bool {
            guard a != b, shapes[a] == shapes[b], members[a].count + members[b].count < maxGroupSize else { return false }
            guard !(kinds[a] == .epilogue && kinds[b] == .epilogue) else { return false }
            // A contraction runs before the loop, so it cannot read what the loop computes.
            for (e, other) in [(a, b), (b, a)] where kinds[e] == .epilogue {
                if g.nodes[members[e][0]].operands.contains(where: { groupOf[$0.id] >= 0 && find(groupOf[$0.id]) == other }) { return false }
            }
            // A slice, transpose, broadcast or one_hot reads its operand at other
            // indices than the loop's own; a sink is complete only after the loop.
            for (x, y) in [(a, b), (b, a)] {
                for m in members[x] {
                    var otherIndices = Fusion.role(g.nodes[m]) == .affineRead
                    if case .oneHot = g.nodes[m].op { otherIndices = true }
                    for o in g.nodes[m].operands where groupOf[o.id] >= 0 && find(groupOf[o.id]) == y {
                        if otherIndices || Fusion.role(g.nodes[o.id]) == .sink { return false }
                    }
                }
            }
            for (x, y) in [(a, b), (b, a)] {
                for k in reads[x] {
                    let r = find(k)
                    if r != y, reaches(r, y) { return false }
                }
            }
            return true
        }

        mutating func merge(into a: Int, _ b: Int) {
            // An epilogue's head stays first: the merged group is the epilogue.
            let head = kinds[a] == .epilogue ? members[a][0] : kinds[b] == .epilogue ? members[b][0] : nil
            if kinds[b] == .epilogue { kinds[a] = .epilogue }
            var all = (members[a] + members[b]).sorted()
            if let h = head, let k = all.firstIndex(of: h) { all.remove(at: k); all.insert(h, at: 0) }
            members[a] = all
            members[b] = []
            for n in all { groupOf[n] = a }
            reads[a].formUnion(reads[b])
            reads[b] = []
            parent[b] = a
            reads[a] = Set(reads[a].map { find($0) }.filter { $0 != a })
        }

        mutating func groups() -> [KernelGroup] {
            var out: [KernelGroup] = []
            for id in kinds.indices where parent[id] == id && !members[id].isEmpty {
                out.append(KernelGroup(kind: kinds[id], nodes: members[id], shape: shapes[id]))
            }
            return out
        }
    }
}
