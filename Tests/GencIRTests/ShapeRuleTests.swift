@testable import GencIR
import XCTest

/// Each op's shape rule: what it accepts, what it gives, what it refuses.
final class ShapeRuleTests: XCTestCase {
    func type(_ op: Op, _ ts: [TensorType]) throws -> TensorType { try op.resultType(ts) }
    func refuses(_ op: Op, _ ts: [TensorType], _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try op.resultType(ts), file: file, line: line) { e in
            XCTAssertTrue((e as? ShapeError)?.message.contains(text) == true, "\(e)", file: file, line: line)
        }
    }

    func testMatmulWithTransposes() throws {
        XCTAssertEqual(try type(.matmul(transposeA: false, transposeB: false), [.f32([64, 784]), .f32([784, 512])]), .f32([64, 512]))
        XCTAssertEqual(try type(.matmul(transposeA: true, transposeB: false), [.f32([784, 64]), .f32([784, 512])]), .f32([64, 512]))
        XCTAssertEqual(try type(.matmul(transposeA: false, transposeB: true), [.f32([64, 784]), .f32([512, 784])]), .f32([64, 512]))
        refuses(.matmul(transposeA: false, transposeB: false), [.f32([64, 784]), .f32([512, 784])], "inner sizes differ")
        refuses(.matmul(transposeA: false, transposeB: false), [.f32([2, 3, 4]), .f32([4, 5])], "2-d")
        refuses(.matmul(transposeA: false, transposeB: false), [.i32([2, 3]), .f32([3, 5])], "f32")
    }

    func testConvolutionsFollowPyTorchSizes() throws {
        let s2 = ConvAttributes(stride: [2, 2], padBefore: [1, 1], padAfter: [1, 1])
        XCTAssertEqual(try type(.conv(s2), [.f32([64, 1, 28, 28]), .f32([64, 1, 4, 4])]), .f32([64, 64, 14, 14]))
        // conv_transpose 7 → 14 is the input gradient of the conv 14 → 7.
        XCTAssertEqual(try type(.convInputGrad(s2, inputSize: [14, 14]), [.f32([64, 128, 7, 7]), .f32([128, 64, 4, 4])]), .f32([64, 64, 14, 14]))
        XCTAssertEqual(try type(.convFilterGrad(s2, kernelSize: [4, 4]), [.f32([64, 64, 14, 14]), .f32([64, 128, 7, 7])]), .f32([128, 64, 4, 4]))
        let c1 = ConvAttributes(stride: [1], padBefore: [2], padAfter: [2])
        XCTAssertEqual(try type(.conv(c1), [.f32([8, 3, 100]), .f32([16, 3, 5])]), .f32([8, 16, 100]))
        let asym = ConvAttributes(stride: [1, 1], padBefore: [1, 1], padAfter: [2, 2])  // 'same' with an even kernel
        XCTAssertEqual(try type(.conv(asym), [.f32([1, 1, 9, 9]), .f32([1, 1, 4, 4])]), .f32([1, 1, 9, 9]))
        refuses(.conv(s2), [.f32([64, 6272]), .f32([64, 1, 4, 4])], "expects 4-d input")
        refuses(.conv(s2), [.f32([64, 3, 28, 28]), .f32([64, 1, 4, 4])], "3 channels")
        refuses(.conv(ConvAttributes(stride: [1, 1], padBefore: [0, 0], padAfter: [0, 0])), [.f32([1, 1, 3, 3]), .f32([1, 1, 5, 5])], "kernel is larger")
        XCTAssertEqual(try type(.convInputGrad(s2, inputSize: [15, 15]), [.f32([64, 128, 7, 7]), .f32([128, 64, 4, 4])]), .f32([64, 64, 15, 15]), "output_padding 1")
        refuses(.convInputGrad(s2, inputSize: [17, 17]), [.f32([64, 128, 7, 7]), .f32([128, 64, 4, 4])], "gives [8, 8]")
    }

    func testPoolingAndItsGradient() throws {
        let p = PoolAttributes(kind: .max, kernel: [2, 2], stride: [2, 2], padding: [0, 0])
        XCTAssertEqual(try type(.pool(p), [.f32([8, 3, 28, 28])]), .f32([8, 3, 14, 14]))
        XCTAssertEqual(try type(.poolGrad(p), [.f32([8, 3, 28, 28]), .f32([8, 3, 14, 14])]), .f32([8, 3, 28, 28]))
        refuses(.poolGrad(p), [.f32([8, 3, 28, 28]), .f32([8, 3, 13, 14])], "does not match")
        refuses(.pool(p), [.f32([8, 28, 28])], "4-d")
    }

    func testBroadcastingOfEveryRank() throws {
        XCTAssertEqual(try Op.broadcastShapes([64, 1], []), [64, 1])
        XCTAssertEqual(try Op.broadcastShapes([64, 128, 7, 7], [128, 1, 1]), [64, 128, 7, 7])
        XCTAssertEqual(try Op.broadcastShapes([1, 3, 1], [4, 1, 5]), [4, 3, 5])
        XCTAssertEqual(try type(.binary(.add), [.f32([5]), .f32([2, 1])]), .f32([2, 5]))
        refuses(.binary(.add), [.f32([4, 3]), .f32([4, 5])], "do not broadcast")
        refuses(.binary(.multiply), [.i32([4]), .f32([4])], "needs f32")
        XCTAssertEqual(try type(.broadcast([2, 3, 4]), [.f32([3, 1])]), .f32([2, 3, 4]))
        refuses(.broadcast([2, 3]), [.f32([3, 2])], "cannot broadcast")
    }

    func testReductionsAndNormalisers() throws {
        XCTAssertEqual(try type(.reduce(.sum, axes: [0, 2, 3], keepDims: true), [.f32([8, 3, 4, 4])]), .f32([1, 3, 1, 1]))
        XCTAssertEqual(try type(.reduce(.mean, axes: [1], keepDims: false), [.f32([8, 3])]), .f32([8]))
        XCTAssertEqual(try type(.reduce(.max, axes: [-1], keepDims: false), [.f32([8, 3])]), .f32([8]))
        refuses(.reduce(.sum, axes: [2], keepDims: false), [.f32([8, 3])], "out of range")
        refuses(.reduce(.sum, axes: [1, -1], keepDims: false), [.f32([8, 3])], "repeat")
        XCTAssertEqual(try type(.logSoftmax(axis: 2), [.f32([2, 3, 98])]), .f32([2, 3, 98]))
    }

    func testDataMovement() throws {
        XCTAssertEqual(try type(.reshape([64, 128, 7, 7]), [.f32([64, 6272])]), .f32([64, 128, 7, 7]))
        refuses(.reshape([64, 100]), [.f32([64, 6272])], "cannot reshape")
        XCTAssertEqual(try type(.transpose([1, 0, 2]), [.i32([2, 3, 4])]), .i32([3, 2, 4]))
        refuses(.transpose([0, 0]), [.f32([2, 2])], "permutation")
        XCTAssertEqual(try type(.slice(SliceAttributes(start: [0, 1], end: [32, 65], step: [1, 1])), [.i32([32, 65])]), .i32([32, 64]))
        XCTAssertEqual(try type(.slice(SliceAttributes(start: [0], end: [10], step: [3])), [.f32([10])]), .f32([4]))
        refuses(.slice(SliceAttributes(start: [5], end: [5], step: [1])), [.f32([10])], "empty")
        XCTAssertEqual(try type(.concat(axis: 1), [.f32([4, 1, 8]), .f32([4, 3, 8]), .f32([4, 2, 8])]), .f32([4, 6, 8]))
        refuses(.concat(axis: 1), [.f32([4, 1, 8]), .f32([4, 3, 9])], "equal sizes")
    }

    func testIndexing() throws {
        XCTAssertEqual(try type(.gather, [.f32([98, 64]), .i32([32, 64])]), .f32([32, 64, 64]))
        refuses(.gather, [.f32([98, 64]), .f32([32, 64])], "i32")
        XCTAssertEqual(try type(.scatterAdd(rows: 98), [.f32([32, 64, 16]), .i32([32, 64])]), .f32([98, 16]))
        refuses(.scatterAdd(rows: 98), [.f32([32, 16]), .i32([32, 64])], "do not start")
        XCTAssertEqual(try type(.oneHot(depth: 98), [.i32([32, 64])]), .f32([32, 64, 98]))
    }

    func testLeavesTakeTheirDeclaredType() throws {
        XCTAssertEqual(try Op.parameter("w").resultType([], given: .f32([3, 4])), .f32([3, 4]))
        XCTAssertThrowsError(try Op.constant(1).resultType([], given: .i32([])))
        XCTAssertThrowsError(try Op.input("x").resultType([]))
    }

    func testEveryOpHasAFusionKindAndANameThatParsesBack() throws {
        for op in SampleOps.all {
            XCTAssertEqual(try Op(name: op.name, attributes: Dictionary(uniqueKeysWithValues: op.attributes)), op, op.name)
        }
        XCTAssertEqual(Op.matmul(transposeA: false, transposeB: false).fusionKind, .outElementwiseFusable)
        XCTAssertEqual(Op.gather.fusionKind, .opaque)
        XCTAssertEqual(Op.random(.normal(mean: 0, std: 1), stream: 0).fusionKind, .elementwise)
        XCTAssertEqual(Op.binary(.add).fusionKind, .broadcast)
        XCTAssertEqual(Op.unary(.exp).fusionKind, .elementwise)
        XCTAssertEqual(Op.reduce(.sum, axes: [0], keepDims: false).fusionKind, .reduction)
        XCTAssertEqual(Op.reshape([1]).fusionKind, .injective)
    }
}

