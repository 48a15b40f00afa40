import GencIR
import GencLower

/// Schedule sharing: a training program computes no value that the program
/// scheduled just before it in the same step already computed from the same
/// inputs and unchanged parameters; it reads that value as a `carried` leaf
/// the earlier program writes.
///
/// In a GAN step `[d_loss, g_loss]` both objectives evaluate the generator
/// on the step's noise. `d_loss` updates only the discriminator, so G(z) and
/// every generator activation its backward pass needs are the same numbers
/// in `g_loss`: PyTorch and JAX reference steps compute them once, and so
/// does genc after this pass.
///   d_loss before: %7 = matmul %z, %w0 … %20 = tanh %19 …
///   d_loss after:  … the same, and %90 = carried "carry.g_loss.3"; update carry.g_loss.3 = %20
///   g_loss before: %7 = matmul %z, %w0 … %20 = tanh %19; %21 = matmul %20, %dw0 …
///   g_loss after:  %5 = carried "carry.g_loss.3"; %6 = matmul %5, %dw0 …
///
/// When it is legal, decided per value of the consumer B and its producer A
/// (the entry before every occurrence of B in the schedule, the same A each
/// time, A ≠ B):
/// - the value is a pure op on values that are themselves shared, or an
///   input (data batches and noise are drawn once per step and fed to every
///   program of the step), a constant, or a parameter or state leaf that A
///   does not update (A's writes land before B runs);
/// - random draws are never shared (each program has its own draws), nor
///   anything computed from one, nor carried leaves.
/// What is carried: the shared values B still reads from a node it keeps
/// computing; B keeps computing the cheap shared values (leaves, reshapes,
/// functions of parameters alone, and elementwise values A keeps inside a
/// fused loop, from operands A stores anyway), so only batch-sized
/// activations A writes to memory in any case cross.
/// A program is rewritten only where B stops computing a contraction
/// (matmul or convolution), so the carry always saves real work.
///
/// Numerics: B reads exactly the bits A computed, and A computes them as it
/// did before (its graph only gains an update), so losses and weights agree
/// with the unshared pipeline to rounding (the planner may fuse B's smaller
/// graph differently). Carried values are not model state: checkpoints,
/// weights files and exports leave them out; A writes them before B reads
/// them within every step, so a resumed run needs none.
public enum ScheduleSharing {
    public static let name = "schedule-sharing"
    public static let guarantee = "no training program recomputes a value the program before it in the step computed from the same inputs and unchanged parameters"

    /// What the pass did to one consumer program.
    public struct Share: Sendable, Equatable {
        public var consumer: String
        public var producer: String
        /// Names of the carried values, in the consumer's node order.
        public var carried: [String]
        public var consumerNodesBefore: Int
        public var consumerNodesAfter: Int
    }

    /// The carried leaf's name for the k-th value `consumer` reads from its producer.
    public static func carriedName(consumer objective: String, _ k: Int) -> String { "carry.\(objective).\(k)" }

    /// Rewrites the training programs of `model` for `schedule` (objective
    /// names, in order). Returns what was shared, by consumer.
    public static func run(_ model: inout LoweredModel, schedule: [String]) throws -> [Share] {
        var shares: [Share] = []
        for (consumer, producer) in pairs(schedule) {
            let bName = Lowering.programName(.train, consumer), aName = Lowering.programName(.train, producer)
            guard let b = model.programs.firstIndex(where: { $0.name == bName }),
                  let a = model.programs.firstIndex(where: { $0.name == aName }) else { continue }
            var producerGraph = model.programs[a].graph
            var consumerGraph = model.programs[b].graph
            let before = consumerGraph.nodes.count
            guard let names = try share(from: &producerGraph, into: &consumerGraph, consumer: consumer) else { continue }
            model.programs[a].graph = producerGraph
            model.programs[b].graph = consumerGraph
            shares.append(Share(consumer: bName, producer: aName, carried: names,
                                consumerNodesBefore: before, consumerNodesAfter: consumerGraph.nodes.count))
        }
        return shares
    }

