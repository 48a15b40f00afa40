import GencIR
import GencSupport

/// A compiled model on disk (`genc compile -o OUT.gencplan`): its plans with
/// the model's source, so that `genc run` can skip the front end and a
/// stale or damaged file is refused with a message, never run.
///
/// Layout: a line `GENCPLAN 1` (magic and format), a line with the FNV-1a
/// 64-bit hash of the body (16 hex digits) and its byte length, then the
/// body: compact JSON. The JSON never depends on Swift's enum layout: ops
/// are their text-IR name and attributes (`Op.name`, `Op.attributes`), and
/// every double is the 16 hex digits of its bit pattern, so NaN payloads,
/// infinities and −0 come back bit for bit (`JSONValue.serialized` prints
/// −0 as `0.0` and non-finite values as `null`).
public struct PlanFile: Hashable, Sendable {
    /// The format this genc writes and reads; any change to the body's
    /// schema bumps it, and older files are refused with a request to recompile.
    /// Format 2: fused loops hold reductions and one_hot instructions.
    public static let currentFormat = 2
    /// The first bytes of every plan file, before the format number.
    public static let magic = "GENCPLAN"

    public var format: Int
    /// The genc version string that wrote the file.
    public var compiler: String
    /// The model's name.
    public var model: String
    /// Free-form facts the compiler records (options, dims), sorted by key on disk.
    public var metadata: [String: String]
    /// The model's YAML text, verbatim, so diagnostics can quote it without the original file.
    public var source: String
    /// The path the source was read from.
    public var sourcePath: String
    public var plans: [Plan]

    public init(format: Int = PlanFile.currentFormat, compiler: String, model: String, metadata: [String: String] = [:],
                source: String, sourcePath: String, plans: [Plan]) {
        self.format = format
        self.compiler = compiler
        self.model = model
        self.metadata = metadata
        self.source = source
        self.sourcePath = sourcePath
        self.plans = plans
    }

