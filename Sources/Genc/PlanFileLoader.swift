import Foundation
import GencPlan
import GencSpec
import GencSupport

/// Plan files (`genc compile -o OUT.gencplan`) to and from compiled models.
///
/// A plan file holds every program's plan and the model's YAML as it was
/// compiled (with the `--dim` overrides used). Loading one runs no pass and
/// no planner: the plans are decoded, checked field by field and verified
/// (`PlanVerifier`), and the YAML is validated again only for the sections
/// the runtime reads (data, training, sampling).
public enum PlanFileLoader {
    /// The first bytes of every plan file: the magic and the space before its format number.
    public static let magic = Array((PlanFile.magic + " ").utf8)

    /// Whether the file at `path` starts like a plan file (a YAML model never does).
    public static func isPlanFile(path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: magic.count)) ?? Data()
        return Array(head) == magic
    }

    /// The plan file of a model compiled by the front end from `file` with `dims`.
    public static func planFile(_ compiled: CompiledModel, source file: SourceFile, dims: [(String, Int)]) -> PlanFile {
        PlanFile(compiler: GencVersion.string, model: compiled.spec.name.value,
                 metadata: ["dims": dims.map { "\($0.0)=\($0.1)" }.joined(separator: ",")],
                 source: String(String.UnicodeScalarView(file.scalars)), sourcePath: file.path,
                 plans: compiled.programNames.compactMap { compiled.plans[$0] })
    }

    public struct Loaded {
        public var compiled: CompiledModel?
        public var diagnostics: [Diagnostic]
    }

    /// Reads, checks and verifies the plan file at `path`.
    public static func load(path: String) -> Loaded {
        func failure(_ m: String) -> Loaded {
            Loaded(compiled: nil, diagnostics: [Diagnostic(id: "plan-file", message: m, at: nil, path: path)])
        }
        guard let data = FileManager.default.contents(atPath: path) else { return failure("cannot read plan file '\(path)'") }
        return load(bytes: Array(data), path: path)
    }

    /// Checks and verifies the bytes of a plan file read from `path` (named in messages).
    public static func load(bytes: [UInt8], path: String) -> Loaded {
        func failure(_ m: String) -> Loaded {
            Loaded(compiled: nil, diagnostics: [Diagnostic(id: "plan-file", message: m, at: nil, path: path)])
        }
        let file: PlanFile
        do { file = try PlanFile.decode(bytes) } catch { return failure("\(path): \(error)") }
        // The model's own YAML, validated again under the overrides it was compiled with.
        var dims: [(String, Int)] = []
        for d in (file.metadata["dims"] ?? "").split(separator: ",") {
            guard let o = FrontEnd.parseDimOverride(String(d)) else { return failure("\(path): corrupt plan file (dims '\(d)')") }
            dims.append(o)
        }
        let source = SourceFile(path: file.sourcePath, text: file.source)
        let (spec, problems) = FrontEnd.spec(file: source, options: SpecOptions(dimOverrides: dims))
        guard let spec, !problems.contains(where: { $0.severity == .error }) else {
            return Loaded(compiled: nil, diagnostics: problems + [Diagnostic(id: "plan-file", message: "the model stored in plan file '\(path)' no longer validates; recompile it", at: nil, path: path)])
        }
        var plans: [String: Plan] = [:]
        for p in file.plans {
            // Plans are named MODEL.MODE.NAME; programs are keyed MODE.NAME.
            let key = p.name.hasPrefix(file.model + ".") ? String(p.name.dropFirst(file.model.count + 1)) : p.name
            guard plans[key] == nil else { return failure("\(path): corrupt plan file (program '\(key)' twice)") }
            plans[key] = p
        }
        guard spec.name.value == file.model else { return failure("\(path): corrupt plan file (model '\(file.model)' holds the YAML of '\(spec.name.value)')") }
        return Loaded(compiled: CompiledModel(spec: spec, plans: plans), diagnostics: problems)
    }
}
