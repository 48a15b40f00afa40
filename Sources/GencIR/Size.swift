/// Size arithmetic on user-controlled numbers: every sum, difference and
/// product is checked, so no shape rule or lowering step can trap on
/// overflow. A failure is a `ShapeError`, which lowering reports at the
/// YAML node that gave the numbers.
public enum Size {
    /// The most elements one tensor may have (LANGUAGE.md §14): 2^40, so
    /// that byte counts and sums of a few tensors stay far from `Int.max`.
    public static let maxElements = 1 << 40

    public static func add(_ a: Int, _ b: Int) throws -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        if o { throw overflow("\(a) + \(b)") }
        return r
    }

    public static func subtract(_ a: Int, _ b: Int) throws -> Int {
        let (r, o) = a.subtractingReportingOverflow(b)
        if o { throw overflow("\(a) - \(b)") }
        return r
    }

    public static func multiply(_ a: Int, _ b: Int) throws -> Int {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        if o { throw overflow("\(a) × \(b)") }
        return r
    }

    /// The sum of all, checked.
    public static func sum(_ xs: [Int]) throws -> Int { try xs.reduce(0) { try add($0, $1) } }

    /// The product of all, checked.
    public static func product(_ xs: [Int]) throws -> Int { try xs.reduce(1) { try multiply($0, $1) } }

    /// The element count of a shape, or an error when it overflows or
    /// passes `maxElements`.
    public static func elements(_ shape: [Int]) throws -> Int {
        var n = 1
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o || p > maxElements {
                throw ShapeError("a tensor of shape \(TensorType.f32(shape).shapeDescription) would have more than 2^40 elements (the limit)")
            }
            n = p
        }
        return n
    }

    static func overflow(_ what: String) -> ShapeError {
        ShapeError("size arithmetic overflows: \(what) does not fit a 64-bit integer")
    }
}
