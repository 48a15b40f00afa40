import GencIR
import GencKernels
import GencPlan

/// The persistent tensors of a model (parameters and state), shared by all
/// its programs: the discriminator step and the generator step of a GAN read
/// and write the same buffers. Memory is allocated once per tensor.
public final class ParameterStore: @unchecked Sendable {
    public struct Entry {
        public var name: String
        public var kind: PersistentBuffer.Kind
        public var type: TensorType
        public var initializer: Initializer
        public var pointer: UnsafeMutableRawPointer
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]

    public init() {}

    deinit {
        for e in entries { e.pointer.deallocate() }
    }

    static func key(_ name: String, _ kind: PersistentBuffer.Kind) -> String { "\(kind.rawValue):\(name)" }

    /// The buffer of a parameter or state, created (uninitialised) the first
    /// time; a type that differs from the existing one is an error.
    public func buffer(for p: PersistentBuffer) throws -> UnsafeMutableRawPointer {
        let k = Self.key(p.name, p.kind)
        if let i = index[k] {
            guard entries[i].type == p.type else {
                throw RuntimeError("'\(p.name)' is \(entries[i].type) in one program and \(p.type) in another")
            }
            return entries[i].pointer
        }
        let ptr = UnsafeMutableRawPointer.allocate(byteCount: max(p.type.byteCount, 4), alignment: 64)
        ptr.initializeMemory(as: UInt8.self, repeating: 0, count: max(p.type.byteCount, 4))
        entries.append(Entry(name: p.name, kind: p.kind, type: p.type, initializer: p.initializer, pointer: ptr))
        index[k] = entries.count - 1
        return ptr
    }

    public func entry(_ name: String, kind: PersistentBuffer.Kind) -> Entry? {
        index[Self.key(name, kind)].map { entries[$0] }
    }

    /// Fills every buffer from its initializer, reproducibly: each tensor's
    /// numbers depend only on `seed` and its name.
    public func initialize(seed: UInt64, threads: Int = 1) {
        for e in entries { Self.fill(e, seed: seed, threads: threads) }
    }

    static func fill(_ e: Entry, seed: UInt64, threads: Int) {
        let n = e.type.elementCount
        let f = e.pointer.assumingMemoryBound(to: Float.self)
        let s = Seeds.derive(seed, e.name)
        switch e.initializer {
        case let .uniform(bound): fillUniform(f, count: n, seed: s, low: Float(-bound), high: Float(bound), threads: threads)
        case let .normal(std): fillNormal(f, count: n, seed: s, mean: 0, std: Float(std), threads: threads)
        case let .constant(v): f.update(repeating: Float(v), count: n)
        }
    }

    /// Copies values into a buffer (checkpoint loading); the count must match.
    public func set(_ name: String, kind: PersistentBuffer.Kind = .parameter, floats: [Float]) throws {
        guard let e = entry(name, kind: kind) else { throw RuntimeError("the model has no \(kind.rawValue) '\(name)'") }
        guard floats.count == e.type.elementCount else {
            throw RuntimeError("'\(name)' holds \(e.type.elementCount) values (\(e.type)), got \(floats.count)")
        }
        floats.withUnsafeBufferPointer { b in
            if let base = b.baseAddress { e.pointer.assumingMemoryBound(to: Float.self).update(from: base, count: b.count) }
        }
    }

    public func floats(_ name: String, kind: PersistentBuffer.Kind = .parameter) -> [Float]? {
        guard let e = entry(name, kind: kind) else { return nil }
        return Array(UnsafeBufferPointer(start: e.pointer.assumingMemoryBound(to: Float.self), count: e.type.elementCount))
    }

    /// The first parameter or state element (in entry order) that is NaN or
    /// ±∞, or nil: checked before a checkpoint is written.
    public func firstNonFinite() -> (name: String, kind: PersistentBuffer.Kind, element: Int, value: Float)? {
        for e in entries where e.kind.isModelState && e.type.dtype == .f32 {
            let p = UnsafePointer(e.pointer.assumingMemoryBound(to: Float.self))
            if let i = GencKernels.firstNonFinite(p, e.type.elementCount) { return (e.name, e.kind, i, p[i]) }
        }
        return nil
    }
}