    /// The file's bytes: header lines, then the JSON body.
    public func encoded() -> [UInt8] {
        let body: JSONValue = .object([
            ("compiler", .string(compiler)),
            ("model", .string(model)),
            ("metadata", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("source_path", .string(sourcePath)),
            ("source", .string(source)),
            ("plans", .array(plans.map(PlanJSONEncoder.plan))),
        ])
        return Self.framed(Array(body.serialized(pretty: false).utf8), format: format)
    }

    /// Reads a plan file, checking in order its magic, format, length and
    /// checksum, every field's type and range, and finally every plan with
    /// `PlanVerifier`. Throws `PlanFileError` (only) for any problem.
    public static func decode(_ bytes: [UInt8]) throws -> PlanFile {
        let body = try unframed(bytes)
        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(body), maxDepth: 64)
        } catch {
            throw PlanFileError("plan file is corrupt (its body is not valid JSON: \(error)): recompile with `genc compile`")
        }
        let d = PlanJSONDecoder()
        let top = try d.object(json, "body", ["compiler", "model", "metadata", "source_path", "source", "plans"])
        var metadata: [String: String] = [:]
        for (k, v) in try d.pairs(top["metadata"], "metadata") {
            metadata[k] = try d.string(v, "metadata[\(quoted(k))]")
        }
        let planValues = try d.array(top["plans"], "plans")
        var plans: [Plan] = []
        for (i, v) in planValues.enumerated() {
            plans.append(try d.plan(v, "plans[\(i)]"))
        }
        for (i, p) in plans.enumerated() {
            let problems = PlanVerifier.verify(p)
            if let first = problems.first {
                let more = problems.count > 1 ? " (and \(problems.count - 1) more problem\(problems.count > 2 ? "s" : ""))" : ""
                throw PlanFileError("invalid plan file: plan \(quoted(p.name)) (plans[\(i)]) fails verification: \(first)\(more)")
            }
        }
        return PlanFile(format: currentFormat, compiler: try d.string(top["compiler"], "compiler"), model: try d.string(top["model"], "model"),
                        metadata: metadata, source: try d.string(top["source"], "source"),
                        sourcePath: try d.string(top["source_path"], "source_path"), plans: plans)
    }

    // MARK: - Framing

    /// FNV-1a, 64 bits: a cheap checksum that catches flipped and lost bytes (not tampering).
    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// The two header lines for a body, then the body. (Public for tools that
    /// rewrite bodies and must frame them as `genc compile` does: the fuzz target.)
    public static func framed(_ body: [UInt8], format: Int = currentFormat) -> [UInt8] {
        Array("\(magic) \(format)\n\(hex16(fnv1a(body[...]))) \(body.count)\n".utf8) + body
    }

    /// The body of a framed file, after checking its header, length and checksum.
    static func unframed(_ bytes: [UInt8]) throws(PlanFileError) -> ArraySlice<UInt8> {
        let recompile = ": recompile with `genc compile`"
        let prefix = Array("\(magic) ".utf8)
        guard bytes.count >= prefix.count, bytes.prefix(prefix.count).elementsEqual(prefix) else {
            throw PlanFileError("not a genc plan file (it does not start with `\(magic)`)")
        }
        var i = prefix.count
        /// A decimal number of at most `limit` digits at `i`, or nil.
        func number(_ limit: Int) -> Int? {
            var v = 0, n = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, n < limit {
                v = v * 10 + Int(bytes[i] - 0x30)
                i += 1
                n += 1
            }
            return n == 0 ? nil : v
        }
        guard let format = number(9), i < bytes.count, bytes[i] == 0x0A else {
            throw PlanFileError("not a genc plan file (its first line is not `\(magic) <format>`)")
        }
        guard format == currentFormat else {
            throw PlanFileError("plan file format \(format); this genc reads format \(currentFormat)\(recompile)")
        }
        i += 1
        guard let lineEnd = bytes[i...].prefix(64).firstIndex(of: 0x0A) else {
            throw PlanFileError(bytes.count - i < 64 ? "plan file is truncated (in its header)\(recompile)" : "plan file is corrupt (bad header)\(recompile)")
        }
        let line = bytes[i..<lineEnd]
        guard line.count > 17, line[i + 16] == 0x20,
              line.prefix(16).allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
              let hash = UInt64(String(decoding: line.prefix(16), as: UTF8.self), radix: 16) else {
            throw PlanFileError("plan file is corrupt (bad header)\(recompile)")
        }
        i += 17
        guard let length = number(18), i == lineEnd else { throw PlanFileError("plan file is corrupt (bad header)\(recompile)") }
        // The header must be exactly what `framed` writes (no leading zeros, no spaces).
        let canonical = Array("\(magic) \(format)\n\(hex16(hash)) \(length)\n".utf8)
        guard bytes.prefix(lineEnd + 1).elementsEqual(canonical) else { throw PlanFileError("plan file is corrupt (bad header)\(recompile)") }
        let body = bytes[(lineEnd + 1)...]
        if body.count < length { throw PlanFileError("plan file is truncated (\(body.count) of \(length) body bytes)\(recompile)") }
        if body.count > length { throw PlanFileError("plan file is corrupt (\(body.count - length) bytes after its body)\(recompile)") }
        guard fnv1a(body) == hash else { throw PlanFileError("plan file is corrupt (checksum mismatch)\(recompile)") }
        return body
    }

    /// A string from the file as a JSON literal, at most 60 characters, so a
    /// message stays one line whatever the file holds.
    static func quoted(_ s: String) -> String {
        let short = s.count > 60 ? String(s.prefix(60)) + "…" : s
        return JSONValue.string(short).serialized(pretty: false)
    }
}

/// Why a plan file was refused, in one line a user can act on (usually:
/// recompile it).
public struct PlanFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Encoding

/// Plan values as JSON, one function per type; every enum is an exhaustive
/// switch, so a new case does not compile until it has an encoding.
enum PlanJSONEncoder {
    static func double(_ d: Double) -> JSONValue { .string(PlanFile.hex16(d.bitPattern)) }

    static func ints(_ xs: [Int]) -> JSONValue { .array(xs.map { .int($0) }) }

    static func type(_ t: TensorType) -> JSONValue { .object([("dtype", .string(t.dtype.rawValue)), ("shape", ints(t.shape))]) }

    static func location(_ l: IRLocation?) -> JSONValue {
        guard let l else { return .null }
        return .array([.string(l.path), .int(l.line), .int(l.column)])
    }

    static func attribute(_ a: Attribute) -> JSONValue {
        switch a {
        case let .int(v): return .object([("int", .int(v))])
        case let .double(v): return .object([("double", double(v))])
        case let .bool(v): return .object([("bool", .bool(v))])
        case let .ints(v): return .object([("ints", ints(v))])
        case let .string(v): return .object([("string", .string(v))])
        }
    }

