/// An element type.
public enum DType: String, Sendable, Hashable, CaseIterable {
    case f32, i32
    public var byteSize: Int { 4 }
}

/// A static tensor type: element type and shape. Rank 0 is a scalar.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: [Int]

    public init(_ dtype: DType, _ shape: [Int]) {
        self.dtype = dtype
        self.shape = shape
    }
    public static func f32(_ shape: [Int]) -> TensorType { TensorType(.f32, shape) }
    public static func i32(_ shape: [Int]) -> TensorType { TensorType(.i32, shape) }

    public var rank: Int { shape.count }
    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.byteSize }
    /// `f32[64, 784]`, `f32[]`.
    public var description: String { "\(dtype.rawValue)[\(shape.map(String.init).joined(separator: ", "))]" }
    /// `[64, 784]`.
    public var shapeDescription: String { "[\(shape.map(String.init).joined(separator: ", "))]" }
}

/// An SSA value: the result of the node with this index.
public struct Value: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let id: Int
    public init(_ id: Int) { self.id = id }
    public static func < (a: Value, b: Value) -> Bool { a.id < b.id }
    public var description: String { "%\(id)" }
}

/// Where in the model file an op came from (the IR does not know YAML:
/// this is a path and a position, printed as `loc("m.yaml":23:9)`).
public struct IRLocation: Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var column: Int
    public init(path: String, line: Int, column: Int) {
        self.path = path
        self.line = line
        self.column = column
    }
    public var description: String { "loc(\(IRText.quote(path)):\(line):\(column))" }
}

/// A shape or type rule was violated; lowering turns this into a diagnostic
/// at the YAML node at fault.
public struct ShapeError: Error, Sendable, Equatable {
    public var message: String
    /// The operand whose shape is at fault, when one is (for a note at its producer).
    public var operand: Int?
    public init(_ message: String, operand: Int? = nil) {
        self.message = message
        self.operand = operand
    }
}
