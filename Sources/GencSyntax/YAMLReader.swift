import CYAML
import GencSupport

/// Reads one YAML document into a `YAMLNode` tree through libyaml's event API.
///
/// Guarantees: every node carries its source range; the reader never
/// recurses (an explicit stack), so nesting depth is bounded by `limits`, not
/// by the thread's stack; alias expansion is budgeted; and every problem is a
/// diagnostic, never a trap. The first problem stops the read (a YAML
/// syntax error leaves no trustworthy tree to validate).
public struct YAMLReader {
    public struct Limits: Sendable {
        /// Collections nested deeper than this are refused.
        public var maxDepth = 64
        /// The document may expand (aliases included) to at most this many nodes.
        public var maxNodes = 100_000
        public init() {}
    }

    public var limits = Limits()
    public init() {}

    /// Reads the single document of `file`: the tree (nil when the file is
    /// not readable YAML) and every problem found. Duplicate keys and tags
    /// are reported and the read goes on; a syntax error ends it.
    public func read(_ file: SourceFile) -> (YAMLNode?, [Diagnostic]) {
        var builder = TreeBuilder(file: file, limits: limits)
        switch readEvents(file, &builder) {
        case let .success(root): return (root, builder.problems)
        case let .failure(d): return (nil, builder.problems + [d])
        }
    }

    /// Whether YAML allows the character in a document (YAML 1.1's
    /// printable set, which libyaml enforces).
    static func isAllowed(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09, 0x0A, 0x0D, 0x20...0x7E, 0x85, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    private func readEvents(_ file: SourceFile, _ builder: inout TreeBuilder) -> Result<YAMLNode, Diagnostic> {
        // libyaml rejects control characters when it fills its buffer and
        // reports them at the buffer's start; find the first one ourselves so
        // the error points at it.
        if let i = file.scalars.firstIndex(where: { !Self.isAllowed($0) }) {
            return .failure(SyntaxDiagnostics.controlCharacter(file.scalars[i], file.range(fromIndex: i, toIndex: i + 1)))
        }
        var bytes = Array(String(String.UnicodeScalarView(file.scalars)).utf8)
        if bytes.isEmpty { bytes = [0x0A] }
        return bytes.withUnsafeBufferPointer { buf -> Result<YAMLNode, Diagnostic> in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                return .failure(SyntaxDiagnostics.internalLibyaml(file))
            }
            defer { yaml_parser_delete(&parser) }
            guard let base = buf.baseAddress else { return .failure(SyntaxDiagnostics.emptyFile(file)) }
            yaml_parser_set_input_string(&parser, base, buf.count)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    return .failure(syntaxError(parser, file))
                }
                defer { yaml_event_delete(&event) }
                if let outcome = builder.consume(event) { return outcome }
            }
        }
    }

    /// libyaml's error, at the problem mark, with the context mark as a note
    /// (libyaml often puts the problem at the end of the input and the real
    /// cause at the context), and a note on what usually causes it.
    private func syntaxError(_ p: yaml_parser_t, _ file: SourceFile) -> Diagnostic {
        let problem = p.problem.map { String(cString: $0) } ?? "invalid YAML"
        let at = Self.location(p.problem_mark, file)
        let idx = file.index(line: at.line, column: at.column)
        if idx < file.scalars.count, file.scalars[idx] == "\t" {
            return SyntaxDiagnostics.tabIndentation(file.range(at: at))
        }
        var d = SyntaxDiagnostics.yamlSyntax(problem, file.range(at: at))
        var context: SourceLocation?
        if let c = p.context {
            let ctx = Self.location(p.context_mark, file)
            context = ctx
            d = d.note(String(cString: c), at: file.range(at: ctx))
        }
        d.notes += YAMLSyntaxHints.notes(problem: problem, at: at, context: context, file: file)
        return d
    }

    /// libyaml marks are 0-based and count code points.
    static func location(_ m: yaml_mark_t, _ file: SourceFile) -> SourceLocation {
        SourceLocation(line: Int(m.line) + 1, column: Int(m.column) + 1)
    }
}

