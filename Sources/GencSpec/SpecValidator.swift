import GencSupport
import GencSyntax

/// Options that change what a model file means (from the command line).
public struct SpecOptions: Sendable {
    /// `--dim NAME=VALUE`, applied in order.
    public var dimOverrides: [(name: String, value: Int)]
    public init(dimOverrides: [(name: String, value: Int)] = []) {
        self.dimOverrides = dimOverrides
    }
}

/// Validates a YAML node tree against LANGUAGE.md v1 and builds the
/// `ModelSpec`.
///
/// Guarantees: every problem that needs no tensor shapes is reported, all in
/// one run, each at the YAML node at fault; a spec is returned only when
/// there are no errors. Sections are validated independently so that an error
/// in one does not hide errors in another; checks that depend on a broken
/// part are skipped rather than reported twice.
public struct SpecValidator {
    let file: SourceFile
    let options: SpecOptions
    var diagnostics = DiagnosticBag()

    // What earlier sections established, for later ones.
    var dims: [String: Int] = [:]
    var dimRanges: [String: SourceRange] = [:]
    var inputs: [String: InputSpec] = [:]
    /// Names declared but rejected, by kind of declaration (a bad name, a
    /// clash, a bad definition): the declaration's error is reported once,
    /// and a use of the name anywhere later is not reported again as an
    /// unknown name (one mistake, one error).
    var rejected: [DeclarationKind: Set<String>] = [:]
    /// Network names declared (even if their body had errors), for references.
    var networkNames: [String: SourceRange] = [:]
    var networks: [String: NetworkSpec] = [:]
    /// Each network's `in:` (when valid) and where it is written.
    var networkArguments: [String: [ArgumentSpec]] = [:]
    var networkInRanges: [String: SourceRange] = [:]
    /// Where each network first calls each other network.
    var networkCallSites: [String: [String: SourceRange]] = [:]
    /// Output names of each network with a valid `out:` (record or not).
    var networkOutputs: [String: (names: [String], isRecord: Bool, range: SourceRange?)] = [:]
    var objectiveNames: [String: SourceRange] = [:]

    public static func validate(_ root: YAMLNode, file: SourceFile, options: SpecOptions = SpecOptions()) -> (ModelSpec?, [Diagnostic]) {
        var v = SpecValidator(file: file, options: options)
        let spec = v.validateModel(root)
        let ds = v.diagnostics.sorted
        return (v.diagnostics.hasErrors ? nil : spec, ds)
    }

    mutating func report(_ d: Diagnostic) { diagnostics.append(d) }

    /// The declarations that later sections refer to by name.
    enum DeclarationKind: Hashable { case dim, input, network, objective }

    /// Registers a declared name whose declaration was rejected (and reported).
    mutating func reject(_ name: String, as kind: DeclarationKind) { rejected[kind, default: []].insert(name) }

    /// Whether `name` was declared as a `kind` and rejected.
    func isRejected(_ name: String, as kind: DeclarationKind) -> Bool { rejected[kind]?.contains(name) == true }

    static let topLevelKeys = ["genc", "name", "description", "dims", "inputs", "networks", "objectives", "train", "sample"]

    mutating func validateModel(_ root: YAMLNode) -> ModelSpec? {
        let start = file.range(at: SourceLocation(line: 1, column: 1))
        guard let top = mapping(root, "the model file", owner: root.range, allowed: Self.topLevelKeys,
                                required: ["genc", "name", "inputs", "networks"], ownerForMissing: start) else {
            return nil
        }
        var version = 1
        if let v = top["genc"] {
            let s = v.value.scalar
            if let s, s.style == .plain, NumberSyntax.parse(s.value) == .integer(1) {
                version = 1
            } else if let s, s.style == .plain, case .integer? = NumberSyntax.parse(s.value) {
                report(SpecDiagnostics.version(s.value, v.value.range))
            } else {
                report(SpecDiagnostics.wrongType("'genc' (the language version)", expected: "the integer 1", got: v.value.kindDescription, v.value.range))
            }
        }
        var name = Located("", start)
        if let n = top["name"], let s = string(n.value, "'name'") {
            name = Located(s, n.value.range)
            if !Self.isModelName(s) {
                report(SpecDiagnostics.badName("model name", s, pattern: "lowercase letters, digits, '_' and '-', starting with a letter", n.value.range))
            }
        }
        var description: String?
        if let d = top["description"] { description = string(d.value, "'description'") }

        let dimSpecs = top["dims"].map { validateDims($0.value) } ?? applyOverrides([])
        let inputList = top["inputs"].map { validateInputs($0.value) } ?? []
        let networkList = top["networks"].map { validateNetworks($0.value) } ?? []
        let objectiveList = top["objectives"].map { validateObjectives($0.value) } ?? []
        let train = top["train"].map { validateTrain($0.value, key: $0.key.range, objectives: objectiveList) }
        let sample = top["sample"].map { validateSample($0.value, key: $0.key.range) }
        return ModelSpec(file: file, version: version, name: name, description: description, dims: dimSpecs,
                         inputs: inputList, networks: networkList, objectives: objectiveList,
                         train: train ?? nil, sample: sample ?? nil)
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || ("a"..."z").contains(f) || ("A"..."Z").contains(f) else {
            return false
        }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }

    static func isModelName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, ("a"..."z").contains(f) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }
}