    static func op(_ o: Op) -> JSONValue {
        .object([("op", .string(o.name)), ("attrs", .object(o.attributes.map { ($0.0, attribute($0.1)) }))])
    }

    static func initializer(_ i: Initializer) -> JSONValue {
        switch i {
        case let .uniform(bound): return .object([("uniform", double(bound))])
        case let .normal(std): return .object([("normal", double(std))])
        case let .constant(v): return .object([("constant", double(v))])
        }
    }

    static func storage(_ s: Storage) -> JSONValue {
        switch s {
        case let .arena(offset): return .object([("arena", .int(offset))])
        case let .persistent(k): return .object([("persistent", .int(k))])
        case let .view(of): return .object([("view", .int(of))])
        case .fused: return .object([("fused", .bool(true))])
        }
    }

    static func operand(_ o: FusedInstruction.Operand) -> JSONValue {
        switch o {
        case let .input(k): return .object([("input", .int(k))])
        case .head: return .object([("head", .bool(true))])
        case let .register(r): return .object([("register", .int(r))])
        case let .scalar(v): return .object([("scalar", double(v))])
        }
    }

    /// The op a function is (its name and attributes), or the string `copy`.
    static func function(_ f: FusedInstruction.Function) -> JSONValue {
        switch f {
        case let .unary(u): return op(.unary(u))
        case let .binary(b): return op(.binary(b))
        case let .random(d, stream): return op(.random(d, stream: stream))
        case .copy: return .string("copy")
        case let .oneHot(depth): return op(.oneHot(depth: depth))
        }
    }

    static func fused(_ f: FusedLoop) -> JSONValue {
        .object([
            ("head", f.head.map(op) ?? .null),
            ("head_inputs", .int(f.headInputs)),
            ("shape", ints(f.shape)),
            ("reads", .array(f.reads.map { .object([("offset", .int($0.offset)), ("strides", ints($0.strides))]) })),
            ("body", .array(f.body.map { .object([("function", function($0.function)), ("operands", .array($0.operands.map(operand))), ("node", .int($0.node))]) })),
            ("results", ints(f.results)),
            ("reductions", .array(f.reductions.map {
                .object([("function", .string($0.function.rawValue)), ("operand", operand($0.operand)), ("strides", ints($0.strides)), ("node", .int($0.node))])
            })),
        ])
    }

    static func kernel(_ k: Kernel) -> JSONValue {
        switch k {
        case let .op(o): return .object([("op", op(o))])
        case let .fused(f): return .object([("fused", fused(f))])
        }
    }

    static func step(_ s: Step) -> JSONValue {
        .object([
            ("kernel", kernel(s.kernel)),
            ("inputs", ints(s.inputs)),
            ("outputs", ints(s.outputs)),
            ("location", location(s.location)),
            ("sources", .array(s.sources.map { .object([("node", .int($0.node)), ("op", .string($0.op)), ("location", location($0.location))]) })),
        ])
    }

    static func report(_ r: PlanReport) -> JSONValue {
        .object([
            ("arena_bytes", .int(r.arenaBytes)),
            ("naive_bytes", .int(r.naiveBytes)),
            ("lower_bound_bytes", .int(r.lowerBoundBytes)),
            ("persistent_bytes", .int(r.persistentBytes)),
            ("flops", .int(r.flops)),
            ("ops", .int(r.ops)),
            ("kernels", .int(r.kernels)),
            ("fused_groups", .int(r.fusedGroups)),
            ("peak", .array(r.peak.map { .object([("slot", .int($0.slot)), ("bytes", .int($0.bytes)), ("op", .string($0.op)), ("location", location($0.location))]) })),
            ("peak_step", .int(r.peakStep)),
        ])
    }

    static func named(_ n: [Plan.NamedSlot]) -> JSONValue { .array(n.map { .object([("name", .string($0.name)), ("slot", .int($0.slot))]) }) }

    static func plan(_ p: Plan) -> JSONValue {
        .object([
            ("name", .string(p.name)),
            ("arena_bytes", .int(p.arenaBytes)),
            ("slots", .array(p.slots.map { .object([("storage", storage($0.storage)), ("type", type($0.type))]) })),
            ("persistent", .array(p.persistent.map {
                .object([("name", .string($0.name)), ("kind", .string($0.kind.rawValue)), ("type", type($0.type)), ("init", initializer($0.initializer))])
            })),
            ("inputs", named(p.inputs)),
            ("outputs", named(p.outputs)),
            ("updates", .array(p.updates.map { .object([("buffer", .int($0.buffer)), ("slot", .int($0.slot)), ("in_place", .bool($0.inPlace))]) })),
            ("steps", .array(p.steps.map(step))),
            ("report", report(p.report)),
        ])
    }
}

