import GencSupport

/// The JSON `genc check --json` prints, valid or not.
public enum CheckOutput {
    public static func json(_ r: FrontEnd.Result) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("file", r.file.map { .string($0.path) } ?? .null), ("valid", .bool(!r.hasErrors))]
        if let spec = r.spec, let lowered = r.lowered, !r.hasErrors, case let .object(report) = CheckReport(spec: spec, lowered: lowered, plans: r.plans).json {
            pairs.append(contentsOf: report)
        }
        pairs.append(("diagnostics", DiagnosticRenderer().json(r.diagnostics)))
        return .object(pairs)
    }
}

/// genc's version and build facts.
public enum GencVersion {
    public static let string = "genc 0.1.0 (model language v1)"
}
