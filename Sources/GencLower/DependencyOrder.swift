/// Orders items so that each comes after the items it depends on, keeping
/// file order wherever the dependencies allow (the earliest ready item goes
/// next). Kahn's algorithm with a min-heap of ready positions:
/// O((n + e) log n), no recursion. Items on a cycle are left out; the spec
/// has already reported any cycle.
enum DependencyOrder {
    static func sorted<T>(_ items: [T], name: (T) -> String, dependencies: (T) -> [String]) -> [T] {
        var position: [String: Int] = [:]
        for (i, item) in items.enumerated() where position[name(item)] == nil { position[name(item)] = i }
        var waiting = [Int](repeating: 0, count: items.count)
        var dependents = [[Int]](repeating: [], count: items.count)
        for (i, item) in items.enumerated() {
            for d in Set(dependencies(item)) {
                guard let j = position[d] else { continue }
                waiting[i] += 1
                dependents[j].append(i)
            }
        }
        var heap = MinHeap()
        for i in items.indices where waiting[i] == 0 { heap.push(i) }
        var out: [T] = []
        out.reserveCapacity(items.count)
        while let i = heap.pop() {
            out.append(items[i])
            for k in dependents[i] {
                waiting[k] -= 1
                if waiting[k] == 0 { heap.push(k) }
            }
        }
        return out
    }
}

/// A binary min-heap of positions.
private struct MinHeap {
    var items: [Int] = []

    mutating func push(_ x: Int) {
        items.append(x)
        var i = items.count - 1
        while i > 0, items[(i - 1) / 2] > items[i] {
            items.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    mutating func pop() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l] < items[m] { m = l }
                if r < items.count, items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