// MARK: - Decoding

/// The fields of one JSON object, every expected key present exactly once
/// and no other (checked by `PlanJSONDecoder.object`).
struct PlanJSONFields {
    var values: [String: JSONValue]
    subscript(key: String) -> JSONValue { values[key] ?? .null }
}

/// JSON back to plan values, strictly: every field's type, every index in
/// range, every size within `Size` limits, every op rebuilt by
/// `Op(name:attributes:)` with exactly its own attributes. A failure names
/// the field by its path (`plans[0].steps[3].inputs[1]`).
struct PlanJSONDecoder {
    /// Slot and buffer counts of the plan being read, for index checks.
    var slotCount = 0
    var persistentCount = 0

    func fail(_ path: String, _ what: String) -> PlanFileError {
        PlanFileError("invalid plan file: \(path): \(what)")
    }

    /// A thrown size error's message (`Size` throws `ShapeError`).
    static func message(_ e: any Error) -> String { (e as? ShapeError)?.message ?? "\(e)" }

    /// What an attribute value must be, for messages.
    func attributeKind(_ a: Attribute) -> String {
        switch a {
        case .int: return "an {\"int\": …}"
        case .double: return "a {\"double\": …}"
        case .bool: return "a {\"bool\": …}"
        case .ints: return "an {\"ints\": […]}"
        case .string: return "a {\"string\": …}"
        }
    }