    /// (consumer, producer) for every objective whose every occurrence in
    /// the schedule directly follows the same other objective. A producer
    /// that is itself a consumer is fine: it computes its carried values'
    /// sources in full or reads them, either way before its own consumer runs.
    static func pairs(_ schedule: [String]) -> [(consumer: String, producer: String)] {
        var producerOf: [String: String?] = [:]
        var order: [String] = []
        for (i, name) in schedule.enumerated() {
            let before: String? = i > 0 ? schedule[i - 1] : nil
            if let seen = producerOf[name] {
                if seen != before { producerOf[name] = .some(nil) }
            } else {
                producerOf[name] = .some(before)
                order.append(name)
            }
        }
        return order.compactMap { name in
            guard let p = producerOf[name], let producer = p, producer != name else { return nil }
            return (name, producer)
        }
    }

    struct Key: Hashable {
        var op: Op
        var operands: [Int]
        var type: TensorType
    }

    /// Shares the values of `consumer` that `producer` computes; nil when
    /// nothing worth carrying is found (the caller then keeps its graphs:
    /// `consumer` may have been pruned, `producer` is untouched).
    static func share(from producer: inout Graph, into consumer: inout Graph, consumer objective: String) throws -> [String]? {
        consumer = Pruning.prune(consumer)
        // Values the producer's run leaves unchanged for the consumer: everything but what it writes.
        let written = Set(producer.updates.map(\.name))
        var producerNode: [Key: Int] = [:]
        for (i, n) in producer.nodes.enumerated() where shareable(n.op, written: written) {
            let key = Key(op: n.op, operands: n.operands.map(\.id), type: n.type)
            if producerNode[key] == nil { producerNode[key] = i }
        }
        // match[i]: the producer's node that computes consumer node i's value.
        var match = [Int?](repeating: nil, count: consumer.nodes.count)
        var needsBatch = [Bool](repeating: false, count: consumer.nodes.count)
        for (i, n) in consumer.nodes.enumerated() {
            if case .input = n.op { needsBatch[i] = true }
            if case .random = n.op { needsBatch[i] = true }
            needsBatch[i] = needsBatch[i] || n.operands.contains { needsBatch[$0.id] }
            guard shareable(n.op, written: written) else { continue }
            var operands: [Int] = []
            for o in n.operands {
                guard let m = match[o.id] else { break }
                operands.append(m)
            }
            guard operands.count == n.operands.count else { continue }
            match[i] = producerNode[Key(op: n.op, operands: operands, type: n.type)]
        }
        // Shared values the consumer still computes: free or cheap, and not batch-sized work.
        let cheap = recomputable(producer)
        func keeps(_ i: Int) -> Bool {
            let n = consumer.nodes[i]
            if n.op.isLeaf || !needsBatch[i] { return true }
            if case .reshape = n.op { return true }
            return match[i].map { cheap[$0] } ?? false
        }
        // Walk back from the results: a shared value that is not kept is read, not computed.
        var carriedNodes: [Int] = []
        var live = [Bool](repeating: false, count: consumer.nodes.count)
        var isCarried = [Bool](repeating: false, count: consumer.nodes.count)
        var stack = consumer.outputs.map(\.value.id) + consumer.updates.map(\.value.id)
        while let i = stack.popLast() {
            if live[i] || isCarried[i] { continue }
            if match[i] != nil, !keeps(i) {
                isCarried[i] = true
                carriedNodes.append(i)
                continue
            }
            live[i] = true
            stack.append(contentsOf: consumer.nodes[i].operands.map(\.id))
        }
        // Worth it only if the consumer stops computing a contraction. Every
        // node it had was needed (dead code is pruned first), and an unshared
        // node feeds only unshared ones, so what is not live now is what it saves.
        let savesContraction = consumer.nodes.indices.contains { !live[$0] && match[$0] != nil && isContraction(consumer.nodes[$0].op) }
        guard !carriedNodes.isEmpty, savesContraction else { return nil }

        carriedNodes.sort()
        let carriedIndex = Dictionary(uniqueKeysWithValues: carriedNodes.enumerated().map { ($1, $0) })
        var names: [String] = []
        var rewritten = Graph(name: consumer.name)
        for (k, i) in carriedNodes.enumerated() {
            let name = carriedName(consumer: objective, k)
            names.append(name)
            guard let m = match[i] else { continue }
            // The producer writes the value; nothing in it reads the leaf.
            producer.appendUnchecked(Node(op: .carried(name), operands: [], type: producer.nodes[m].type, location: producer.nodes[m].location))
            producer.updates.append(NamedValue(name, Value(m)))
        }
        // The consumer: every carried node becomes a leaf; what only fed it becomes dead.
        var map = Array(0..<consumer.nodes.count)
        for (i, n) in consumer.nodes.enumerated() {
            if let k = carriedIndex[i] {
                map[i] = rewritten.nodes.count
                rewritten.appendUnchecked(Node(op: .carried(names[k]), operands: [], type: n.type, location: n.location))
                continue
            }
            var copy = n
            copy.operands = n.operands.map { Value(map[$0.id]) }
            map[i] = rewritten.nodes.count
            rewritten.appendUnchecked(copy)
        }
        rewritten.outputs = consumer.outputs.map { NamedValue($0.name, Value(map[$0.value.id])) }
        rewritten.updates = consumer.updates.map { NamedValue($0.name, Value(map[$0.value.id])) }
        consumer = Pruning.prune(rewritten)
        for g in [producer, consumer] {
            let problems = Verifier.verify(g)
            guard problems.isEmpty else {
                throw PassError("pass '\(name)' broke program '\(g.name)': \(problems.prefix(3).map { "\($0)" }.joined(separator: "; "))")
            }
        }
        return names
    }