/// Turns the event stream into a tree with an explicit stack.
private struct TreeBuilder {
    let file: SourceFile
    let limits: YAMLReader.Limits

    /// A collection being built.
    struct Frame {
        var isMapping: Bool
        var isFlow: Bool
        var start: yaml_mark_t
        var anchor: String?
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        /// Collection levels in the deepest child so far (a scalar has 0).
        var childHeight = 0
        /// Nodes in this collection so far, itself and its keys included.
        var count = 1
        var pendingKey: YAMLScalarNode?
        /// Set after a duplicate key: its value is read and dropped.
        var dropNextValue = false
        var keysSeen: [String: SourceRange] = [:]
    }

    var stack: [Frame] = []
    /// Each anchored node with its node count and its height (collection
    /// levels, 0 for a scalar), so an alias is charged and depth-checked
    /// without walking the node again.
    var anchors: [String: (node: YAMLNode, count: Int, height: Int)] = [:]
    var nodeBudget = 0
    var documents = 0
    var root: YAMLNode?
    /// Problems that do not stop the read.
    var problems: [Diagnostic] = []

    init(file: SourceFile, limits: YAMLReader.Limits) {
        self.file = file
        self.limits = limits
    }

    func range(_ a: yaml_mark_t, _ b: yaml_mark_t) -> SourceRange {
        SourceRange(file: file, start: YAMLReader.location(a, file), end: YAMLReader.location(b, file))
    }

    func index(_ m: yaml_mark_t) -> Int { file.index(line: Int(m.line) + 1, column: Int(m.column) + 1) }

