import ArgumentParser

/// `genc run FILE`: the model's main job (training, then sampling). It needs
/// reverse-mode autodiff, which is the next stage to be built; until then
/// the verb exists so that users get a clear answer instead of
/// "unexpected argument".
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train and sample a model (not available yet: needs autodiff).",
        discussion: "Training arrives with reverse-mode autodiff and the training loop. Today: genc check, dump, eval and bench.")

    @Argument(parsing: .captureForPassthrough, help: "The model file and options (not used yet).")
    var arguments: [String] = []

    func run() throws {
        // Everything after `run` is captured, --help included.
        if arguments.contains("--help") || arguments.contains("-h") { throw CleanExit.helpRequest(self) }
        throw ValidationError("genc run is not available in this version: training needs reverse-mode autodiff, which is not built yet. Use 'genc check', 'genc eval' (evaluate objectives) or 'genc bench' (time the forward programs).")
    }
}
