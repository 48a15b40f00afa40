/// Guarantees: every arena value gets a 64-byte-aligned offset such that no
/// two values whose live intervals intersect share a byte (what
/// `PlanVerifier` checks), and the arena is no larger than giving every value
/// its own buffer.
///
/// A linear scan in schedule order, like a register allocator's: values are
/// taken by the step that first writes them (larger first on ties); values
/// whose last reader is past go back to a free list, merged with their
/// neighbours; a new value takes the smallest free block that holds it
/// (best fit), or the top of the arena. O(n log n) in the values, but for
/// moving array elements when a free block comes or goes.
///   before: every value its own slot   %3 @0, %4 @4096, %5 @8192 (%3 dead after %4)
///   after:  %5 reuses %3's bytes       %3 @0, %4 @4096, %5 @0
enum ArenaAssignment {
    struct Request {
        var slot: Int
        var first: Int
        var last: Int
        var bytes: Int
    }

    /// Free blocks below the top of the arena, never adjacent, kept sorted
    /// twice: by offset (to merge neighbours) and by (bytes, offset) (best fit).
    struct FreeBlocks {
        var byOffset: [(offset: Int, bytes: Int)] = []
        var bySize: [(bytes: Int, offset: Int)] = []
        var top = 0

        static func lowerBound<T>(_ a: [T], _ less: (T) -> Bool) -> Int {
            var lo = 0, hi = a.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if less(a[mid]) { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }

        mutating func insert(_ offset: Int, _ bytes: Int) {
            byOffset.insert((offset, bytes), at: Self.lowerBound(byOffset) { $0.offset < offset })
            bySize.insert((bytes, offset), at: Self.lowerBound(bySize) { $0.bytes < bytes || ($0.bytes == bytes && $0.offset < offset) })
        }

        mutating func remove(_ offset: Int, _ bytes: Int) {
            byOffset.remove(at: Self.lowerBound(byOffset) { $0.offset < offset })
            bySize.remove(at: Self.lowerBound(bySize) { $0.bytes < bytes || ($0.bytes == bytes && $0.offset < offset) })
        }

        /// Returns `bytes` at `offset` to the free space, merged with its neighbours.
        mutating func release(_ offset: Int, _ bytes: Int) {
            guard bytes > 0 else { return }
            var lo = offset, size = bytes
            let at = Self.lowerBound(byOffset) { $0.offset < offset }
            if at < byOffset.count, byOffset[at].offset == lo + size {
                let next = byOffset[at]
                remove(next.offset, next.bytes)
                size += next.bytes
            }
            if at > 0, byOffset[at - 1].offset + byOffset[at - 1].bytes == lo {
                let previous = byOffset[at - 1]
                remove(previous.offset, previous.bytes)
                lo = previous.offset
                size += previous.bytes
            }
            if lo + size == top { top = lo } else { insert(lo, size) }
        }

        /// The offset of `bytes` new bytes: the smallest free block that holds them, or the top.
        mutating func take(_ bytes: Int) -> Int {
            guard bytes > 0 else { return top }
            let k = Self.lowerBound(bySize) { $0.bytes < bytes }
            guard k < bySize.count else {
                defer { top += bytes }
                return top
            }
            let block = bySize[k]
            remove(block.offset, block.bytes)
            if block.bytes > bytes { insert(block.offset + bytes, block.bytes - bytes) }
            return block.offset
        }
    }

    /// Offsets by slot for `requests` (bytes already aligned), and the arena size.
    static func assign(_ requests: [Request]) -> (offsets: [Int: Int], bytes: Int) {
        let order = requests.indices.sorted {
            let a = requests[$0], b = requests[$1]
            return a.first != b.first ? a.first < b.first : (a.bytes != b.bytes ? a.bytes > b.bytes : a.slot < b.slot)
        }
        var offsets: [Int: Int] = [:]
        offsets.reserveCapacity(requests.count)
        var free = FreeBlocks()
        // Blocks in use, a min-heap by the step after which they are free.
        var live: [(last: Int, offset: Int, bytes: Int)] = []
        func push(_ e: (last: Int, offset: Int, bytes: Int)) {
            live.append(e)
            var i = live.count - 1
            while i > 0, live[(i - 1) / 2].last > live[i].last {
                live.swapAt(i, (i - 1) / 2)
                i = (i - 1) / 2
            }
        }
        func pop() -> (last: Int, offset: Int, bytes: Int) {
            let top = live[0]
            live[0] = live[live.count - 1]
            live.removeLast()
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < live.count, live[l].last < live[m].last { m = l }
                if r < live.count, live[r].last < live[m].last { m = r }
                if m == i { break }
                live.swapAt(i, m)
                i = m
            }
            return top
        }
        var bytes = 0
        for k in order {
            let r = requests[k]
            // Free what died before this value is written.
            while let first = live.first, first.last < r.first {
                let b = pop()
                free.release(b.offset, b.bytes)
            }
            let offset = free.take(r.bytes)
            offsets[r.slot] = offset
            bytes = max(bytes, offset + r.bytes)
            push((r.last, offset, r.bytes))
        }
        return (offsets, bytes)
    }

    /// The other classic strategy (TFLite's "greedy by size"): the largest
    /// values first, each at the best-fitting gap among the values already
    /// placed whose intervals meet its own. It wins where big values with
    /// staggered lifetimes would fragment a linear scan. O(n²) in the worst
    /// case, in comparisons of two integers.
    static func assignBySize(_ requests: [Request]) -> (offsets: [Int: Int], bytes: Int) {
        let order = requests.indices.sorted {
            let a = requests[$0], b = requests[$1]
            return a.bytes != b.bytes ? a.bytes > b.bytes : (a.first != b.first ? a.first < b.first : a.slot < b.slot)
        }
        var placed: [(first: Int, last: Int, offset: Int, end: Int)] = []
        placed.reserveCapacity(requests.count)
        var offsets: [Int: Int] = [:]
        offsets.reserveCapacity(requests.count)
        var bytes = 0
        var meeting: [(offset: Int, end: Int)] = []
        for k in order {
            let r = requests[k]
            meeting.removeAll(keepingCapacity: true)
            for p in placed where p.first <= r.last && r.first <= p.last && p.end > p.offset { meeting.append((p.offset, p.end)) }
            meeting.sort { $0.offset < $1.offset }
            var best: Int?
            var bestGap = Int.max
            var cursor = 0
            for m in meeting {
                if m.offset > cursor {
                    let gap = m.offset - cursor
                    if gap >= r.bytes, gap < bestGap { best = cursor; bestGap = gap }
                }
                cursor = max(cursor, m.end)
            }
            let offset = best ?? cursor
            offsets[r.slot] = offset
            placed.append((r.first, r.last, offset, offset + r.bytes))
            bytes = max(bytes, offset + r.bytes)
        }
        return (offsets, bytes)
    }

    /// Above this many values greedy by size (quadratic where many values
    /// are live together, as in a 10,000-layer stack) is not tried.
    static let bySizeLimit = 12_000

    /// The smaller of the two strategies' layouts.
    static func best(_ requests: [Request]) -> (offsets: [Int: Int], bytes: Int) {
        let scan = assign(requests)
        guard requests.count <= bySizeLimit else { return scan }
        let bySize = assignBySize(requests)
        return bySize.bytes < scan.bytes ? bySize : scan
    }
}
