import GencIR

/// For each arena value, the interval of steps during which it must exist:
/// from the step that writes it to the last step that reads it (`pinned`
/// values — the program's inputs, outputs and copied updates — live to the end).
public struct Liveness: Sendable {
    /// `intervals[slot]` = (first, last) step index, or nil for persistent slots.
    public var intervals: [(first: Int, last: Int)?]

    public init(steps: [Step], slots: [Slot], inputs: [Int], pinned: [Int]) {
        var iv: [(first: Int, last: Int)?] = Array(repeating: nil, count: slots.count)
        let end = steps.count
        for s in inputs where Self.isArena(slots[s]) { iv[s] = (0, 0) }
        for (i, step) in steps.enumerated() where Self.isArena(slots[step.output]) {
            let old = iv[step.output]
            iv[step.output] = (old?.first ?? i, max(old?.last ?? i, i))
        }
        for (i, step) in steps.enumerated() {
            for s in step.inputs {
                if let old = iv[s] { iv[s] = (old.first, max(old.last, i)) }
            }
        }
        for s in pinned {
            if let old = iv[s] { iv[s] = (old.first, end) }
        }
        intervals = iv
    }

    static func isArena(_ s: Slot) -> Bool {
        if case .arena = s.storage { return true }
        return false
    }

    /// The largest sum of bytes live at once.
    /// - Complexity: O(values + steps).
    public func peakBytes(_ slots: [Slot], steps: Int) -> Int {
        var delta = [Int](repeating: 0, count: steps + 2)
        for (s, i) in intervals.enumerated() {
            guard let i else { continue }
            delta[i.first] += Planner.aligned(slots[s].type.byteCount)
            delta[i.last + 1] -= Planner.aligned(slots[s].type.byteCount)
        }
        var live = 0, peak = 0
        for d in delta {
            live += d
            peak = max(peak, live)
        }
        return peak
    }
}
