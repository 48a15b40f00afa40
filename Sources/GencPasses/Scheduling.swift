import GencIR

/// Scheduling: orders a partition's kernels topologically (every group runs
/// after the groups it reads from), choosing among the ready kernels the one
/// that frees the most bytes net of what it allocates, so that the peak of
/// live memory stays low; ties go to the earliest node.
///   before (node order): fwd1, fwd2, loss, grad2, grad1, upd2, upd1    (grad2 live until upd2)
///   after  (memory):     fwd1, fwd2, loss, grad2, upd2, grad1, upd1    (grad2 dies at upd2)
///
/// `nodeOrder` is the plain topological order by first node; the planner
/// plans both and keeps the one whose peak is lower (a greedy order is not
/// always better).
public enum Scheduling {
    public static let guarantee = "a topological order of the kernels chosen to keep peak live bytes low"

    public enum Strategy: String, Sendable, CaseIterable {
        case nodeOrder = "node-order"
        case memory
    }

    public static func order(_ g: Graph, _ groups: [KernelGroup], strategy: Strategy) -> [KernelGroup] {
        let count = groups.count
        var groupOf = [Int](repeating: -1, count: g.nodes.count)
        for (k, gr) in groups.enumerated() { for n in gr.nodes { groupOf[n] = k } }
        // Values that cross groups: producer node → the distinct consumer groups.
        var consumers: [Int: Set<Int>] = [:]
        var predecessors = [Set<Int>](repeating: [], count: count)
        for (k, gr) in groups.enumerated() {
            for n in gr.nodes {
                for o in g.nodes[n].operands where groupOf[o.id] >= 0 && groupOf[o.id] != k {
                    predecessors[k].insert(groupOf[o.id])
                    consumers[o.id, default: []].insert(k)
                }
            }
        }
        var pinned = Set<Int>()
        for o in g.outputs { pinned.insert(o.value.id) }
        for u in g.updates { pinned.insert(u.value.id) }
        var successors = [[Int]](repeating: [], count: count)
        var indegree = [Int](repeating: 0, count: count)
        for k in 0..<count {
            indegree[k] = predecessors[k].count
            for p in predecessors[k] { successors[p].append(k) }
        }
        // Bytes each group writes that outlive it; inputs it reads from other groups.
        var outputBytes = [Int](repeating: 0, count: count)
        var crossInputs = [[Int]](repeating: [], count: count)
        for (k, gr) in groups.enumerated() {
            let inGroup = Set(gr.nodes)
            for n in gr.nodes where (consumers[n] != nil || pinned.contains(n)) && gr.kind != .view {
                outputBytes[k] += g.nodes[n].type.byteCount
            }
            var seen = Set<Int>()
            for n in gr.nodes {
                for o in g.nodes[n].operands where !inGroup.contains(o.id) && groupOf[o.id] >= 0 && seen.insert(o.id).inserted {
                    crossInputs[k].append(o.id)
                }
            }
        }
        var remaining = consumers.mapValues(\.count)
        let first = groups.map { $0.nodes.min() ?? 0 }
        var ready = (0..<count).filter { indegree[$0] == 0 }
        var order: [KernelGroup] = []
        order.reserveCapacity(count)
        while !ready.isEmpty {
            var best = 0
            switch strategy {
            case .nodeOrder:
                for r in 1..<ready.count where first[ready[r]] < first[ready[best]] { best = r }
            case .memory:
                func score(_ k: Int) -> Int {
                    var freed = 0
                    for v in crossInputs[k] where remaining[v] == 1 && !pinned.contains(v) && groups[groupOf[v]].kind != .view {
                        freed += g.nodes[v].type.byteCount
                    }
                    return freed - outputBytes[k]
                }
                var bestScore = score(ready[0])
                for r in 1..<ready.count {
                    let s = score(ready[r])
                    if s > bestScore || (s == bestScore && first[ready[r]] < first[ready[best]]) { best = r; bestScore = s }
                }
            }
            let k = ready.remove(at: best)
            order.append(groups[k])
            for v in crossInputs[k] { remaining[v, default: 1] -= 1 }
            for s in successors[k] {
                indegree[s] -= 1
                if indegree[s] == 0 { ready.append(s) }
            }
        }
        return order
    }
}
