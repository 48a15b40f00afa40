import GencIR
import GencSpec
import GencSupport
import GencSyntax

/// Names visible to an expression being lowered.
struct Scope {
    var values: [String: Value]
    var records: [String: Lowered]
    /// Objective-level scopes read inputs lazily (only those used become leaves).
    var inputsVisible = false
}

// MARK: - Expressions, built-ins, losses, slices

extension Lowerer {
    /// The tensor an expression gives (a record is an error here).
    mutating func tensor(_ l: Lowered, _ e: Expr) throws -> Value {
        switch l {
        case let .tensor(v): return v
        case let .record(net, fields):
            throw fail(LowerDiagnostics.shape("'\(e)' is the record {\(fields.keys.sorted().joined(separator: ", "))} of '\(net)'; pick a field (\(e).\(fields.keys.sorted().first ?? "field"))", e.range))
        }
    }

    mutating func value(_ e: Expr, scope: Scope) throws -> Value {
        try tensor(try expression(e, scope: scope), e)
    }

    /// Requires f32 operands for arithmetic.
    mutating func requireFloat(_ v: Value, _ e: Expr, _ what: String) throws {
        if type(v).dtype == .i32 {
            throw fail(LowerDiagnostics.dtype("\(what) needs f32 values, but '\(e)' is i32 \(type(v).shapeDescription); token ids only feed embedding layers, cross_entropy targets and slices", e.range), notes: [v])
        }
    }

    mutating func expression(_ e: Expr, scope: Scope) throws -> Lowered {
        let r = e.range
        switch e.kind {
        case let .integer(i): return .tensor(try constant(Double(i), at: r))
        case let .real(d): return .tensor(try constant(d, at: r))
        case .bool, .list:
            throw fail(LowerDiagnostics.shape("'\(e)' is not a tensor", r))
        case let .name(n):
            if let rec = scope.records[n] { return rec }
            if let v = scope.values[n] { return .tensor(v) }
            if let d = spec.dim(named: n) { return .tensor(try constant(Double(d.value), at: r)) }
            if scope.inputsVisible, let i = spec.input(named: n) { return .tensor(try input(i)) }
            throw fail(LowerDiagnostics.shape("'\(n)' has no value here", r))
        case let .unary(op, x):
            let v = try value(x, scope: scope)
            try requireFloat(v, x, "'\(op.rawValue)'")
            return .tensor(op == .negate ? try unary(.negate, v, at: r) : v)
        case let .binary(op, a, b):
            let x = try value(a, scope: scope), y = try value(b, scope: scope)
            try requireFloat(x, a, "'\(op.rawValue)'")
            try requireFloat(y, b, "'\(op.rawValue)'")
            let f: BinaryFunction
            switch op {
            case .add: f = .add
            case .subtract: f = .subtract
            case .multiply: f = .multiply
            case .divide: f = .divide
            case .power:
                if b.integerLiteral == 2 { return .tensor(try unary(.square, x, at: r)) }
                if case let .real(p) = b.kind, p == 0.5 { return .tensor(try unary(.sqrt, x, at: r)) }
                f = .power
            }
            return .tensor(try broadcastBinary(f, x, y, a, b, at: r))
        case let .call(callee, args, keywords):
            if let net = spec.network(named: callee.name) {
                if failedNetworks.contains(net.name) { throw Abandoned() }
                var values: [Value?] = Array(repeating: nil, count: net.arguments.count)
                for (i, a) in args.enumerated() where i < values.count { values[i] = try value(a, scope: scope) }
                for k in keywords {
                    if let i = net.arguments.firstIndex(where: { $0.name == k.name.name }) { values[i] = try value(k.value, scope: scope) }
                }
                let result = try call(net, values.compactMap { $0 }, at: callee.range)
                if case let .tensor(v) = result { _ = produced(v, by: "'\(e)'", at: r) }
                return result
            }
            guard let b = Builtin(rawValue: callee.name) else { throw fail(LowerDiagnostics.shape("unknown function '\(callee.name)'", callee.range)) }
            return .tensor(try builtin(b, args, keywords, scope: scope, call: e))
        case let .field(base, field):
            guard case let .record(net, fields) = try expression(base, scope: scope), let v = fields[field.name] else {
                throw fail(LowerDiagnostics.shape("'\(base)' has no field '\(field.name)'", field.range))
            }
            _ = net
            return .tensor(v)
        case let .subscripted(base, subs):
            return .tensor(try subscripted(try value(base, scope: scope), base, subs, at: r))
        }
    }

    /// An elementwise binary op; a broadcast error names both operands'
    /// shapes and the function the user wrote (`what`, default the op).
    mutating func broadcastBinary(_ f: BinaryFunction, _ x: Value, _ y: Value, _ a: Expr, _ b: Expr, at r: SourceRange,
                                  as what: String? = nil) throws -> Value {
        try requireBroadcast(x, y, a, b, at: r, as: what ?? f.rawValue)
        return try binary(f, x, y, at: r)
    }

