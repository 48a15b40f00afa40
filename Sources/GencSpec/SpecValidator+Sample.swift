import GencSupport
import GencSyntax

// MARK: - sample: image grids and text

extension SpecValidator {
    mutating func validateSample(_ node: YAMLNode, key: SourceRange) -> SampleSpec? {
        guard let f = mapping(node, "'sample'", owner: key, allowed: ["images", "reconstructions", "text"]) else { return nil }
        if f.order.isEmpty, node.pairs?.isEmpty == true {
            report(SpecDiagnostics.emptySection("'sample'", node.range))
            return nil
        }
        var spec = SampleSpec()
        var ok = true
        if let i = f["images"] {
            spec.images = images(i.value, key: i.key.range)
            if spec.images == nil { ok = false }
        }
        if let r = f["reconstructions"] {
            spec.reconstructions = reconstructions(r.value, key: r.key.range)
            if spec.reconstructions == nil { ok = false }
        }
        if let t = f["text"] {
            spec.text = text(t.value, key: t.key.range)
            if spec.text == nil { ok = false }
        }
        return ok ? spec : nil
    }

    mutating func images(_ node: YAMLNode, key: SourceRange) -> SampleSpec.Images? {
        guard let f = mapping(node, "'images'", owner: key, allowed: ["from", "grid", "to"], required: ["from"]),
              let from = f["from"], let e = expression(from.value, "'from' of 'images'") else { return nil }
        var ok = true
        let facts = check(e, in: topLevelScope)
        for n in facts.usedNames.sorted() {
            if let i = inputs[n], i.noise == nil {
                report(SpecDiagnostics.reference("sampling reads input '\(n)', which is data; sampling draws only noise inputs (give '\(n)' a 'sample:')",
                                                 e.nameReferences.first { $0.name == n }?.range ?? from.value.range)
                    .note("'\(n)' is declared here", at: i.range))
                ok = false
            }
        }
        guard let (grid, to) = gridAndFile(f, defaultFile: "samples.png") else { return nil }
        return ok ? SampleSpec.Images(from: e, grid: grid, to: to, range: key) : nil
    }

    /// `reconstructions: {from, grid, to}`: `from` reads exactly one data
    /// input (the images to reconstruct) and any noise inputs.
    mutating func reconstructions(_ node: YAMLNode, key: SourceRange) -> SampleSpec.Reconstructions? {
        guard let f = mapping(node, "'reconstructions'", owner: key, allowed: ["from", "grid", "to"], required: ["from"]),
              let from = f["from"], let e = expression(from.value, "'from' of 'reconstructions'") else { return nil }
        let facts = check(e, in: topLevelScope)
        let data = facts.usedNames.sorted().filter { inputs[$0] != nil && inputs[$0]?.noise == nil }
        guard data.count == 1, let input = data.first else {
            report(SpecDiagnostics.reference(data.isEmpty
                ? "reconstructions need the images to reconstruct: 'from' must read one data input (an input without 'sample:')"
                : "'from' of 'reconstructions' reads \(data.count) data inputs (\(data.joined(separator: ", "))); it must read exactly one, the images to reconstruct",
                from.value.range))
            return nil
        }
        let at = e.nameReferences.first { $0.name == input }?.range ?? from.value.range
        guard let (grid, to) = gridAndFile(f, defaultFile: "reconstructions.png") else { return nil }
        return SampleSpec.Reconstructions(from: e, input: Located(input, at), grid: grid, to: to, range: key)
    }

    /// The `grid:` and `to:` of an image sample; nil after reporting a problem.
    mutating func gridAndFile(_ f: Fields, defaultFile: String) -> (grid: (rows: Int, columns: Int), to: String)? {
        var ok = true
        var grid = (rows: 8, columns: 8)
        if let g = f["grid"] {
            if let items = g.value.items, items.count == 2 {
                let r = integer(items[0], "the rows of 'grid'"), c = integer(items[1], "the columns of 'grid'")
                if let r, let c, r <= 256, c <= 256 {
                    grid = (r, c)
                } else {
                    // A grid is a picture a person looks at; its product must not overflow either.
                    if let r, let c { report(SpecDiagnostics.outOfRange("'grid'", "[\(r), \(c)]", expected: "at most 256 rows and 256 columns", g.value.range)) }
                    ok = false
                }
            } else {
                report(SpecDiagnostics.wrongType("'grid'", expected: "a list [rows, columns]", got: g.value.items.map { "a list of \($0.count)" } ?? g.value.kindDescription, g.value.range))
                ok = false
            }
        }
        var to = defaultFile
        if let t = f["to"] {
            if let s = string(t.value, "'to'") {
                if !s.lowercased().hasSuffix(".png") {
                    report(SpecDiagnostics.outOfRange("'to'", "'\(s)'", expected: "a .png file name", t.value.range))
                    ok = false
                }
                to = s
            } else { ok = false }
        }
        return ok ? (grid, to) : nil
    }

    mutating func text(_ node: YAMLNode, key: SourceRange) -> SampleSpec.Text? {
        guard let f = mapping(node, "'text'", owner: key, allowed: ["network", "from", "prime", "length", "temperature", "to"],
                              required: ["network", "from"]) else { return nil }
        var ok = true
        var network = Located("", key)
        if let n = f["network"], let s = string(n.value, "'network'") {
            network = Located(s, n.value.range)
            if networkNames[s] == nil {
                if !isRejected(s, as: .network) {
                    report(SpecDiagnostics.undefined("network", s, suggestion: Suggestions.suffix(for: s, among: networkNames.keys), n.value.range))
                }
                ok = false
            } else if let args = networkArguments[s], args.count != 1 || args[0].type.dtype != .i32 {
                report(SpecDiagnostics.reference("text sampling feeds one i32 token sequence, but network '\(s)' takes \(args.map { "\($0.name) (\($0.type.dtype))" }.joined(separator: ", "))",
                                                 n.value.range).note("'\(s)' declares its arguments here", at: networkInRanges[s]))
                ok = false
            }
        } else { ok = false }
        var from = Located("", key)
        if let n = f["from"], let s = string(n.value, "'from'") {
            from = Located(s, n.value.range)
            if let i = inputs[s] {
                if i.type.dtype != .i32 {
                    report(SpecDiagnostics.reference("text sampling starts from token ids, but input '\(s)' is f32", n.value.range)
                        .note("'\(s)' is declared here", at: i.range))
                    ok = false
                }
            } else {
                if !isRejected(s, as: .input) {
                    report(SpecDiagnostics.undefined("input", s, suggestion: Suggestions.suffix(for: s, among: inputs.keys), n.value.range))
                }
                ok = false
            }
        } else { ok = false }
        var prime = ""
        if let p = f["prime"] { if let s = p.value.scalar, !s.isNull { prime = s.value } else { _ = string(p.value, "'prime'"); ok = false } }
        var length = 400
        if let l = f["length"] { if let v = integer(l.value, "'length'", dimsAllowed: false) { length = v } else { ok = false } }
        var temperature = 1.0
        if let t = f["temperature"] {
            if let v = number(t.value, "'temperature'", expected: "greater than 0", { $0 > 0 }) { temperature = v } else { ok = false }
        }
        var to: String?
        if let t = f["to"] { to = string(t.value, "'to'"); if to == nil { ok = false } }
        return ok ? SampleSpec.Text(network: network, from: from, prime: prime, length: length, temperature: temperature, to: to, range: key) : nil
    }
}
