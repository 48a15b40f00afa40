/// Reads the text IR back (pass tests start from text; dumps round-trip).
public struct IRParser {
    public struct Failure: Error, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    private var chars: [Unicode.Scalar]
    private var i = 0
    private var line = 1

    /// Parses one `graph "name" { ... }`. The result is not verified; run
    /// `Verifier.verify` on it.
    public static func parse(_ text: String) throws -> Graph {
        var p = IRParser(chars: Array(text.unicodeScalars))
        return try p.graph()
    }

    private init(chars: [Unicode.Scalar]) { self.chars = chars }

    private func fail(_ m: String) -> Failure { Failure(line: line, message: m) }

    private mutating func skipSpace(newlines: Bool = true) {
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\r" { i += 1 } else if c == "\n", newlines { line += 1; i += 1 } else if c == "#" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
            } else { break }
        }
    }

    private mutating func peek(_ s: String) -> Bool {
        skipSpace()
        let u = Array(s.unicodeScalars)
        return i + u.count <= chars.count && Array(chars[i..<i + u.count]) == u
    }

    private mutating func expect(_ s: String) throws {
        guard peek(s) else { throw fail("expected '\(s)'") }
        i += s.unicodeScalars.count
    }

    private mutating func word() throws -> String {
        skipSpace()
        var w = String.UnicodeScalarView()
        while i < chars.count, chars[i].properties.isAlphabetic || chars[i] == "_" || ("0"..."9").contains(chars[i]) {
            w.append(chars[i])
            i += 1
        }
        guard !w.isEmpty else { throw fail("expected a name") }
        return String(w)
    }

    private mutating func string() throws -> String {
        try expect("\"")
        var s = String.UnicodeScalarView()
        while i < chars.count, chars[i] != "\"" {
            if chars[i] == "\\", i + 1 < chars.count {
                i += 1
                s.append(chars[i] == "n" ? "\n" : chars[i])
            } else {
                s.append(chars[i])
            }
            i += 1
        }
        try expect("\"")
        return String(s)
    }

    private mutating func number() throws -> Attribute {
        skipSpace()
        var s = String.UnicodeScalarView()
        while i < chars.count, "+-0123456789.eEinfa".unicodeScalars.contains(chars[i]) {
            s.append(chars[i])
            i += 1
        }
        let text = String(s)
        if let v = Int(text) { return .int(v) }
        if let d = Double(text) { return .double(d) }
        throw fail("bad number '\(text)'")
    }

    private mutating func integer() throws -> Int {
        guard case let .int(v) = try number() else { throw fail("expected an integer") }
        return v
    }

    private mutating func ints() throws -> [Int] {
        try expect("[")
        var xs: [Int] = []
        while !peek("]") {
            xs.append(try integer())
            if peek(",") { try expect(",") }
        }
        try expect("]")
        return xs
    }

    private mutating func value() throws -> Value {
        try expect("%")
        return Value(try integer())
    }

    private mutating func attribute() throws -> Attribute {
        if peek("\"") { return .string(try string()) }
        if peek("[") { return .ints(try ints()) }
        if peek("true") { try expect("true"); return .bool(true) }
        if peek("false") { try expect("false"); return .bool(false) }
        return try number()
    }

    private mutating func type() throws -> TensorType {
        let d = try word()
        guard let dtype = DType(rawValue: d) else { throw fail("unknown element type '\(d)'") }
        let shape = try ints()
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("negative extent in \(TensorType(dtype, shape))") }
        do { _ = try Size.elements(shape) } catch let e as ShapeError { throw fail(e.message) }
        return TensorType(dtype, shape)
    }

    private mutating func graph() throws -> Graph {
        try expect("graph")
        var g = Graph(name: try string())
        try expect("{")
        while !peek("}") {
            if peek("output") {
                try expect("output")
                let n = try string()
                try expect("=")
                g.outputs.append(NamedValue(n, try value()))
                continue
            }
            if peek("update") {
                try expect("update")
                let n = try string()
                try expect("=")
                g.updates.append(NamedValue(n, try value()))
                continue
            }
            let v = try value()
            guard v.id == g.nodes.count else { throw fail("expected %\(g.nodes.count), got \(v)") }
            try expect("=")
            let name = try word()
            var operands: [Value] = []
            while peek("%") {
                operands.append(try value())
                if peek(",") { try expect(",") }
            }
            var attrs: [String: Attribute] = [:]
            if peek("{") {
                try expect("{")
                while !peek("}") {
                    let k = try word()
                    try expect(":")
                    attrs[k] = try attribute()
                    if peek(",") { try expect(",") }
                }
                try expect("}")
            }
            let op: Op
            do { op = try Op(name: name, attributes: attrs) } catch let e as ShapeError { throw fail(e.message) }
            try expect(":")
            let t = try type()
            var loc: IRLocation?
            skipSpace(newlines: false)
            if peek("loc(") {
                try expect("loc(")
                let path = try string()
                try expect(":")
                let l = try integer()
                try expect(":")
                let c = try integer()
                try expect(")")
                loc = IRLocation(path: path, line: l, column: c)
            }
            g.appendUnchecked(Node(op: op, operands: operands, type: t, location: loc))
        }
        try expect("}")
        return g
    }
}
