/// An attribute value, as printed in the text IR.
public enum Attribute: Hashable, Sendable {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case ints([Int])
    case string(String)
}

// MARK: - Names and attributes, one row per op (the printer's and parser's table)

extension Op {
    /// The op's name in the text IR, DOT and JSON.
    public var name: String {
        switch self {
        case .input: return "input"
        case .parameter: return "parameter"
        case .state: return "state"
        case .carried: return "carried"
        case .constant: return "constant"
        case let .random(d, _):
            switch d {
            case .normal: return "random_normal"
            case .uniform: return "random_uniform"
            }
        case let .unary(f): return f.name
        case let .binary(f): return f.rawValue
        case .matmul: return "matmul"
        case let .conv(a): return "conv\(a.spatialRank)d"
        case let .convInputGrad(a, _): return "conv\(a.spatialRank)d_input_grad"
        case let .convFilterGrad(a, _): return "conv\(a.spatialRank)d_filter_grad"
        case let .pool(p): return p.kind == .max ? "maxpool2d" : "avgpool2d"
        case let .poolGrad(p): return p.kind == .max ? "maxpool2d_grad" : "avgpool2d_grad"
        case let .reduce(f, _, _): return "reduce_\(f.rawValue)"
        case .softmax: return "softmax"
        case .logSoftmax: return "log_softmax"
        case .reshape: return "reshape"
        case .transpose: return "transpose"
        case .slice: return "slice"
        case .unslice: return "unslice"
        case .concat: return "concat"
        case .broadcast: return "broadcast"
        case .gather: return "gather"
        case .scatterAdd: return "scatter_add"
        case .oneHot: return "one_hot"
        }
    }

    /// The op's attributes, in fixed order.
    public var attributes: [(String, Attribute)] {
        switch self {
        case let .input(n), let .parameter(n), let .state(n), let .carried(n): return [("name", .string(n))]
        case let .constant(v): return [("value", .double(v))]
        case let .random(d, stream):
            switch d {
            case let .normal(m, s): return [("mean", .double(m)), ("std", .double(s)), ("stream", .int(stream))]
            case let .uniform(l, h): return [("low", .double(l)), ("high", .double(h)), ("stream", .int(stream))]
            }
        case let .unary(f):
            if case let .leakyRelu(s) = f { return [("slope", .double(s))] }
            return []
        case .binary, .gather: return []
        case let .matmul(a, b): return [("transpose_a", .bool(a)), ("transpose_b", .bool(b))]
        case let .conv(a): return Self.conv(a)
        case let .convInputGrad(a, size): return Self.conv(a) + [("input_size", .ints(size))]
        case let .convFilterGrad(a, size): return Self.conv(a) + [("kernel_size", .ints(size))]
        case let .pool(p), let .poolGrad(p): return [("kernel", .ints(p.kernel)), ("stride", .ints(p.stride)), ("padding", .ints(p.padding))]
        case let .reduce(_, axes, keep): return [("axes", .ints(axes)), ("keepdims", .bool(keep))]
        case let .softmax(a), let .logSoftmax(a), let .concat(a): return [("axis", .int(a))]
        case let .reshape(s), let .broadcast(s): return [("shape", .ints(s))]
        case let .transpose(p): return [("perm", .ints(p))]
        case let .slice(s): return [("start", .ints(s.start)), ("end", .ints(s.end)), ("step", .ints(s.step))]
        case let .unslice(s, shape): return [("start", .ints(s.start)), ("end", .ints(s.end)), ("step", .ints(s.step)), ("shape", .ints(shape))]
        case let .scatterAdd(rows): return [("rows", .int(rows))]
        case let .oneHot(depth): return [("depth", .int(depth))]
        }
    }

    private static func conv(_ a: ConvAttributes) -> [(String, Attribute)] {
        [("stride", .ints(a.stride)), ("pad_before", .ints(a.padBefore)), ("pad_after", .ints(a.padAfter))]
    }