/// One instance of every op (each case, each unary and binary function).
enum SampleOps {
    static let conv2 = ConvAttributes(stride: [2, 2], padBefore: [1, 1], padAfter: [1, 1])
    static let pool = PoolAttributes(kind: .max, kernel: [2, 2], stride: [2, 2], padding: [0, 0])
    static var all: [Op] {
        var ops: [Op] = [
            .input("x"), .parameter("g.dense0.weight"), .state("g.batchnorm0.running_mean"), .constant(0.5),
            .random(.normal(mean: 0, std: 1), stream: 1), .random(.uniform(low: -1, high: 1), stream: 2),
            .matmul(transposeA: true, transposeB: false), .conv(conv2), .conv(ConvAttributes(stride: [1], padBefore: [0], padAfter: [1])),
            .convInputGrad(conv2, inputSize: [14, 14]), .convFilterGrad(conv2, kernelSize: [4, 4]),
            .pool(pool), .poolGrad(PoolAttributes(kind: .average, kernel: [3, 3], stride: [1, 1], padding: [1, 1])),
            .reduce(.sum, axes: [0, 1], keepDims: true), .reduce(.mean, axes: [1], keepDims: false), .reduce(.max, axes: [2], keepDims: false),
            .softmax(axis: 1), .logSoftmax(axis: 2), .reshape([2, 3]), .transpose([1, 0]),
            .slice(SliceAttributes(start: [0, 1], end: [4, 5], step: [1, 2])), .concat(axis: 1), .broadcast([4, 5]),
            .gather, .scatterAdd(rows: 98), .oneHot(depth: 98),
        ]
        ops += UnaryFunction.all.map { .unary($0) } + BinaryFunction.allCases.map { .binary($0) }
        return ops
    }
}