    /// Handles one event; returns the outcome once the read is over.
    mutating func consume(_ e: yaml_event_t) -> Result<YAMLNode, Diagnostic>? {
        switch e.type {
        case YAML_STREAM_START_EVENT, YAML_NO_EVENT:
            return nil
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                return .failure(SyntaxDiagnostics.secondDocument(range(e.start_mark, e.end_mark)))
            }
            return nil
        case YAML_DOCUMENT_END_EVENT:
            return nil
        case YAML_STREAM_END_EVENT:
            guard let root else { return .failure(SyntaxDiagnostics.emptyFile(file)) }
            return .success(root)
        case YAML_SCALAR_EVENT:
            let s = e.data.scalar
            if let d = checkTag(s.tag, e) { problems.append(d) }
            let value = s.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self) } ?? ""
            let style: YAMLScalar.Style
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let scalar = YAMLScalar(value: value, style: style, sourceStart: index(e.start_mark), sourceEnd: index(e.end_mark))
            let node = YAMLNode(kind: .scalar(scalar), range: range(e.start_mark, e.end_mark))
            return add(node, anchor: s.anchor, height: 0, count: 1)
        case YAML_ALIAS_EVENT:
            let name = e.data.alias.anchor.map { String(cString: $0) } ?? ""
            let r = range(e.start_mark, e.end_mark)
            guard let anchored = anchors[name] else {
                return .failure(SyntaxDiagnostics.undefinedAlias(name, r))
            }
            // The nesting limit holds for the expanded tree: an alias of a
            // deep node inside deep collections (chained through anchors)
            // would otherwise build trees far deeper than the reader allows.
            if stack.count + anchored.height > limits.maxDepth {
                return .failure(SyntaxDiagnostics.aliasTooDeep(name, limit: limits.maxDepth, r))
            }
            nodeBudget += anchored.count - 1
            if nodeBudget > limits.maxNodes {
                return .failure(SyntaxDiagnostics.tooManyNodes(limits.maxNodes, r))
            }
            var node = anchored.node
            node.range = r
            return add(node, anchor: nil, height: anchored.height, count: anchored.count)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            let isMapping = e.type == YAML_MAPPING_START_EVENT
            let tag = isMapping ? e.data.mapping_start.tag : e.data.sequence_start.tag
            let anchor = isMapping ? e.data.mapping_start.anchor : e.data.sequence_start.anchor
            let isFlow = isMapping ? e.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                : e.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
            if let d = checkTag(tag, e) { problems.append(d) }
            if stack.count >= limits.maxDepth {
                return .failure(SyntaxDiagnostics.tooDeep(limits.maxDepth, range(e.start_mark, e.end_mark)))
            }
            if let top = stack.last, top.isMapping, top.pendingKey == nil, !top.dropNextValue {
                return .failure(SyntaxDiagnostics.complexKey(range(e.start_mark, e.end_mark)))
            }
            stack.append(Frame(isMapping: isMapping, isFlow: isFlow, start: e.start_mark,
                               anchor: anchor.map { String(cString: $0) }))
            return nil
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let f = stack.popLast() else { return nil }
            let r = range(f.start, e.end_mark)
            let node = YAMLNode(kind: f.isMapping ? .mapping(f.pairs) : .sequence(f.items), range: r, isFlow: f.isFlow)
            let height = f.childHeight + 1
            if let a = f.anchor { anchors[a] = (node, f.count, height) }
            return add(node, anchor: nil, height: height, count: f.count)
        default:
            return nil
        }
    }

    /// Tags are not part of the language; the message quotes the tag as
    /// written (`!!str`), not as libyaml expands it.
    func checkTag(_ tag: UnsafeMutablePointer<yaml_char_t>?, _ e: yaml_event_t) -> Diagnostic? {
        guard let tag else { return nil }
        var i = index(e.start_mark)
        var written = String.UnicodeScalarView()
        if i < file.scalars.count, file.scalars[i] == "!" {
            while i < file.scalars.count, !" \t\n\r,[]{}".unicodeScalars.contains(file.scalars[i]) {
                written.append(file.scalars[i])
                i += 1
            }
        }
        return SyntaxDiagnostics.tag(written.isEmpty ? String(cString: tag) : String(written), range(e.start_mark, e.end_mark))
    }

    /// Places a finished node into its parent (or makes it the root).
    /// `height` is its collection levels, `count` its nodes (as `nodeCount`).
    mutating func add(_ node: YAMLNode, anchor: UnsafeMutablePointer<yaml_char_t>?, height: Int, count: Int) -> Result<YAMLNode, Diagnostic>? {
        nodeBudget += 1
        if nodeBudget > limits.maxNodes {
            return .failure(SyntaxDiagnostics.tooManyNodes(limits.maxNodes, node.range))
        }
        if let anchor { anchors[String(cString: anchor)] = (node, count, height) }
        guard var top = stack.popLast() else {
            root = node
            return nil
        }
        defer { stack.append(top) }
        if !top.isMapping {
            top.items.append(node)
            top.childHeight = max(top.childHeight, height)
            top.count += count
            return nil
        }
        if top.dropNextValue {
            top.dropNextValue = false
            return nil
        }
        if let key = top.pendingKey {
            top.pairs.append(YAMLPair(key: key, value: node))
            top.pendingKey = nil
            top.childHeight = max(top.childHeight, height)
            top.count += 1 + count
            return nil
        }
        guard case let .scalar(s) = node.kind else {
            return .failure(SyntaxDiagnostics.complexKey(node.range))
        }
        if s.style == .plain, s.isNull {
            return .failure(SyntaxDiagnostics.nullKey(node.range))
        }
        if let first = top.keysSeen[s.value] {
            problems.append(SyntaxDiagnostics.duplicateKey(s.value, node.range, first: first))
            top.dropNextValue = true
            return nil
        }
        top.keysSeen[s.value] = node.range
        top.pendingKey = YAMLScalarNode(scalar: s, range: node.range)
        return nil
    }
}