    func kind(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a fractional number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// An object's pairs, refusing duplicate keys.
    func pairs(_ v: JSONValue, _ path: String) throws(PlanFileError) -> [(String, JSONValue)] {
        guard case let .object(ps) = v else { throw fail(path, "expected an object, got \(kind(v))") }
        var seen = Set<String>()
        for (k, _) in ps where !seen.insert(k).inserted { throw fail(path, "key \(PlanFile.quoted(k)) appears twice") }
        return ps
    }

    func object(_ v: JSONValue, _ path: String, _ keys: [String]) throws(PlanFileError) -> PlanJSONFields {
        var values: [String: JSONValue] = [:]
        for (k, x) in try pairs(v, path) {
            guard keys.contains(k) else { throw fail(path, "unknown key \(PlanFile.quoted(k)) (expected \(keys.joined(separator: ", ")))") }
            values[k] = x
        }
        for k in keys where values[k] == nil { throw fail(path, "missing key \"\(k)\"") }
        return PlanJSONFields(values: values)
    }

    /// The one key and value of an object that is a tagged union (`{"arena": 0}`).
    func single(_ v: JSONValue, _ path: String, _ tags: [String]) throws(PlanFileError) -> (String, JSONValue) {
        let ps = try pairs(v, path)
        guard ps.count == 1, let first = ps.first, tags.contains(first.0) else {
            throw fail(path, "expected an object with one key of \(tags.joined(separator: ", "))")
        }
        return first
    }

    func array(_ v: JSONValue, _ path: String) throws(PlanFileError) -> [JSONValue] {
        guard case let .array(xs) = v else { throw fail(path, "expected an array, got \(kind(v))") }
        return xs
    }

    func int(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Int {
        guard case let .int(x) = v else { throw fail(path, "expected an integer, got \(kind(v))") }
        return x
    }

    /// A count, byte size or node number: never negative.
    func count(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Int {
        let x = try int(v, path)
        guard x >= 0 else { throw fail(path, "\(x) is negative") }
        return x
    }

    func index(_ v: JSONValue, _ path: String, below n: Int, _ what: String) throws(PlanFileError) -> Int {
        let x = try int(v, path)
        guard x >= 0, x < n else { throw fail(path, "\(what) \(x) does not exist (there are \(n))") }
        return x
    }

    func slot(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Int { try index(v, path, below: slotCount, "slot") }

    func ints(_ v: JSONValue, _ path: String) throws(PlanFileError) -> [Int] {
        var out: [Int] = []
        for (i, x) in try array(v, path).enumerated() { out.append(try int(x, "\(path)[\(i)]")) }
        return out
    }

    func slots(_ v: JSONValue, _ path: String) throws(PlanFileError) -> [Int] {
        var out: [Int] = []
        for (i, x) in try array(v, path).enumerated() { out.append(try slot(x, "\(path)[\(i)]")) }
        return out
    }

    func string(_ v: JSONValue, _ path: String) throws(PlanFileError) -> String {
        guard case let .string(s) = v else { throw fail(path, "expected a string, got \(kind(v))") }
        return s
    }

    func bool(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Bool {
        guard case let .bool(b) = v else { throw fail(path, "expected a boolean, got \(kind(v))") }
        return b
    }

    /// `true`, the value of a tag that carries nothing (`{"fused": true}`).
    func flag(_ v: JSONValue, _ path: String) throws(PlanFileError) {
        guard try bool(v, path) else { throw fail(path, "expected true") }
    }

    /// A double as the 16 lowercase hex digits of its bit pattern.
    func double(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Double {
        let s = try string(v, path)
        guard s.utf8.count == 16, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
              let bits = UInt64(s, radix: 16) else {
            throw fail(path, "expected a double as 16 lowercase hex digits of its bits, got \(PlanFile.quoted(s))")
        }
        return Double(bitPattern: bits)
    }

    /// A shape: extents non-negative, elements within `Size.maxElements`.
    func shape(_ v: JSONValue, _ path: String) throws(PlanFileError) -> [Int] {
        let s = try ints(v, path)
        for (i, d) in s.enumerated() where d < 0 { throw fail("\(path)[\(i)]", "extent \(d) is negative") }
        do { _ = try Size.elements(s) } catch { throw fail(path, Self.message(error)) }
        return s
    }

    func type(_ v: JSONValue, _ path: String) throws(PlanFileError) -> TensorType {
        let f = try object(v, path, ["dtype", "shape"])
        let name = try string(f["dtype"], path + ".dtype")
        guard let dtype = DType(rawValue: name) else {
            throw fail(path + ".dtype", "unknown dtype \(PlanFile.quoted(name)) (expected \(DType.allCases.map(\.rawValue).joined(separator: " or ")))")
        }
        return TensorType(dtype, try shape(f["shape"], path + ".shape"))
    }

    func location(_ v: JSONValue, _ path: String) throws(PlanFileError) -> IRLocation? {
        if case .null = v { return nil }
        let xs = try array(v, path)
        guard xs.count == 3 else { throw fail(path, "expected null or [path, line, column]") }
        return IRLocation(path: try string(xs[0], path + "[0]"), line: try int(xs[1], path + "[1]"), column: try int(xs[2], path + "[2]"))
    }

    func attribute(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Attribute {
        let (tag, x) = try single(v, path, ["int", "double", "bool", "ints", "string"])
        switch tag {
        case "int": return .int(try int(x, "\(path).int"))
        case "double": return .double(try double(x, "\(path).double"))
        case "bool": return .bool(try bool(x, "\(path).bool"))
        case "ints": return .ints(try ints(x, "\(path).ints"))
        default: return .string(try string(x, "\(path).string"))
        }
    }

    /// An op from its name and attributes: exactly the attributes the op
    /// prints, each of the kind it prints, so the file has one spelling per op.
    func op(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Op {
        let f = try object(v, path, ["op", "attrs"])
        let name = try string(f["op"], path + ".op")
        let given = try pairs(f["attrs"], path + ".attrs")
        var attributes: [String: Attribute] = [:]
        for (k, a) in given { attributes[k] = try attribute(a, "\(path).attrs[\(PlanFile.quoted(k))]") }
        let op: Op
        do {
            op = try Op(name: name, attributes: attributes)
        } catch let e as ShapeError {
            throw fail(path, e.message)
        } catch {
            throw fail(path, "\(error)")
        }
        guard op.name == name else { throw fail(path, "\(PlanFile.quoted(name)) has the attributes of \(op.name)") }
        let own = op.attributes
        for (k, _) in given where !own.contains(where: { $0.0 == k }) {
            throw fail("\(path).attrs", "\(name) takes no attribute \(PlanFile.quoted(k))")
        }
        for (k, a) in own {
            guard let g = attributes[k], PlanJSONEncoder.attribute(g) == PlanJSONEncoder.attribute(a) else {
                throw fail("\(path).attrs.\(k)", "\(name) needs \(attributeKind(a)) here")
            }
        }
        try checkAttributeCounts(op, path)
        return op
    }

    /// Convolution attribute lists of one length each, one per spatial axis:
    /// the shape rules index them by axis.
    func checkAttributeCounts(_ op: Op, _ path: String) throws(PlanFileError) {
        let conv: ConvAttributes
        let sizes: [Int]?
        switch op {
        case let .conv(a):
            conv = a
            sizes = nil
        case let .convInputGrad(a, s), let .convFilterGrad(a, s):
            conv = a
            sizes = s
        case .input, .parameter, .state, .carried, .constant, .random, .unary, .binary, .matmul, .pool, .poolGrad, .reduce, .softmax, .logSoftmax,
             .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd, .oneHot:
            return
        }
        let r = conv.spatialRank
        guard r == 1 || r == 2, conv.padBefore.count == r, conv.padAfter.count == r, sizes.map({ $0.count == r }) ?? true else {
            throw fail(path + ".attrs", "\(op.name) needs \(r == 1 ? "one value" : "two values") per list (one per spatial axis)")
        }
    }

    func function(_ v: JSONValue, _ path: String) throws(PlanFileError) -> FusedInstruction.Function {
        if case let .string(s) = v {
            guard s == "copy" else { throw fail(path, "expected an op or \"copy\", got \(PlanFile.quoted(s))") }
            return .copy
        }
        let o = try op(v, path)
        switch o {
        case let .unary(u): return .unary(u)
        case let .binary(b): return .binary(b)
        case let .random(d, stream): return .random(d, stream: stream)
        case let .oneHot(depth): return .oneHot(depth: depth)
        case .input, .parameter, .state, .carried, .constant, .matmul, .conv, .convInputGrad, .convFilterGrad, .pool, .poolGrad, .reduce, .softmax,
             .logSoftmax, .reshape, .transpose, .slice, .unslice, .concat, .broadcast, .gather, .scatterAdd:
            throw fail(path, "a fused loop computes unary, binary, random and one_hot functions, not \(o.name)")
        }
    }

    func operand(_ v: JSONValue, _ path: String) throws(PlanFileError) -> FusedInstruction.Operand {
        let (tag, x) = try single(v, path, ["input", "head", "register", "scalar"])
        switch tag {
        case "input": return .input(try count(x, "\(path).input"))
        case "head": try flag(x, "\(path).head"); return .head
        case "register": return .register(try count(x, "\(path).register"))
        default: return .scalar(try double(x, "\(path).scalar"))
        }
    }

    /// A fused loop; each read's lowest and highest element must fit 64 bits
    /// (the verifier then checks they lie inside the input).
    func fused(_ v: JSONValue, _ path: String) throws(PlanFileError) -> FusedLoop {
        let f = try object(v, path, ["head", "head_inputs", "shape", "reads", "body", "results", "reductions"])
        var head: Op?
        if case .null = f["head"] { head = nil } else { head = try op(f["head"], path + ".head") }
        let shape = try self.shape(f["shape"], path + ".shape")
        var reads: [AffineRead] = []
        for (j, r) in try array(f["reads"], path + ".reads").enumerated() {
            let p = "\(path).reads[\(j)]"
            let rf = try object(r, p, ["offset", "strides"])
            let read = AffineRead(offset: try count(rf["offset"], p + ".offset"), strides: try ints(rf["strides"], p + ".strides"))
            guard read.strides.count == shape.count else { throw fail(p + ".strides", "\(read.strides.count) strides for a loop of rank \(shape.count)") }
            do {
                var lo = read.offset, hi = read.offset
                for a in shape.indices where shape[a] > 0 {
                    let span = try Size.multiply(read.strides[a], shape[a] - 1)
                    if span < 0 { lo = try Size.add(lo, span) } else { hi = try Size.add(hi, span) }
                }
            } catch {
                throw fail(p, "the elements it reads are out of range (\(Self.message(error)))")
            }
            reads.append(read)
        }
        var body: [FusedInstruction] = []
        for (j, x) in try array(f["body"], path + ".body").enumerated() {
            let p = "\(path).body[\(j)]"
            let xf = try object(x, p, ["function", "operands", "node"])
            var operands: [FusedInstruction.Operand] = []
            for (k, o) in try array(xf["operands"], p + ".operands").enumerated() { operands.append(try operand(o, "\(p).operands[\(k)]")) }
            body.append(FusedInstruction(function: try function(xf["function"], p + ".function"), operands: operands, node: try count(xf["node"], p + ".node")))
        }
        var results: [Int] = []
        for (k, r) in try array(f["results"], path + ".results").enumerated() { results.append(try count(r, "\(path).results[\(k)]")) }
        var reductions: [FusedReduction] = []
        for (k, r) in try array(f["reductions"], path + ".reductions").enumerated() {
            let p = "\(path).reductions[\(k)]"
            let rf = try object(r, p, ["function", "operand", "strides", "node"])
            let name = try string(rf["function"], p + ".function")
            guard let function = ReduceFunction(rawValue: name) else {
                throw fail(p + ".function", "expected one of \(ReduceFunction.allCases.map(\.rawValue).joined(separator: ", ")), got \(PlanFile.quoted(name))")
            }
            let strides = try ints(rf["strides"], p + ".strides")
            guard strides.count == shape.count, strides.allSatisfy({ $0 >= 0 }) else {
                throw fail(p + ".strides", "expected \(shape.count) strides, none negative, for a loop of rank \(shape.count)")
            }
            reductions.append(FusedReduction(function: function, operand: try operand(rf["operand"], p + ".operand"), strides: strides,
                                             node: try count(rf["node"], p + ".node")))
        }
        return FusedLoop(head: head, headInputs: try count(f["head_inputs"], path + ".head_inputs"), shape: shape, reads: reads, body: body,
                         results: results, reductions: reductions)
    }

    func kernel(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Kernel {
        let (tag, x) = try single(v, path, ["op", "fused"])
        switch tag {
        case "op": return .op(try op(x, path + ".op"))
        default: return .fused(try fused(x, path + ".fused"))
        }
    }

    func step(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Step {
        let f = try object(v, path, ["kernel", "inputs", "outputs", "location", "sources"])
        var sources: [SourceOp] = []
        for (k, s) in try array(f["sources"], path + ".sources").enumerated() {
            let p = "\(path).sources[\(k)]"
            let sf = try object(s, p, ["node", "op", "location"])
            sources.append(SourceOp(node: try count(sf["node"], p + ".node"), op: try string(sf["op"], p + ".op"), location: try location(sf["location"], p + ".location")))
        }
        return Step(kernel: try kernel(f["kernel"], path + ".kernel"), inputs: try slots(f["inputs"], path + ".inputs"),
                    outputs: try slots(f["outputs"], path + ".outputs"), location: try location(f["location"], path + ".location"), sources: sources)
    }

    func storage(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Storage {
        let (tag, x) = try single(v, path, ["arena", "persistent", "view", "fused"])
        switch tag {
        case "arena": return .arena(offset: try count(x, path + ".arena"))
        case "persistent": return .persistent(try index(x, path + ".persistent", below: persistentCount, "persistent buffer"))
        case "view": return .view(of: try slot(x, path + ".view"))
        default: try flag(x, path + ".fused"); return .fused
        }
    }

    func initializer(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Initializer {
        let (tag, x) = try single(v, path, ["uniform", "normal", "constant"])
        switch tag {
        case "uniform": return .uniform(bound: try double(x, path + ".uniform"))
        case "normal": return .normal(std: try double(x, path + ".normal"))
        default: return .constant(try double(x, path + ".constant"))
        }
    }

    func named(_ v: JSONValue, _ path: String) throws(PlanFileError) -> [Plan.NamedSlot] {
        var out: [Plan.NamedSlot] = []
        for (k, x) in try array(v, path).enumerated() {
            let p = "\(path)[\(k)]"
            let f = try object(x, p, ["name", "slot"])
            out.append(Plan.NamedSlot(name: try string(f["name"], p + ".name"), slot: try slot(f["slot"], p + ".slot")))
        }
        return out
    }

    func report(_ v: JSONValue, _ path: String, steps: Int) throws(PlanFileError) -> PlanReport {
        let f = try object(v, path, ["arena_bytes", "naive_bytes", "lower_bound_bytes", "persistent_bytes", "flops", "ops", "kernels",
                                     "fused_groups", "peak", "peak_step"])
        var peak: [PlanReport.PeakValue] = []
        for (k, x) in try array(f["peak"], path + ".peak").enumerated() {
            let p = "\(path).peak[\(k)]"
            let pf = try object(x, p, ["slot", "bytes", "op", "location"])
            peak.append(PlanReport.PeakValue(slot: try slot(pf["slot"], p + ".slot"), bytes: try count(pf["bytes"], p + ".bytes"),
                                             op: try string(pf["op"], p + ".op"), location: try location(pf["location"], p + ".location")))
        }
        let peakStep = try count(f["peak_step"], path + ".peak_step")
        guard peakStep <= steps else { throw fail(path + ".peak_step", "step \(peakStep) is past the plan's \(steps) steps") }
        return PlanReport(arenaBytes: try count(f["arena_bytes"], path + ".arena_bytes"), naiveBytes: try count(f["naive_bytes"], path + ".naive_bytes"),
                          lowerBoundBytes: try count(f["lower_bound_bytes"], path + ".lower_bound_bytes"),
                          persistentBytes: try count(f["persistent_bytes"], path + ".persistent_bytes"), flops: try count(f["flops"], path + ".flops"),
                          ops: try count(f["ops"], path + ".ops"), kernels: try count(f["kernels"], path + ".kernels"),
                          fusedGroups: try count(f["fused_groups"], path + ".fused_groups"), peak: peak, peakStep: peakStep)
    }

    /// A plan. Persistent buffers and slot counts are read first, so every
    /// index after them is checked against what exists.
    func plan(_ v: JSONValue, _ path: String) throws(PlanFileError) -> Plan {
        let f = try object(v, path, ["name", "arena_bytes", "slots", "persistent", "inputs", "outputs", "updates", "steps", "report"])
        var d = self
        var persistent: [PersistentBuffer] = []
        for (k, x) in try array(f["persistent"], path + ".persistent").enumerated() {
            let p = "\(path).persistent[\(k)]"
            let pf = try object(x, p, ["name", "kind", "type", "init"])
            let kindName = try string(pf["kind"], p + ".kind")
            guard let kind = PersistentBuffer.Kind(rawValue: kindName) else {
                throw fail(p + ".kind", "unknown kind \(PlanFile.quoted(kindName)) (expected parameter, state, constant or carried)")
            }
            persistent.append(PersistentBuffer(name: try string(pf["name"], p + ".name"), kind: kind, type: try type(pf["type"], p + ".type"),
                                               initializer: try initializer(pf["init"], p + ".init")))
        }
        let slotValues = try array(f["slots"], path + ".slots")
        d.slotCount = slotValues.count
        d.persistentCount = persistent.count
        var slots: [Slot] = []
        // The arena may be no larger than every arena slot in a buffer of its own.
        var naive = 0
        for (k, x) in slotValues.enumerated() {
            let p = "\(path).slots[\(k)]"
            let sf = try d.object(x, p, ["storage", "type"])
            let slot = Slot(storage: try d.storage(sf["storage"], p + ".storage"), type: try d.type(sf["type"], p + ".type"))
            if case .arena = slot.storage {
                do { naive = try Size.add(naive, Planner.aligned(slot.type.byteCount)) } catch { throw fail(p, Self.message(error)) }
            }
            slots.append(slot)
        }
        let arenaBytes = try d.count(f["arena_bytes"], path + ".arena_bytes")
        guard arenaBytes <= naive else {
            throw fail(path + ".arena_bytes", "an arena of \(arenaBytes) bytes is larger than its slots need (\(naive))")
        }
        var updates: [Plan.PersistentUpdate] = []
        for (k, x) in try d.array(f["updates"], path + ".updates").enumerated() {
            let p = "\(path).updates[\(k)]"
            let uf = try d.object(x, p, ["buffer", "slot", "in_place"])
            updates.append(Plan.PersistentUpdate(buffer: try d.index(uf["buffer"], p + ".buffer", below: persistent.count, "persistent buffer"),
                                                 slot: try d.slot(uf["slot"], p + ".slot"), inPlace: try d.bool(uf["in_place"], p + ".in_place")))
        }
        var steps: [Step] = []
        for (k, x) in try d.array(f["steps"], path + ".steps").enumerated() { steps.append(try d.step(x, "\(path).steps[\(k)]")) }
        return Plan(name: try d.string(f["name"], path + ".name"), steps: steps, slots: slots, arenaBytes: arenaBytes, persistent: persistent,
                    inputs: try d.named(f["inputs"], path + ".inputs"), outputs: try d.named(f["outputs"], path + ".outputs"),
                    updates: updates, report: try d.report(f["report"], path + ".report", steps: steps.count))
    }
}
