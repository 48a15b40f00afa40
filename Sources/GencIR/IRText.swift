/// The text form of the IR: stable (values numbered in order, attributes in
/// fixed order, the location trailing) and parseable, so that
/// `IRParser.parse(IRText.print(g)) == g`.
///
///     graph "mlp-gan.d_loss" {
///       %0 = input {name: "x"} : f32[64, 784] loc("models/mlp-gan.yaml":12:3)
///       %1 = parameter {name: "discriminator.dense0.weight"} : f32[784, 512] loc(...)
///       %2 = matmul %0, %1 {transpose_a: false, transpose_b: false} : f32[64, 512] loc(...)
///       output "loss" = %9
///       update "generator.batchnorm0.running_mean" = %12
///     }
public enum IRText {
    public static func print(_ g: Graph) -> String {
        var out = "graph \(quote(g.name)) {\n"
        for (i, n) in g.nodes.enumerated() {
            out += "  \(line(Value(i), n))\n"
        }
        for o in g.outputs { out += "  output \(quote(o.name)) = \(o.value)\n" }
        for u in g.updates { out += "  update \(quote(u.name)) = \(u.value)\n" }
        return out + "}\n"
    }

    /// One node's line, without indentation.
    public static func line(_ v: Value, _ n: Node) -> String {
        var s = "\(v) = \(n.op.name)"
        if !n.operands.isEmpty { s += " " + n.operands.map(\.description).joined(separator: ", ") }
        let attrs = n.op.attributes
        if !attrs.isEmpty { s += " {" + attrs.map { "\($0.0): \(format($0.1))" }.joined(separator: ", ") + "}" }
        s += " : \(n.type)"
        if let l = n.location { s += " \(l)" }
        return s
    }

    public static func format(_ a: Attribute) -> String {
        switch a {
        case let .int(i): return String(i)
        case let .double(d): return formatDouble(d)
        case let .bool(b): return b ? "true" : "false"
        case let .ints(xs): return "[" + xs.map(String.init).joined(separator: ", ") + "]"
        case let .string(s): return quote(s)
        }
    }

    /// Shortest text that reads back to the same double, always with a `.`
    /// or exponent so it is never mistaken for an integer.
    public static func formatDouble(_ d: Double) -> String {
        let s = "\(d)"
        return s.contains(".") || s.contains("e") || s.contains("n") || s.contains("i") ? s : s + ".0"
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
