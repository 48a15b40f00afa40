import Foundation
import GencSupport

/// Validates a JSON value against the subset of JSON Schema (2020-12) that
/// grammar/genc.schema.json uses. A keyword outside the subset is an error,
/// so the schema cannot silently use something this validator ignores.
public struct SchemaValidator {
    let root: JSONValue

    static let annotations: Set<String> = ["$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples", "markdownDescription"]
    static let assertions: Set<String> = ["$ref", "type", "properties", "additionalProperties", "required", "items", "enum", "const",
                                          "pattern", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "minItems",
                                          "maxItems", "minProperties", "maxProperties", "oneOf", "anyOf", "propertyNames"]

    public init(schema: JSONValue) { root = schema }

    /// Every violation, as "path: why".
    public func errors(_ v: JSONValue) -> [String] {
        var out: [String] = []
        validate(v, root, "$", &out)
        return out
    }

    private func resolve(_ ref: String) -> JSONValue? {
        guard ref.hasPrefix("#/") else { return nil }
        var node = root
        for part in ref.dropFirst(2).split(separator: "/") {
            guard let next = node[String(part)] else { return nil }
            node = next
        }
        return node
    }

    private func typeName(_ v: JSONValue) -> [String] {
        switch v {
        case .null: return ["null"]
        case .bool: return ["boolean"]
        case .int: return ["integer", "number"]
        case let .double(d): return d == d.rounded() ? ["integer", "number"] : ["number"]
        case .string: return ["string"]
        case .array: return ["array"]
        case .object: return ["object"]
        }
    }

    private func number(_ v: JSONValue) -> Double? {
        if case let .int(i) = v { return Double(i) }
        if case let .double(d) = v { return d }
        return nil
    }

    private func validate(_ v: JSONValue, _ schema: JSONValue, _ path: String, _ out: inout [String]) {
        if case let .bool(b) = schema {
            if !b { out.append("\(path): not allowed") }
            return
        }
        guard case let .object(keywords) = schema else {
            out.append("\(path): schema is not an object")
            return
        }
        for (k, s) in keywords {
            if Self.annotations.contains(k) { continue }
            guard Self.assertions.contains(k) else {
                out.append("\(path): schema uses unsupported keyword '\(k)'")
                continue
            }
            switch k {
            case "$ref":
                guard case let .string(ref) = s, let target = resolve(ref) else { out.append("\(path): bad $ref"); continue }
                validate(v, target, path, &out)
            case "type":
                var allowed: [String] = []
                if case let .string(t) = s { allowed = [t] }
                if case let .array(ts) = s {
                    for case let .string(t) in ts { allowed.append(t) }
                }
                let actual: [String] = typeName(v)
                if !actual.contains(where: { allowed.contains($0) }) { out.append("\(path): expected \(allowed.joined(separator: "|")), got \(typeName(v)[0])") }
            case "properties":
                guard case let .object(props) = s, case let .object(pairs) = v else { continue }
                for (name, value) in pairs { if let sub = props.first(where: { $0.0 == name })?.1 { validate(value, sub, "\(path).\(name)", &out) } }
            case "additionalProperties":
                guard case let .object(pairs) = v else { continue }
                var props: [String] = []
                if case let .object(p)? = schema["properties"] { props = p.map { $0.0 } }
                for (name, value) in pairs where !props.contains(name) {
                    validate(value, s, "\(path).\(name)", &out)
                }
            case "required":
                guard case let .array(names) = s, case let .object(pairs) = v else { continue }
                for case let .string(n) in names where !pairs.contains(where: { $0.0 == n }) { out.append("\(path): missing '\(n)'") }
            case "items":
                guard case let .array(items) = v else { continue }
                for (i, x) in items.enumerated() { validate(x, s, "\(path)[\(i)]", &out) }
            case "enum":
                guard case let .array(options) = s else { continue }
                if !options.contains(v) { out.append("\(path): \(v.serialized(pretty: false)) is not one of the allowed values") }
            case "const":
                if s != v { out.append("\(path): must be \(s.serialized(pretty: false))") }
            case "pattern":
                guard case let .string(p) = s, case let .string(text) = v else { continue }
                let re = try? NSRegularExpression(pattern: p)
                if re?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil { out.append("\(path): '\(text)' does not match \(p)") }
            case "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum":
                guard let x = number(v), let bound = number(s) else { continue }
                let ok = k == "minimum" ? x >= bound : k == "exclusiveMinimum" ? x > bound : k == "maximum" ? x <= bound : x < bound
                if !ok { out.append("\(path): \(x) violates \(k) \(bound)") }
            case "minItems", "maxItems":
                guard case let .array(items) = v, let bound = number(s) else { continue }
                if k == "minItems" ? Double(items.count) < bound : Double(items.count) > bound { out.append("\(path): \(k) \(Int(bound))") }
            case "minProperties", "maxProperties":
                guard case let .object(pairs) = v, let bound = number(s) else { continue }
                if k == "minProperties" ? Double(pairs.count) < bound : Double(pairs.count) > bound { out.append("\(path): \(k) \(Int(bound))") }
            case "oneOf", "anyOf":
                guard case let .array(options) = s else { continue }
                let passing = options.filter { o in var e: [String] = []; validate(v, o, path, &e); return e.isEmpty }.count
                if k == "oneOf" ? passing != 1 : passing == 0 {
                    out.append("\(path): matches \(passing) of the \(k) alternatives")
                }
            case "propertyNames":
                guard case let .object(pairs) = v else { continue }
                for (name, _) in pairs { validate(.string(name), s, "\(path).\(name) (name)", &out) }
            default:
                break
            }
        }
    }
}
