/// A problem found while loading or running a plan (bad weights or inputs,
/// out-of-range token ids): a message for the user, never a trap.
public struct RuntimeError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