    /// Reports operands of an elementwise function that do not broadcast.
    mutating func requireBroadcast(_ x: Value, _ y: Value, _ a: Expr, _ b: Expr, at r: SourceRange, as what: String) throws {
        if (try? Op.broadcastShapes(type(x).shape, type(y).shape)) == nil {
            throw fail(LowerDiagnostics.shape("'\(what)' of shapes \(type(x).shapeDescription) ('\(a)') and \(type(y).shapeDescription) ('\(b)') does not broadcast", r), notes: [x, y])
        }
    }

    // MARK: - Built-ins

    mutating func builtin(_ b: Builtin, _ args: [Expr], _ keywords: [KeywordArgument], scope: Scope, call e: Expr) throws -> Value {
        let r = e.range
        let xs = try args.map { try value($0, scope: scope) }
        func float(_ i: Int) throws -> Value {
            try requireFloat(xs[i], args[i], "'\(b.rawValue)'")
            return xs[i]
        }
        switch b {
        case .exp: return try unary(.exp, try float(0), at: r)
        case .log: return try unary(.log, try float(0), at: r)
        case .sqrt: return try unary(.sqrt, try float(0), at: r)
        case .abs: return try unary(.abs, try float(0), at: r)
        case .tanh: return try unary(.tanh, try float(0), at: r)
        case .sigmoid: return try unary(.sigmoid, try float(0), at: r)
        case .relu: return try unary(.relu, try float(0), at: r)
        case .softplus: return try unary(.softplus, try float(0), at: r)
        case .square: return try unary(.square, try float(0), at: r)
        case .sum, .mean, .max:
            let x = try float(0)
            let rank = type(x).rank
            var axes = Array(0..<rank)
            var keep = false
            for k in keywords {
                switch k.name.name {
                case "keepdims": if case let .bool(v) = k.value.kind { keep = v }
                case "axis":
                    let list: [Expr]
                    if case let .list(l) = k.value.kind { list = l } else { list = [k.value] }
                    axes = []
                    for a in list {
                        guard let i = a.integerLiteral, i >= -rank, i < rank else {
                            throw fail(LowerDiagnostics.shape("axis \(a) is out of range for \(type(x).shapeDescription) (rank \(rank))", a.range), notes: [x])
                        }
                        axes.append(i < 0 ? i + rank : i)
                    }
                default: break
                }
            }
            let f: ReduceFunction = b == .sum ? .sum : b == .mean ? .mean : .max
            return try emit(.reduce(f, axes: axes.sorted(), keepDims: keep), [x], at: r)
        case .normalLike:
            return try emit(.random(.normal(mean: 0, std: 1), stream: nextStream()), [], type: .f32(type(xs[0]).shape), at: r)
        case .uniformLike:
            return try emit(.random(.uniform(low: 0, high: 1), stream: nextStream()), [], type: .f32(type(xs[0]).shape), at: r)
        case .mse:
            return try unary(.square, try broadcastBinary(.subtract, try float(0), try float(1), args[0], args[1], at: r, as: "mse"), at: r)
        case .l1:
            return try unary(.abs, try broadcastBinary(.subtract, try float(0), try float(1), args[0], args[1], at: r, as: "l1"), at: r)
        case .bce:
            // -(t·log p + (1 - t)·log(1 - p)), logs clamped at -100 as PyTorch does.
            let p = try float(0), t = try float(1)
            try requireBroadcast(p, t, args[0], args[1], at: r, as: "bce")
            let floor = try constant(-100, at: r), one = try constant(1, at: r)
            let logP = try binary(.maximum, try unary(.log, p, at: r), floor, at: r)
            let log1mP = try binary(.maximum, try unary(.log, try binary(.subtract, one, p, at: r), at: r), floor, at: r)
            let pos = try broadcastBinary(.multiply, t, logP, args[1], args[0], at: r)
            let neg = try binary(.multiply, try binary(.subtract, one, t, at: r), log1mP, at: r)
            return try unary(.negate, try binary(.add, pos, neg, at: r), at: r)
        case .bceLogits:
            // softplus(x) - x·t: softplus is max(x, 0) + log(1 + exp(-|x|)),
            // stable for any x, and its derivative is sigmoid(x), so the
            // gradient is the classic σ(x) - t: 3 ops where differentiating
            // relu, abs and a softplus of -|x| made 11.
            let x = try float(0), t = try float(1)
            let xt = try broadcastBinary(.multiply, x, t, args[0], args[1], at: r, as: "bce_logits")
            return try binary(.subtract, try unary(.softplus, x, at: r), xt, at: r)
        case .klNormal:
            // -0.5·(1 + logvar - mu² - exp(logvar))
            let mu = try float(0), lv = try float(1)
            try requireBroadcast(mu, lv, args[0], args[1], at: r, as: "kl_normal")
            let inner = try binary(.subtract, try binary(.subtract, try binary(.add, try constant(1, at: r), lv, at: r),
                                                         try unary(.square, mu, at: r), at: r), try unary(.exp, lv, at: r), at: r)
            return try binary(.multiply, try constant(-0.5, at: r), inner, at: r)
        case .crossEntropy:
            let logits = try float(0), ids = xs[1]
            let lt = type(logits), it = type(ids)
            guard it.dtype == .i32 else {
                throw fail(LowerDiagnostics.dtype("cross_entropy takes i32 class ids as its second argument, got f32 \(it.shapeDescription) ('\(args[1])')", args[1].range), notes: [ids])
            }
            guard lt.rank >= 1, Array(lt.shape.dropLast()) == it.shape else {
                throw fail(LowerDiagnostics.shape("cross_entropy takes logits [..., V] and ids [...] with the same leading shape; got logits \(lt.shapeDescription) and ids \(it.shapeDescription)", r), notes: [logits, ids])
            }
            try checkTokenBound(ids, classes: lt.shape[lt.rank - 1], what: "cross_entropy predicts \(lt.shape[lt.rank - 1]) classes", at: r)
            let logp = try emit(.logSoftmax(axis: lt.rank - 1), [logits], at: r)
            let picked = try binary(.multiply, try emit(.oneHot(depth: lt.shape[lt.rank - 1]), [ids], at: r), logp, at: r)
            return try unary(.negate, try emit(.reduce(.sum, axes: [lt.rank - 1], keepDims: false), [picked], at: r), at: r)
        }
    }

