import GencIR
import GencLower

/// The pipeline over a whole model: every program optimized by the same
/// passes; parameters and summaries unchanged.
public enum ModelOptimizer {
    public struct Result: Sendable {
        public var model: LoweredModel
        /// Per program, what each pass did.
        public var records: [String: [Pipeline.Record]]
    }

    public static func optimize(_ m: LoweredModel, pipeline: Pipeline = .standard, verify: Bool) throws -> Result {
        var out = m
        var records: [String: [Pipeline.Record]] = [:]
        for k in out.programs.indices {
            records[out.programs[k].name] = try pipeline.run(&out.programs[k].graph, verify: verify)
        }
        return Result(model: out, records: records)
    }
}
