// GencTrain: what `genc run` does with a compiled model. It reads datasets
// (Data/), runs the training loop and sampling (Loop/), and writes what a run
// leaves behind: checkpoints, PNG grids, the loss plot, metrics (Output/).
// It imports only earlier stages: the spec, the IR, plans and the runtime.