    /// Per producer node: whether the consumer had better recompute it than
    /// read it. An elementwise value the producer's kernels never store
    /// (it lives inside a fused loop: batchnorm's centred and scaled values
    /// between the statistics and the activation) would cost the producer
    /// an extra write to carry; when everything it is computed from is
    /// stored anyway (or a leaf, or itself such a value), the consumer runs
    /// that loop again instead and reads only the stored operands.
    static func recomputable(_ g: Graph) -> [Bool] {
        let groups = Fusion.partition(g)
        var groupOf = [Int](repeating: -1, count: g.nodes.count)
        for (k, gr) in groups.enumerated() { for n in gr.nodes { groupOf[n] = k } }
        var stored = [Bool](repeating: false, count: g.nodes.count)
        for gr in groups where gr.kind == .single || gr.kind == .view { for n in gr.nodes { stored[n] = true } }
        for (i, n) in g.nodes.enumerated() {
            for o in n.operands where groupOf[o.id] != groupOf[i] { stored[o.id] = true }
        }
        for v in g.outputs.map(\.value) + g.updates.map(\.value) { stored[v.id] = true }
        var cheap = [Bool](repeating: false, count: g.nodes.count)
        for (i, n) in g.nodes.enumerated() where !stored[i] {
            switch n.op.fusionKind {
            case .elementwise, .broadcast:
                cheap[i] = n.operands.allSatisfy { stored[$0.id] || cheap[$0.id] || g.nodes[$0.id].op.isLeaf }
            case .leaf, .injective, .reduction, .outElementwiseFusable, .opaque:
                break
            }
        }
        return cheap
    }

    /// Leaves and pure ops whose value the producer's run does not change.
    static func shareable(_ op: Op, written: Set<String>) -> Bool {
        switch op {
        case .input, .constant: return true
        case let .parameter(n), let .state(n): return !written.contains(n)
        case .carried, .random: return false
        case .unary, .binary, .matmul, .conv, .convInputGrad, .convFilterGrad, .pool, .poolGrad, .reduce, .softmax, .logSoftmax,
             .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd, .oneHot:
            return op.isPure
        }
    }

    static func isContraction(_ op: Op) -> Bool {
        switch op {
        case .matmul, .conv, .convInputGrad, .convFilterGrad: return true
        case .input, .parameter, .state, .carried, .constant, .random, .unary, .binary, .pool, .poolGrad, .reduce, .softmax, .logSoftmax,
             .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd, .oneHot:
            return false
        }
    }
}