    // MARK: - Slices: Python's meaning, resolved to static ranges

    mutating func subscripted(_ x: Value, _ base: Expr, _ subs: [Subscript], at r: SourceRange) throws -> Value {
        let t = type(x)
        guard subs.count <= t.rank else {
            throw fail(LowerDiagnostics.index("'\(base)' has rank \(t.rank) (\(t.shapeDescription)) but \(subs.count) indices are given", r), notes: [x])
        }
        var start = Array(repeating: 0, count: t.rank), end = t.shape, step = Array(repeating: 1, count: t.rank)
        var dropped: [Int] = []
        for (axis, s) in subs.enumerated() {
            let n = t.shape[axis]
            switch s {
            case let .index(e):
                guard var i = integer(e) else { throw fail(LowerDiagnostics.index("an index must be an integer", e.range)) }
                if i < 0 { i += n }
                guard i >= 0, i < n else {
                    throw fail(LowerDiagnostics.index("index \(integer(e) ?? i) is out of range for axis \(axis) of '\(base)' (size \(n))", e.range), notes: [x])
                }
                start[axis] = i
                end[axis] = i + 1
                dropped.append(axis)
            case let .slice(a, b, c):
                let st = c.flatMap(integer) ?? 1
                func clamp(_ v: Int?, _ d: Int) -> Int {
                    guard var v else { return d }
                    if v < 0 { v += n }
                    return min(max(v, 0), n)
                }
                start[axis] = clamp(a.flatMap(integer), 0)
                end[axis] = clamp(b.flatMap(integer), n)
                step[axis] = st
                if start[axis] >= end[axis] {
                    throw fail(LowerDiagnostics.index("the slice \(Self.sliceText(a, b, c)) of axis \(axis) of '\(base)' (size \(n)) is empty", r), notes: [x])
                }
            }
        }
        var y = x
        if start != Array(repeating: 0, count: t.rank) || end != t.shape || step.contains(where: { $0 != 1 }) {
            y = try emit(.slice(SliceAttributes(start: start, end: end, step: step)), [x], at: r)
        }
        if !dropped.isEmpty {
            let shape = type(y).shape.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
            y = try emit(.reshape(shape), [y], at: r)
        }
        return y
    }

    static func sliceText(_ a: Expr?, _ b: Expr?, _ c: Expr?) -> String {
        (a?.description ?? "") + ":" + (b?.description ?? "") + (c.map { ":\($0)" } ?? "")
    }

    /// An integer index or bound: literals and dims.
    func integer(_ e: Expr) -> Int? {
        switch e.kind {
        case let .integer(i): return i
        case let .name(n): return spec.dim(named: n)?.value
        case let .unary(.negate, x): return integer(x).map { -$0 }
        case let .unary(.plus, x): return integer(x)
        case let .binary(op, a, b):
            guard let x = integer(a), let y = integer(b) else { return nil }
            switch op {
            case .add: return x.addingReportingOverflow(y).overflow ? nil : x + y
            case .subtract: return x.subtractingReportingOverflow(y).overflow ? nil : x - y
            case .multiply: return x.multipliedReportingOverflow(by: y).overflow ? nil : x * y
            case .divide: return y != 0 && x % y == 0 ? x / y : nil
            case .power: return nil
            }
        default: return nil
        }
    }
}
