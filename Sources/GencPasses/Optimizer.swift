import GencIR
import GencLower

/// The pipeline over a whole model: every program optimized by the same
/// passes, then the training programs of one step share what they compute
/// alike (`ScheduleSharing`); parameters and summaries unchanged.
public enum ModelOptimizer {
    public struct Result: Sendable {
        public var model: LoweredModel
        /// Per program, what each pass did.
        public var records: [String: [Pipeline.Record]]
        /// What each training program reads from the one before it.
        public var shares: [ScheduleSharing.Share]
    }

    /// `schedule`: the training schedule's objectives in order (empty: no
    /// training step, nothing shared).
    public static func optimize(_ m: LoweredModel, pipeline: Pipeline = .standard, schedule: [String] = [], verify: Bool) throws -> Result {
        var out = m
        var records: [String: [Pipeline.Record]] = [:]
        for k in out.programs.indices {
            records[out.programs[k].name] = try pipeline.run(&out.programs[k].graph, verify: verify)
        }
        let shares = try ScheduleSharing.run(&out, schedule: schedule)
        for s in shares {
            records[s.consumer, default: []].append(Pipeline.Record(pass: ScheduleSharing.name, changed: true,
                                                                  nodesBefore: s.consumerNodesBefore, nodesAfter: s.consumerNodesAfter))
        }
        return Result(model: out, records: records, shares: shares)
    }
}
