import GencSupport

/// The graph as JSON, for tools: nodes with op, operands, attributes, type
/// and location; outputs; state updates.
public enum IRJSON {
    public static func value(_ g: Graph) -> JSONValue {
        .object([
            ("name", .string(g.name)),
            ("nodes", .array(g.nodes.enumerated().map { i, n in
                var o: [(String, JSONValue)] = [
                    ("id", .int(i)),
                    ("op", .string(n.op.name)),
                    ("operands", .array(n.operands.map { .int($0.id) })),
                    ("attributes", .object(n.op.attributes.map { ($0.0, json($0.1)) })),
                    ("type", .object([("dtype", .string(n.type.dtype.rawValue)), ("shape", .array(n.type.shape.map { .int($0) }))])),
                ]
                if let l = n.location {
                    o.append(("loc", .object([("file", .string(l.path)), ("line", .int(l.line)), ("column", .int(l.column))])))
                }
                return .object(o)
            })),
            ("outputs", .object(g.outputs.map { ($0.name, .int($0.value.id)) })),
            ("updates", .object(g.updates.map { ($0.name, .int($0.value.id)) })),
        ])
    }

    static func json(_ a: Attribute) -> JSONValue {
        switch a {
        case let .int(i): return .int(i)
        case let .double(d): return .double(d)
        case let .bool(b): return .bool(b)
        case let .ints(xs): return .array(xs.map { .int($0) })
        case let .string(s): return .string(s)
        }
    }
}
