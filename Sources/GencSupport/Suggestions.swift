/// "Did you mean" support: the closest candidate to a misspelled name.
public enum Suggestions {
    /// The candidate nearest to `name` by edit distance (insertions,
    /// deletions, substitutions, adjacent transpositions), if it is close
    /// enough to be a plausible typo: at most a third of the longer name's
    /// length, and at least one edit allowed.
    public static func closest<S: Sequence>(to name: String, among candidates: S) -> String?
    where S.Element == String {
        let a = Array(name.lowercased().unicodeScalars)
        guard !a.isEmpty, a.count <= 64 else { return nil }
        var best: (String, Int)?
        for c in candidates where c != name {
            let b = Array(c.lowercased().unicodeScalars)
            guard b.count <= 64 else { continue }
            let limit = max(1, max(a.count, b.count) / 3)
            let d = distance(a, b)
            if d <= limit, d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best?.0
    }

    /// A ` (did you mean 'x'?)` suffix, or the empty string.
    public static func suffix<S: Sequence>(for name: String, among candidates: S) -> String
    where S.Element == String {
        closest(to: name, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// Optimal-string-alignment distance.
    /// - Complexity: O(a.count × b.count).
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev2 = [Int](repeating: 0, count: b.count + 1)
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    cur[j] = min(cur[j], prev2[j - 2] + 1)
                }
            }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[b.count]
    }
}
