import GencPlan

/// What `genc run` was asked to do, beyond what the model file says.
public struct RunOptions: Sendable {
    /// Training ends at this global step (counting steps done before a
    /// resume); nil: the model's `epochs:` or `steps:`.
    public var steps: Int?
    /// Training ends after this many epochs of the data; nil: the model's.
    public var epochs: Int?
    /// nil: the model's `train.seed`.
    public var seed: UInt64?
    public var threads: Int = 1
    /// Where the run's files go (`runs/<model>/` by default, chosen by the caller).
    public var outDirectory: String
    /// The checkpoint file; nil: `checkpoint.safetensors` in `outDirectory`.
    public var checkpoint: String?
    /// Write the checkpoint every this many steps (nil: only at the end and on Ctrl-C).
    public var checkpointEvery: Int?
    /// A checkpoint to continue from.
    public var resume: String?
    /// A JSON-lines metrics file written as the run goes (besides `metrics.jsonl` in `outDirectory`).
    public var log: String?
    /// Text sampling overrides of `sample: text:` (nil: the model's).
    public var prime: String?
    public var length: Int?
    public var temperature: Double?
    /// Check every kernel's results for NaN and ±∞ (`--check-numerics`):
    /// the first one stops training with the op and its YAML line.
    public var checkNumerics = false
    /// How progress is shown on stderr.
    public var progress: ProgressStyle = .lines

    public enum ProgressStyle: Sendable { case bar, lines, quiet }

    public init(outDirectory: String) { self.outDirectory = outDirectory }

    public var checkpointPath: String { checkpoint ?? RunFiles.join(outDirectory, "checkpoint.safetensors") }
}

/// The names of what a run leaves in its output directory.
public enum RunFiles {
    public static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : (directory.hasSuffix("/") ? directory + name : directory + "/" + name)
    }

    /// `samples-epoch-003.png`: numbered from 1, three digits (more when needed).
    public static func epochSamples(_ epoch: Int) -> String {
        let n = String(epoch)
        return "samples-epoch-\(String(repeating: "0", count: max(0, 3 - n.count)))\(n).png"
    }

    public static let lossPlot = "loss.svg"
    public static let metrics = "metrics.jsonl"
}
