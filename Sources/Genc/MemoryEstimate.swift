import Foundation
import GencIR
import GencLower
import GencPlan
import GencRuntime
import GencSupport

/// What loading a set of programs together will allocate, computed from
/// their plans before anything is allocated, and the check of that against
/// a limit: a model that needs more memory than there is is refused with
/// the figures and its largest tensors, instead of aborting in `malloc`.
public struct MemoryEstimate: Sendable {
    public struct ProgramBytes: Sendable {
        public var name: String
        public var arenaBytes: Int
        public var workspaceBytes: Int
        public var constantBytes: Int
        public var totalBytes: Int { MemoryEstimate.sum([arenaBytes, workspaceBytes, constantBytes]) }
    }

    /// A large tensor, for the message: what it is, its bytes, where it comes from.
    public struct Tensor: Sendable {
        public var description: String
        public var bytes: Int
        public var location: IRLocation?
    }

    /// Parameters, counted once however many programs share them.
    public var parameterBytes = 0
    /// Batchnorm running statistics (and later optimizer slots).
    public var stateBytes = 0
    /// Values one program of a training step leaves for a later one (`ScheduleSharing`).
    public var carriedBytes = 0
    public var programs: [ProgramBytes] = []
    /// The largest tensors of all the programs, largest first.
    public var largest: [Tensor] = []

    /// Everything: persistent buffers once, and every program's own buffers.
    public var totalBytes: Int { Self.sum([parameterBytes, stateBytes, carriedBytes] + programs.map(\.totalBytes)) }
    public var activationBytes: Int { Self.sum(programs.map(\.arenaBytes)) }
    public var workspaceBytes: Int { Self.sum(programs.map { Self.sum([$0.workspaceBytes, $0.constantBytes]) }) }

    /// Sums saturate: hostile models reach figures past 64 bits, and the
    /// message only needs to say "more than the limit".
    static func sum(_ xs: [Int]) -> Int {
        xs.reduce(0) { let (s, o) = $0.addingReportingOverflow($1); return o ? Int.max : s }
    }

    /// The estimate for `programs` loaded together (one shared parameter store).
    /// Throws `RuntimeError` when a plan's scratch cannot even be sized.
    /// `plans` may hold plans already made (by name), to save planning twice.
    public init(programs: [Program], model: LoweredModel, plans: [String: Plan] = [:]) throws {
        try self.init(plans: programs.map { try plans[$0.name] ?? Compiler.plan($0, model: model) })
    }

    /// The estimate for `plans` loaded together (one shared parameter store).
    public init(plans: [Plan]) throws {
        var persistent: [String: (PersistentBuffer.Kind, Int)] = [:]
        var candidates: [Tensor] = []
        for plan in plans {
            let load = try Executable.loadBytes(plan)
            self.programs.append(ProgramBytes(name: plan.name, arenaBytes: load.arena, workspaceBytes: load.workspace, constantBytes: load.constants))
            for p in plan.persistent where p.kind != .constant { persistent[p.name] = (p.kind, p.type.byteCount) }
            // Per program, its five largest values, chosen by size first so only those five are described.
            var top: [Int] = []
            for (i, s) in plan.slots.enumerated() {
                switch s.storage {
                case .view, .fused: continue
                case .arena, .persistent: break
                }
                let bytes = s.type.byteCount
                if top.count == 5, let last = top.last, plan.slots[last].type.byteCount >= bytes { continue }
                top.append(i)
                top.sort { plan.slots[$0].type.byteCount > plan.slots[$1].type.byteCount }
                if top.count > 5 { top.removeLast() }
            }
            var sources: [Int: SourceOp] = [:]
            // Leaves (parameters, inputs) are no step's result: the line of the first step that reads them.
            var readAt: [Int: IRLocation] = [:]
            for step in plan.steps {
                for src in step.sources where top.contains(src.node) { sources[src.node] = src }
                for i in step.inputs where top.contains(i) && readAt[i] == nil { readAt[i] = step.location }
            }
            candidates += top.map { i in
                let t = plan.slots[i].type
                return Tensor(description: Self.describe(slot: i, t, plan, sources[i]), bytes: t.byteCount, location: sources[i]?.location ?? readAt[i])
            }
        }
        for (_, (kind, bytes)) in persistent {
            switch kind {
            case .parameter: parameterBytes += bytes
            case .state, .constant: stateBytes += bytes
            case .carried: carriedBytes += bytes
            }
        }
        var seen = Set<String>()
        largest = candidates.sorted { $0.bytes > $1.bytes }.filter { seen.insert($0.description).inserted }.prefix(3).map { $0 }
    }

    static func describe(slot i: Int, _ t: TensorType, _ plan: Plan, _ source: SourceOp?) -> String {
        if case let .persistent(k) = plan.slots[i].storage, k < plan.persistent.count {
            let p = plan.persistent[k]
            switch p.kind {
            case .parameter: return "parameter '\(p.name)' \(t)"
            case .state: return "state '\(p.name)' \(t)"
            case .constant: return "constant \(t) in \(plan.name)"
            case .carried: return "carried value '\(p.name)' \(t)"
            }
        }
        if let input = plan.inputs.first(where: { $0.slot == i }) { return "input '\(input.name)' \(t) of \(plan.name)" }
        return "\(source?.op ?? "value") result \(t) in \(plan.name)"
    }

    /// `1.50 GiB`, `12.0 MiB`, `512 B`.
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(bytes), u = 0
        while v >= 1024, u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(bytes) B" : String(format: v < 10 ? "%.2f %@" : v < 100 ? "%.1f %@" : "%.0f %@", v, units[u])
    }

    /// A memory limit and where it comes from, for the message.
    public struct Limit: Sendable {
        public var bytes: Int
        /// "the memory available on this machine", "--max-memory".
        public var source: String
        public init(bytes: Int, source: String) {
            self.bytes = bytes
            self.source = source
        }
    }

    /// A diagnostic when the estimate passes `limit` (nil when it fits):
    /// the figures, and a note at the YAML line of each of the largest tensors.
    public func check(_ limit: Limit, doing what: String, file: SourceFile) -> Diagnostic? {
        guard totalBytes > limit.bytes else { return nil }
        let f = Self.format
        var d = Diagnostic(
            id: "memory-limit",
            message: "\(what) needs \(f(totalBytes)) (parameters \(f(parameterBytes)), state \(f(stateBytes)), activations \(f(activationBytes)), scratch \(f(workspaceBytes))), more than the \(f(limit.bytes)) allowed by \(limit.source); shrink the model or its dims (--dim), or raise the limit with --max-memory",
            at: largest.first?.location?.range(in: file), path: file.path)
        for t in largest {
            d = d.note("\(f(t.bytes)): \(t.description)", at: t.location?.range(in: file))
        }
        return d
    }
}
