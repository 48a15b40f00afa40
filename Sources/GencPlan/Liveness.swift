import GencIR

/// For each arena buffer, the interval of steps during which it must exist:
/// from the step that writes it to the last step that reads it, or that
/// reads a view of it (`pinned` buffers — the program's inputs, outputs and
/// copied updates — live to the end). Views and persistent slots have no
/// interval of their own: a view keeps its root alive.
public struct Liveness: Sendable {
    /// `intervals[slot]` = (first, last) step index, or nil for persistent slots and views.
    public var intervals: [(first: Int, last: Int)?]

    public init(steps: [Step], slots: [Slot], inputs: [Int], pinned: [Int]) {
        var iv: [(first: Int, last: Int)?] = Array(repeating: nil, count: slots.count)
        let end = steps.count
        func root(_ s: Int) -> Int { Self.root(s, slots) }
        for s in inputs where Self.isArena(slots[root(s)]) { iv[root(s)] = (0, 0) }
        for (i, step) in steps.enumerated() {
            for o in step.outputs where Self.isArena(slots[o]) {
                let old = iv[o]
                iv[o] = (old?.first ?? i, max(old?.last ?? i, i))
            }
        }
        for (i, step) in steps.enumerated() {
            for s in step.inputs {
                let r = root(s)
                if let old = iv[r] { iv[r] = (old.first, max(old.last, i)) }
            }
        }
        for s in pinned {
            let r = root(s)
            if let old = iv[r] { iv[r] = (old.first, end) }
        }
        intervals = iv
    }

    /// The slot whose bytes `s` are (itself unless it is a view).
    public static func root(_ s: Int, _ slots: [Slot]) -> Int {
        if case let .view(of) = slots[s].storage, of >= 0, of < slots.count { return of }
        return s
    }

    static func isArena(_ s: Slot) -> Bool {
        if case .arena = s.storage { return true }
        return false
    }

    /// The largest sum of bytes live at once, and the step where it is
    /// reached; `groups` maps slots that share one buffer in place to a
    /// representative, counted once.
    /// - Complexity: O(values + steps).
    public func peak(_ slots: [Slot], steps: Int, sharing: [Int: Int] = [:]) -> (bytes: Int, step: Int) {
        var delta = [Int](repeating: 0, count: steps + 2)
        var merged: [Int: (first: Int, last: Int, bytes: Int)] = [:]
        for (s, i) in intervals.enumerated() {
            guard let i else { continue }
            let key = sharing[s] ?? s
            let b = Planner.aligned(slots[s].type.byteCount)
            if let m = merged[key] {
                merged[key] = (min(m.first, i.first), max(m.last, i.last), max(m.bytes, b))
            } else {
                merged[key] = (i.first, i.last, b)
            }
        }
        for m in merged.values {
            delta[m.first] += m.bytes
            delta[m.last + 1] -= m.bytes
        }
        var live = 0, peak = 0, at = 0
        for (k, d) in delta.enumerated() {
            live += d
            if live > peak { peak = live; at = k }
        }
        return (peak, at)
    }
}
