import GencAutodiff
import GencIR

/// Dead-code elimination: only what an output or an update needs remains
/// (and the leaves the updates write), in order, renumbered.
///   before: %3 = exp %1; %4 = add %1, %2 (output)
///   after:  %3 = add %1, %2 (output)
public enum DeadCodeElimination {
    public static let pass = Pass(name: "dce", guarantee: "every node is needed by an output or an update") { g in
        let before = g.nodes.count
        g = Pruning.prune(g)
        return g.nodes.count != before
    }
}
