import Foundation

/// A small FileCheck (LLVM's) for pass tests: checks a pass's printed
/// output against directives written beside the input.
///
///     CHECK: %[[X:[0-9]+]] = matmul
///     CHECK-NOT: matmul
///     CHECK: add %[[X]], %[[X]]
///     CHECK-NEXT: output "loss"
///
/// - `CHECK: p` matches the first line after the previous match that
///   contains p (anywhere in the directive's line: `// CHECK:` and
///   `# CHECK:` work).
/// - `CHECK-NEXT: p`: the line right after the previous match.
/// - `CHECK-NOT: p`: no line between the previous match (or the start) and
///   the next match (or the end) contains p.
/// - `CHECK-COUNT-N: p`: N lines containing p, in order after the previous
///   match (N `CHECK:`s; more may follow: add a `CHECK-NOT` to forbid them).
///
/// Patterns are literal substrings, except `{{regex}}` (NSRegularExpression),
/// `[[NAME:regex]]`, which captures what the regex matched, and `[[NAME]]`,
/// which matches what NAME captured last (in this directive or an earlier one).
public enum FileCheck {
    /// The problems found, each quoting the directive's line of `checks`
    /// and the closest output line; empty when the output passes.
    public static func check(_ output: String, against checks: String) -> [String] {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var directives: [Directive] = []
        var problems: [String] = []
        for (i, raw) in checks.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do {
                if let d = try Directive(line: String(raw), number: i + 1) { directives.append(d) }
            } catch let e as PatternError {
                problems.append("check line \(i + 1): \(e.message): \(raw.trimmingCharacters(in: .whitespaces))")
            } catch {
                problems.append("check line \(i + 1): \(error)")
            }
        }
        if !problems.isEmpty { return problems }
        if directives.isEmpty { return ["no CHECK directives in the check text"] }
        var state = State(lines: lines)
        var pendingNots: [Directive] = []
        for d in directives {
            switch d.kind {
            case .not:
                pendingNots.append(d)
                continue
            case .next:
                guard let last = state.last else {
                    return problems + ["check line \(d.number): CHECK-NEXT: \(d.pattern.text) has no previous match to follow"]
                }
                let at = last + 1
                guard at < lines.count, case let .success(captures) = state.match(d.pattern, line: at) else {
                    let found = at < lines.count ? "output line \(at + 1) is `\(lines[at])`" : "the output ends at line \(lines.count)"
                    return problems + ["check line \(d.number): CHECK-NEXT: \(d.pattern.text) does not match the line after output line \(last + 1); \(found)"]
                }
                problems += state.checkNots(pendingNots, from: state.start, to: at)
                pendingNots = []
                state.accept(at, captures)
            case let .count(n):
                for k in 1...n {
                    switch state.search(d.pattern) {
                    case let .found(at, captures):
                        if k == 1 { problems += state.checkNots(pendingNots, from: state.start, to: at) }
                        pendingNots = []
                        state.accept(at, captures)
                    case let .failed(message):
                        return problems + ["check line \(d.number): CHECK-COUNT-\(n): \(d.pattern.text): match \(k) of \(n) \(message)"]
                    }
                }
            case .plain:
                switch state.search(d.pattern) {
                case let .found(at, captures):
                    problems += state.checkNots(pendingNots, from: state.start, to: at)
                    pendingNots = []
                    state.accept(at, captures)
                case let .failed(message):
                    return problems + ["check line \(d.number): CHECK: \(d.pattern.text) \(message)"]
                }
            }
        }
        problems += state.checkNots(pendingNots, from: state.start, to: lines.count)
        return problems
    }

    // MARK: - Directives and patterns

    struct PatternError: Error { var message: String }

    struct Directive {
        enum Kind: Equatable { case plain, next, not, count(Int) }
        var kind: Kind
        var pattern: Pattern
        var number: Int

        /// The directive on one line of the check text, if any.
        init?(line: String, number: Int) throws {
            guard let r = line.range(of: #"CHECK(-NEXT|-NOT|-COUNT-[0-9]+)?:"#, options: .regularExpression) else { return nil }
            let tag = line[r].dropLast()
            switch tag {
            case "CHECK": kind = .plain
            case "CHECK-NEXT": kind = .next
            case "CHECK-NOT": kind = .not
            default:
                guard let n = Int(tag.dropFirst("CHECK-COUNT-".count)), n >= 1 else { throw PatternError(message: "CHECK-COUNT needs a count of at least 1") }
                kind = .count(n)
            }
            let text = line[r.upperBound...].trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { throw PatternError(message: "\(tag) has an empty pattern") }
            pattern = try Pattern(text)
            self.number = number
        }
    }

    struct Pattern {
        enum Piece {
            case literal(String)
            case regex(String)
            case define(name: String, regex: String)
            case use(name: String)
        }
        var text: String
        var pieces: [Piece]

        init(_ text: String) throws {
            self.text = text
            pieces = []
            var rest = Substring(text)
            var literal = ""
            func flush() {
                if !literal.isEmpty { pieces.append(.literal(literal)) }
                literal = ""
            }
            while !rest.isEmpty {
                if rest.hasPrefix("{{") {
                    guard let end = rest.range(of: "}}") else { throw PatternError(message: "unterminated {{") }
                    flush()
                    let re = String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound])
                    guard (try? NSRegularExpression(pattern: re)) != nil else { throw PatternError(message: "bad regex {{\(re)}}") }
                    pieces.append(.regex(re))
                    rest = rest[end.upperBound...]
                } else if rest.hasPrefix("[[") {
                    guard let end = rest.range(of: "]]") else { throw PatternError(message: "unterminated [[") }
                    flush()
                    let body = String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound])
                    if let colon = body.firstIndex(of: ":") {
                        let name = String(body[..<colon]), re = String(body[body.index(after: colon)...])
                        guard Self.isName(name) else { throw PatternError(message: "bad variable name '\(name)'") }
                        guard (try? NSRegularExpression(pattern: re)) != nil else { throw PatternError(message: "bad regex in [[\(body)]]") }
                        pieces.append(.define(name: name, regex: re))
                    } else {
                        guard Self.isName(body) else { throw PatternError(message: "bad variable name '\(body)'") }
                        pieces.append(.use(name: body))
                    }
                    rest = rest[end.upperBound...]
                } else {
                    literal.append(rest.removeFirst())
                }
            }
            flush()
        }

        static func isName(_ s: String) -> Bool {
            guard let f = s.first, f.isLetter || f == "_" else { return false }
            return s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        }

        /// The pattern as one regex, with the capture group of each name it
        /// defines; fails on the use of a name never defined.
        func compile(_ vars: [String: String]) throws -> (NSRegularExpression, [String: Int]) {
            var re = ""
            var groups = 0
            var defined: [String: Int] = [:]
            for p in pieces {
                switch p {
                case let .literal(s):
                    re += NSRegularExpression.escapedPattern(for: s)
                case let .regex(r):
                    re += "(?:\(r))"
                    groups += try NSRegularExpression(pattern: r).numberOfCaptureGroups
                case let .define(name, r):
                    groups += 1
                    defined[name] = groups
                    re += "(\(r))"
                    groups += try NSRegularExpression(pattern: r).numberOfCaptureGroups
                case let .use(name):
                    if let g = defined[name] {
                        re += "\\\(g)"
                    } else if let v = vars[name] {
                        re += NSRegularExpression.escapedPattern(for: v)
                    } else {
                        throw PatternError(message: "[[\(name)]] is used before it is defined")
                    }
                }
            }
            return (try NSRegularExpression(pattern: re), defined)
        }

        /// The pattern's literal text (regex parts left out), to find the closest line.
        var literalText: String {
            pieces.map { p -> String in
                if case let .literal(s) = p { return s }
                return ""
            }.joined()
        }
    }

    // MARK: - Matching

    enum LineMatch { case success([String: String]), failure }
    enum SearchResult { case found(Int, [String: String]), failed(String) }

    struct State {
        var lines: [String]
        /// The line of the previous match.
        var last: Int?
        var vars: [String: String] = [:]

        init(lines: [String]) { self.lines = lines }

        /// The first line a search may match.
        var start: Int { last.map { $0 + 1 } ?? 0 }

        mutating func accept(_ line: Int, _ captures: [String: String]) {
            last = line
            vars.merge(captures) { $1 }
        }

        func match(_ p: Pattern, line i: Int) -> LineMatch {
            guard let (re, groups) = try? p.compile(vars) else { return .failure }
            let s = lines[i]
            guard let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return .failure }
            var captures: [String: String] = [:]
            for (name, g) in groups {
                if let r = Range(m.range(at: g), in: s) { captures[name] = String(s[r]) }
            }
            return .success(captures)
        }

        func search(_ p: Pattern) -> SearchResult {
            do { _ = try p.compile(vars) } catch let e as PatternError { return .failed("cannot be matched: \(e.message)") } catch { return .failed("\(error)") }
            var i = start
            while i < lines.count {
                if case let .success(c) = match(p, line: i) { return .found(i, c) }
                i += 1
            }
            let after = last.map { "after output line \($0 + 1)" } ?? "in the output"
            return .failed("is not found \(after); \(closest(p, from: start))")
        }

        /// Problems for each CHECK-NOT matching a line in `from..<to`.
        func checkNots(_ nots: [Directive], from: Int, to: Int) -> [String] {
            var problems: [String] = []
            for d in nots {
                guard from < to else { continue }
                if let i = (from..<to).first(where: { if case .success = match(d.pattern, line: $0) { return true } else { return false } }) {
                    problems.append("check line \(d.number): CHECK-NOT: \(d.pattern.text) matches output line \(i + 1): `\(lines[i])`")
                }
            }
            return problems
        }

        /// The line from `from` on closest to the pattern's literal text
        /// (fewest edits to make it contain the text).
        func closest(_ p: Pattern, from: Int) -> String {
            let want = Array(p.literalText.unicodeScalars)
            var best: (line: Int, cost: Int)?
            for i in from..<max(from, lines.count) {
                let cost = Self.substringDistance(want, Array(lines[i].unicodeScalars))
                if best == nil || cost < best!.cost { best = (i, cost) }
            }
            guard let best else { return "no output lines to search" }
            return "closest: output line \(best.line + 1): `\(lines[best.line])`"
        }

        /// Edits to make `s` contain `p` (Sellers: the match may start anywhere).
        static func substringDistance(_ p: [Unicode.Scalar], _ s: [Unicode.Scalar]) -> Int {
            if p.isEmpty { return 0 }
            var prev = [Int](repeating: 0, count: s.count + 1)
            var cur = prev
            for (i, a) in p.enumerated() {
                cur[0] = i + 1
                for (j, b) in s.enumerated() {
                    cur[j + 1] = Swift.min(prev[j] + (a == b ? 0 : 1), prev[j + 1] + 1, cur[j] + 1)
                }
                swap(&prev, &cur)
            }
            return prev.min() ?? p.count
        }
    }
}