    /// Rebuilds an op from its printed name and attributes (the text parser).
    public init(name: String, attributes a: [String: Attribute]) throws {
        func int(_ k: String) throws -> Int { if case let .int(v)? = a[k] { return v }; throw ShapeError("\(name) needs an integer '\(k)'") }
        func double(_ k: String) throws -> Double {
            if case let .double(v)? = a[k] { return v }
            if case let .int(v)? = a[k] { return Double(v) }
            throw ShapeError("\(name) needs a number '\(k)'")
        }
        func bool(_ k: String) throws -> Bool { if case let .bool(v)? = a[k] { return v }; throw ShapeError("\(name) needs a boolean '\(k)'") }
        func ints(_ k: String) throws -> [Int] { if case let .ints(v)? = a[k] { return v }; throw ShapeError("\(name) needs an integer list '\(k)'") }
        func string(_ k: String) throws -> String { if case let .string(v)? = a[k] { return v }; throw ShapeError("\(name) needs a string '\(k)'") }
        func conv() throws -> ConvAttributes { ConvAttributes(stride: try ints("stride"), padBefore: try ints("pad_before"), padAfter: try ints("pad_after")) }
        func pool(_ kind: PoolAttributes.Kind) throws -> PoolAttributes {
            PoolAttributes(kind: kind, kernel: try ints("kernel"), stride: try ints("stride"), padding: try ints("padding"))
        }
        if let f = UnaryFunction(name: name) {
            self = .unary(name == "leaky_relu" ? .leakyRelu(slope: try double("slope")) : f)
            return
        }
        if let f = BinaryFunction(rawValue: name) { self = .binary(f); return }
        if name.hasPrefix("reduce_"), let f = ReduceFunction(rawValue: String(name.dropFirst(7))) {
            self = .reduce(f, axes: try ints("axes"), keepDims: try bool("keepdims"))
            return
        }
        switch name {
        case "input": self = .input(try string("name"))
        case "parameter": self = .parameter(try string("name"))
        case "state": self = .state(try string("name"))
        case "carried": self = .carried(try string("name"))
        case "constant": self = .constant(try double("value"))
        case "random_normal": self = .random(.normal(mean: try double("mean"), std: try double("std")), stream: try int("stream"))
        case "random_uniform": self = .random(.uniform(low: try double("low"), high: try double("high")), stream: try int("stream"))
        case "matmul": self = .matmul(transposeA: try bool("transpose_a"), transposeB: try bool("transpose_b"))
        case "conv1d", "conv2d": self = .conv(try conv())
        case "conv1d_input_grad", "conv2d_input_grad": self = .convInputGrad(try conv(), inputSize: try ints("input_size"))
        case "conv1d_filter_grad", "conv2d_filter_grad": self = .convFilterGrad(try conv(), kernelSize: try ints("kernel_size"))
        case "maxpool2d": self = .pool(try pool(.max))
        case "avgpool2d": self = .pool(try pool(.average))
        case "maxpool2d_grad": self = .poolGrad(try pool(.max))
        case "avgpool2d_grad": self = .poolGrad(try pool(.average))
        case "softmax": self = .softmax(axis: try int("axis"))
        case "log_softmax": self = .logSoftmax(axis: try int("axis"))
        case "reshape": self = .reshape(try ints("shape"))
        case "transpose": self = .transpose(try ints("perm"))
        case "slice": self = .slice(SliceAttributes(start: try ints("start"), end: try ints("end"), step: try ints("step")))
        case "unslice": self = .unslice(SliceAttributes(start: try ints("start"), end: try ints("end"), step: try ints("step")), shape: try ints("shape"))
        case "concat": self = .concat(axis: try int("axis"))
        case "broadcast": self = .broadcast(try ints("shape"))
        case "gather": self = .gather
        case "scatter_add": self = .scatterAdd(rows: try int("rows"))
        case "one_hot": self = .oneHot(depth: try int("depth"))
        default: throw ShapeError("unknown op '\(name)'")
        }
        if case let .conv(c) = self, name != "conv\(c.spatialRank)d" { throw ShapeError("\(name) has \(c.spatialRank)-d attributes") }
    }
}

extension UnaryFunction {
    public static let all: [UnaryFunction] = [.negate, .exp, .log, .sqrt, .rsqrt, .abs, .tanh, .sigmoid, .relu, .softplus, .square, .reciprocal, .gelu, .geluDerivative, .leakyRelu(slope: 0.01)]

    public var name: String {
        switch self {
        case .negate: return "negate"
        case .exp: return "exp"
        case .log: return "log"
        case .sqrt: return "sqrt"
        case .rsqrt: return "rsqrt"
        case .abs: return "abs"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .relu: return "relu"
        case .softplus: return "softplus"
        case .square: return "square"
        case .reciprocal: return "reciprocal"
        case .gelu: return "gelu"
        case .geluDerivative: return "gelu_derivative"
        case .leakyRelu: return "leaky_relu"
        }
    }

    init?(name: String) {
        guard let f = UnaryFunction.all.first(where: { $0.name == name }) else { return nil }
        self = f
    }
}
