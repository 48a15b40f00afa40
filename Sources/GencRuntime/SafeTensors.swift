// Reading and writing safetensors files (https://github.com/huggingface/safetensors):
//
//     8 bytes   little-endian UInt64 N, the header's length
//     N bytes   UTF-8 JSON object: name -> {"dtype", "shape", "data_offsets": [begin, end]},
//               plus an optional "__metadata__": {string: string}; may end in spaces
//     the rest  the data section; offsets are relative to its start
//
// genc reads and writes F32 and I32 tensors only. Malformed input of any kind
// is a `SafeTensorsError` naming the problem, never a trap, a hang or an
// allocation larger than the input itself.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem reading or writing a safetensors file.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// An in-memory safetensors file: named tensors plus string metadata.
public struct SafeTensors: Sendable {
    /// Headers larger than this are refused, as the reference implementation does.
    public static let maxHeaderBytes = 100_000_000

    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32"
        case i32 = "I32"

        /// Bytes per element.
        public var size: Int { 4 }
    }

    /// One tensor: dtype, shape (row-major) and its raw little-endian bytes.
    public struct Tensor: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        /// A tensor from raw little-endian bytes; consistency of `bytes` with
        /// `shape` is checked when it is written.
        public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        public init(f32 values: [Float], shape: [Int]) {
            precondition(shape.allSatisfy { $0 >= 0 }, "SafeTensors.Tensor: negative extent in shape \(shape)")
            precondition(values.count == shape.reduce(1, *),
                         "SafeTensors.Tensor: \(values.count) values for shape \(shape)")
            self.init(dtype: .f32, shape: shape, bytes: littleEndianBytes(values.map(\.bitPattern)))
        }

        public init(i32 values: [Int32], shape: [Int]) {
            precondition(shape.allSatisfy { $0 >= 0 }, "SafeTensors.Tensor: negative extent in shape \(shape)")
            precondition(values.count == shape.reduce(1, *),
                         "SafeTensors.Tensor: \(values.count) values for shape \(shape)")
            self.init(dtype: .i32, shape: shape, bytes: littleEndianBytes(values.map { UInt32(bitPattern: $0) }))
        }

        /// The values of an F32 tensor (nil for other dtypes).
        public var floats: [Float]? {
            dtype == .f32 ? words(bytes).map { Float(bitPattern: $0) } : nil
        }

        /// The values of an I32 tensor (nil for other dtypes).
        public var ints: [Int32]? {
            dtype == .i32 ? words(bytes).map { Int32(bitPattern: $0) } : nil
        }

        /// The product of the shape's extents (1 for a scalar, shape `[]`).
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The tensors, in header order when read. `encode` and `write` sort them
    /// by name (UTF-8 byte order), so the same content gives the same file.
    public var tensors: [(name: String, tensor: Tensor)]
    /// The `__metadata__` entry (omitted from the file when empty).
    public var metadata: [String: String]

    public init(tensors: [(String, Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors.map { (name: $0.0, tensor: $0.1) }
        self.metadata = metadata
    }

    /// The tensor with exactly this name (compared byte for byte, not by
    /// Unicode canonical equivalence), or nil.
    public subscript(name: String) -> Tensor? {
        tensors.first { $0.name.utf8.elementsEqual(name.utf8) }?.tensor
    }

}
