import GencSupport

/// The catalog of shape and type messages found while lowering.
public enum LowerDiagnostics {
    static func shape(_ message: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "shape", message: message, at: r)
    }
    static func dtype(_ message: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "dtype", message: message, at: r)
    }
    static func notScalar(_ objective: String, _ shape: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "objective-not-scalar",
                   message: "objective '\(objective)' must minimize a scalar, got a tensor of shape \(shape); reduce it with mean(...) or sum(...)", at: r)
    }
    static func signature(_ message: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "call-signature", message: message, at: r)
    }
    static func tooLarge(_ message: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "program-too-large", message: message, at: r)
    }
    static func index(_ message: String, _ r: SourceRange) -> Diagnostic {
        Diagnostic(id: "index", message: message, at: r)
    }
}
