import GencIR

/// A graph-to-graph pass of the optimizing pipeline: a small named value
/// whose `run` rewrites a program's graph and says whether it changed
/// anything. Passes keep outputs and updates (their names, order and
/// values), every random draw, and the IR's invariants (`Verifier`).
public struct Pass: Sendable {
    /// Kebab-case, as `genc dump --print-after NAME` takes it.
    public var name: String
    /// What the pass guarantees, in one line (docs/passes.md).
    public var guarantee: String
    /// Passes that must have run before this one in a pipeline.
    public var needs: [String]
    public var run: @Sendable (inout Graph) throws -> Bool

    public init(name: String, guarantee: String, needs: [String] = [], run: @escaping @Sendable (inout Graph) throws -> Bool) {
        self.name = name
        self.guarantee = guarantee
        self.needs = needs
        self.run = run
    }
}

/// A problem of the pipeline itself: a pass out of order, or a pass that
/// broke the IR (a compiler bug, reported rather than hidden).
public struct PassError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// An ordered list of passes. `init` checks that each pass's `needs` come
/// before it; `run` applies them in order and, with `verify`, runs the IR
/// verifier after every pass that changed the graph.
public struct Pipeline: Sendable {
    public let passes: [Pass]

    public init(_ passes: [Pass]) throws {
        var seen = Set<String>()
        for p in passes {
            for n in p.needs where !seen.contains(n) {
                throw PassError("pass '\(p.name)' needs '\(n)' to run before it")
            }
            seen.insert(p.name)
        }
        self.passes = passes
    }

    /// The default pipeline, in the order it runs.
    public static let standard: Pipeline = {
        // The list is fixed and its order satisfies every `needs`.
        guard let p = try? Pipeline([ConstantFolding.pass, AlgebraicSimplification.pass, CommonSubexpressionElimination.pass, MatmulSumMerging.pass, SharedTransposeB.pass, DeadCodeElimination.pass]) else {
            preconditionFailure("the standard pipeline is out of order")
        }
        return p
    }()

    public struct Record: Sendable {
        public var pass: String
        public var changed: Bool
        public var nodesBefore: Int
        public var nodesAfter: Int
    }

    /// Runs every pass on `graph`; `after(name, graph)` sees the graph
    /// after each pass (for `--print-after`).
    public func run(_ graph: inout Graph, verify: Bool, after: ((String, Graph) -> Void)? = nil) throws -> [Record] {
        var records: [Record] = []
        for p in passes {
            let before = graph.nodes.count
            let changed = try p.run(&graph)
            if verify, changed {
                let problems = Verifier.verify(graph)
                if !problems.isEmpty {
                    throw PassError("pass '\(p.name)' broke program '\(graph.name)': \(problems.prefix(3).map { "\($0)" }.joined(separator: "; "))")
                }
            }
            records.append(Record(pass: p.name, changed: changed, nodesBefore: before, nodesAfter: graph.nodes.count))
            after?(p.name, graph)
        }
        return records
    }

    public var names: [String] { passes.map(\.name) }
}
