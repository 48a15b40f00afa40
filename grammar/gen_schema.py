"""Generates genc.schema.json (run: python3 grammar/gen_schema.py). Edit this, not the JSON."""
import json, collections, os

BUILTINS = "exp log sqrt abs tanh sigmoid relu softplus square sum mean max normal_like uniform_like mse l1 bce bce_logits kl_normal cross_entropy".split()
ACTIVATIONS = "relu tanh sigmoid softplus gelu softmax leaky_relu linear".split()
ALL_KINDS = ["dense", "conv", "conv_transpose", "conv1d", "batchnorm", "layernorm", "dropout", "embedding",
             "lstm", "maxpool", "avgpool", "flatten", "reshape", "relu", "leaky_relu", "tanh", "sigmoid",
             "softplus", "gelu", "softmax", "concat", "add"]
GRAPH_ONLY = ["concat", "add"]
SEQ_KINDS = [k for k in ALL_KINDS if k not in GRAPH_ONLY]
BARE = ["relu", "leaky_relu", "tanh", "sigmoid", "softplus", "gelu", "softmax", "flatten", "batchnorm", "layernorm"]

def ref(n): return {"$ref": f"#/$defs/{n}"}
def obj(props, required=(), desc=None, **kw):
    o = {"type": "object"}
    if desc: o["description"] = desc
    o["properties"] = props
    if required: o["required"] = list(required)
    o["additionalProperties"] = False
    o.update(kw)
    return o
def d(desc, schema): return {"description": desc, **schema}

NULL = {"type": "null"}
NAME_ARG = d("Overrides the layer's name in parameter names (`network.NAME.param`); by default the layer kind plus its index among layers of that kind in the network (`dense0`), or the node name in a `graph:`.", ref("identifier"))
defs = collections.OrderedDict()

defs["identifier"] = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
    "description": "A name: a letter or `_`, then letters, digits or `_`."}
defs["networkName"] = {"type": "string",
    "pattern": "^(?!(?:" + "|".join(BUILTINS) + ")$)[A-Za-z_][A-Za-z0-9_]*$",
    "description": "A network name: an identifier that is not the name of a built-in function (" + ", ".join(BUILTINS) + ")."}
defs["dimExpr"] = {"type": "string", "pattern": "^\\s*[-+A-Za-z0-9_(][A-Za-z0-9_ \\t()+*/-]*$",
    "description": "Integer arithmetic over integers and dim names: `+ - * /` and parentheses (`steps + 1`, `4 * units`, `zdim / 2`). `/` must divide exactly; the result must be >= 1.",
    "examples": ["steps + 1", "4 * units", "zdim / 2"]}
defs["size"] = {"description": "A positive size: an integer >= 1, or a dim expression (`latent`, `4 * h`).",
    "anyOf": [{"type": "integer", "minimum": 1}, ref("dimExpr")]}
defs["sizePair"] = {"description": "A size for both spatial axes (`4`), or a pair `[height, width]` (genc extension).",
    "anyOf": [ref("size"), {"type": "array", "items": ref("size"), "minItems": 2, "maxItems": 2}]}
defs["nonNegPair"] = {"description": "An integer >= 0 for both spatial axes, or a pair `[height, width]` (genc extension).",
    "anyOf": [{"type": "integer", "minimum": 0}, {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2}]}
defs["shape"] = {"type": "array", "items": ref("size"),
    "description": "A tensor shape: a list of extents (integers, dim names or dim expressions), batch first; `[]` is a scalar. Images are NCHW.",
    "examples": [["batch", 1, 28, 28], ["batch", "steps + 1"]]}
defs["dtype"] = {"enum": ["f32", "i32"], "default": "f32",
    "description": "Element type: `f32` (default) or `i32` (token ids)."}
defs["expression"] = {"type": "string", "pattern": "\\S",
    "description": "An expression (see grammar/expressions.ebnf): numbers, names, `+ - * / **`, unary `-`, calls `f(a, key: v)`, fields `r.mu`, slices `t[:, :-1]`. Quote it when it contains `: ` (keyword arguments), or `,` inside a `{ }` flow mapping, or starts with `[ { * & ! | > ' \" % @`."}
defs["noise"] = {"description": "Fresh noise for this input at every training step (one draw shared by every objective of the step): `normal` (N(0, 1)), `uniform` (on [0, 1)), `{normal: {mean, std}}` or `{uniform: {low, high}}`.",
    "anyOf": [
        {"enum": ["normal", "uniform"]},
        obj({"normal": {"anyOf": [NULL, obj({"mean": d("Mean (default 0).", {"type": "number", "default": 0}),
                            "std": d("Standard deviation, > 0 (default 1).", {"type": "number", "exclusiveMinimum": 0, "default": 1})},
                           desc="Normal noise with the given mean and standard deviation.")], "description": "Normal noise: `{mean, std}` (both optional), or null for N(0, 1)."}},
            required=["normal"]),
        obj({"uniform": {"anyOf": [NULL, obj({"low": d("Lower bound (default 0); must be < high.", {"type": "number", "default": 0}),
                             "high": d("Upper bound, exclusive (default 1).", {"type": "number", "default": 1})},
                            desc="Uniform noise on [low, high) (genc extension).")], "description": "Uniform noise: `{low, high}` (both optional), or null for [0, 1)."}},
            required=["uniform"])]}
defs["input"] = {"description": "A free tensor of the model: a shape (fed from data), or `{shape, dtype, sample}`.",
    "anyOf": [ref("shape"), obj({"shape": ref("shape"), "dtype": ref("dtype"),
        "sample": d("Fresh noise each training step; the input then needs no data (not allowed with `dtype: i32`).", ref("noise"))},
        required=["shape"])]}
defs["argument"] = {"description": "A network argument: a shape, or `{shape, dtype}`.",
    "anyOf": [ref("shape"), obj({"shape": ref("shape"), "dtype": ref("dtype")}, required=["shape"])]}
defs["activation"] = {"description": "An activation applied to the layer's output: " + ", ".join(ACTIVATIONS) + " (`linear`: none), or `{leaky_relu: SLOPE}`.",
    "anyOf": [{"enum": ACTIVATIONS}, obj({"leaky_relu": d("Negative slope.", {"type": "number"})}, required=["leaky_relu"])]}

BIAS = d("Whether the layer has a bias parameter (default true). Layers that feed a batchnorm usually set `false`.", {"type": "boolean", "default": True})
ACT = d("Activation applied to the output (default: none).", ref("activation"))

def kind_value(main_schema, args_props, required, desc, allow_null=False, main_desc=None):
    alts = []
    if allow_null: alts.append(NULL)
    if main_schema is not None: alts.append(main_schema)
    props = dict(args_props); props["name"] = NAME_ARG
    alts.append(obj(props, required=required))
    return {"description": desc, "anyOf": alts}

conv_common = {
    "filters": d("Number of output channels (main argument).", ref("size")),
    "kernel": d("Kernel size: an integer or `[kh, kw]`.", ref("sizePair")),
    "stride": d("Stride (default 1): an integer or `[sh, sw]`.", ref("sizePair")),
    "padding": d("Zero padding (default 0): an integer, `[ph, pw]`, or `same` (stride 1 and an odd kernel only; keeps the size).",
                 {"anyOf": [ref("nonNegPair"), {"const": "same"}]}),
    "activation": ACT, "bias": BIAS}
convT = dict(conv_common)
convT["padding"] = d("Padding (default 0): an integer or `[ph, pw]`, PyTorch's meaning; `same` is not allowed.", ref("nonNegPair"))
convT["output_padding"] = d("Extra size added to one side of the output (default 0); must be < stride.", ref("nonNegPair"))
conv1d = {
    "filters": d("Number of output channels (main argument).", ref("size")),
    "kernel": d("Kernel length.", ref("size")),
    "stride": d("Stride (default 1).", ref("size")),
    "padding": d("Zero padding (default 0), or `same` (stride 1 only).", {"anyOf": [{"type": "integer", "minimum": 0}, {"const": "same"}]}),
    "activation": ACT, "bias": BIAS}
pool = {"kernel": d("Window size (main argument): an integer or `[kh, kw]`.", ref("sizePair")),
        "stride": d("Stride (default: the kernel).", ref("sizePair")),
        "padding": d("Padding (default 0; genc extension): an integer or `[ph, pw]`, at most half the kernel.", ref("nonNegPair"))}
reshape_shape = {"type": "array", "items": {"anyOf": [ref("size"), {"const": -1}]},
    "description": "The shape without the batch dim; one entry may be -1 (inferred; genc extension)."}

K = collections.OrderedDict()
K["dense"] = kind_value(ref("size"), {"units": d("Output features (main argument).", ref("size")), "activation": ACT, "bias": BIAS}, ["units"],
    "Fully connected layer on the last axis. Short form: `dense: UNITS`. Parameters: `weight: [in, units]`, `bias: [units]`.")
K["conv"] = kind_value(None, conv_common, ["filters", "kernel"],
    "2-d convolution on NCHW input; output size floor((H + 2p - k) / s) + 1. Parameters: `weight: [filters, in_ch, kh, kw]`, `bias: [filters]`.")
K["conv_transpose"] = kind_value(None, convT, ["filters", "kernel"],
    "2-d transposed convolution on NCHW input; output size (H - 1) s - 2p + k + output_padding. Parameters: `weight: [in_ch, filters, kh, kw]`, `bias: [filters]`.")
K["conv1d"] = kind_value(None, conv1d, ["filters", "kernel"],
    "1-d convolution on [N, C, L] input. Parameters: `weight: [filters, in_ch, k]`, `bias: [filters]`.")
K["batchnorm"] = kind_value(d("Momentum (main argument).", {"type": "number", "minimum": 0, "maximum": 1}),
    {"momentum": d("Running-statistics momentum, 0..1 (default 0.1, PyTorch's meaning).", {"type": "number", "minimum": 0, "maximum": 1, "default": 0.1}),
     "eps": d("Added to the variance (default 1e-5); > 0.", {"type": "number", "exclusiveMinimum": 0, "default": 1e-05})}, [],
    "Batch normalization over every axis but 1 (features/channels); batch statistics in training, running statistics when sampling. Parameters: `scale`, `bias`; state `running_mean`, `running_var`.", allow_null=True)
K["layernorm"] = kind_value(d("eps (main argument).", {"type": "number", "exclusiveMinimum": 0}),
    {"eps": d("Added to the variance (default 1e-5); > 0.", {"type": "number", "exclusiveMinimum": 0, "default": 1e-05})}, [],
    "Layer normalization over the last axis. Parameters: `scale`, `bias` (shape: the last axis).", allow_null=True)
K["dropout"] = kind_value(d("Drop rate (main argument), 0 <= rate < 1.", {"type": "number", "minimum": 0, "exclusiveMaximum": 1}),
    {"rate": d("Probability of zeroing an element, 0 <= rate < 1 (kept ones are scaled by 1 / (1 - rate)).", {"type": "number", "minimum": 0, "exclusiveMaximum": 1})}, ["rate"],
    "Dropout in training; the identity when sampling. No parameters.")
K["embedding"] = kind_value(None, {"vocab": d("Vocabulary size (ids 0 .. vocab-1).", ref("size")), "dim": d("Embedding width.", ref("size"))}, ["vocab", "dim"],
    "Lookup table for i32 ids: [...] -> [..., dim]. Parameter: `weight: [vocab, dim]`.")
K["lstm"] = kind_value(ref("size"),
    {"units": d("Hidden size (main argument).", ref("size")),
     "layers": d("Number of stacked layers (default 1).", {"anyOf": [ref("size")], "default": 1}),
     "return_sequences": d("Output every step [N, T, units] (default true) or only the last [N, units].", {"type": "boolean", "default": True})}, ["units"],
    "LSTM over [N, T, D] input, zero initial state, gates i, f, g, o. Parameters per layer l: `l<l>.weight_ih: [in, 4*units]`, `l<l>.weight_hh: [units, 4*units]`, `l<l>.bias: [4*units]`.")
K["maxpool"] = kind_value(ref("sizePair"), pool, ["kernel"], "Max pooling on NCHW input. Short form: `maxpool: KERNEL`. No parameters.")
K["avgpool"] = kind_value(ref("sizePair"), pool, ["kernel"], "Average pooling on NCHW input. Short form: `avgpool: KERNEL`. No parameters.")
K["flatten"] = kind_value(None, {}, [], "Flattens every axis but the batch: [N, ...] -> [N, prod(...)]. No arguments.", allow_null=True)
K["reshape"] = kind_value(reshape_shape, {"shape": reshape_shape}, ["shape"],
    "Reshapes to [N, shape...] (the shape is given without the batch dim; element counts must agree). Short form: `reshape: [128, 7, 7]`.")
for a in ["relu", "tanh", "sigmoid", "softplus", "gelu"]:
    K[a] = kind_value(None, {}, [], f"The `{a}` activation, elementwise. No arguments.", allow_null=True)
K["leaky_relu"] = kind_value(d("Negative slope (main argument).", {"type": "number"}),
    {"slope": d("Negative slope (default 0.01, PyTorch's).", {"type": "number", "default": 0.01})}, [],
    "Leaky ReLU: x if x > 0 else slope * x. Short form: `leaky_relu: 0.2`.", allow_null=True)
K["softmax"] = kind_value(d("Axis (main argument).", {"type": "integer"}),
    {"axis": d("Axis to normalize over (default -1).", {"type": "integer", "default": -1})}, [],
    "Softmax along an axis.", allow_null=True)
CAT_AXIS = {"anyOf": [{"type": "integer", "maximum": -1}, {"type": "integer", "minimum": 1}]}
K["concat"] = kind_value(d("Axis (main argument); not 0, the batch axis.", CAT_AXIS),
    {"axis": d("Axis to concatenate along (default 1, the channel/feature axis); not 0, the batch axis.", {**CAT_AXIS, "default": 1})}, [],
    "Concatenates its `from:` list (graph nodes only, 2 or more inputs).", allow_null=True)
K["add"] = kind_value(None, {}, [], "Adds its `from:` list elementwise (graph nodes only, 2 or more inputs of one shape).", allow_null=True)
for k, v in K.items(): defs["layer_" + k] = v

defs["bareLayer"] = {"enum": BARE, "description": "A layer with no required arguments, by its bare name (`- relu`, `- batchnorm`)."}
defs["layer"] = {"description": "A layer of a `layers:` stack: a bare name (`- relu`), or a one-key mapping from the layer kind to its main argument (`- dense: 784`), null, or its arguments (`- conv: {filters: 64, kernel: 4}`).",
    "anyOf": [ref("bareLayer"),
              {"type": "object", "minProperties": 1, "maxProperties": 1,
               "propertyNames": {"enum": SEQ_KINDS},
               "properties": {k: ref("layer_" + k) for k in SEQ_KINDS}, "additionalProperties": False}]}
FROM_ONE = d("The node or `in:` argument this layer reads.", ref("identifier"))
FROM_LIST = d("The nodes or `in:` arguments this layer reads (2 or more).", {"type": "array", "items": ref("identifier"), "minItems": 2})
props = {k: ref("layer_" + k) for k in ALL_KINDS}
props["from"] = d("What the layer reads: a node or `in:` argument name, or a list of 2 or more for `concat`/`add`.", {"anyOf": [ref("identifier"), FROM_LIST]})
defs["graphLayer"] = {"type": "object",
    "description": "A layer node: one layer key (its value as in `layers:`) plus `from:`. The node name is the layer's name.",
    "properties": props, "required": ["from"], "additionalProperties": False,
    "minProperties": 2, "maxProperties": 2,
    "oneOf": [{"propertyNames": {"enum": GRAPH_ONLY + ["from"]}, "properties": {"from": FROM_LIST}},
              {"propertyNames": {"enum": SEQ_KINDS + ["from"]}, "properties": {"from": FROM_ONE}}]}
defs["graphNode"] = {"description": "A graph node: an expression (a string; no parameters), or a layer with `from:`.",
    "anyOf": [ref("expression"), ref("graphLayer")]}
IN = d("The network's arguments, in call order: name -> shape or `{shape, dtype}`.",
       {"type": "object", "propertyNames": ref("identifier"), "additionalProperties": ref("argument"), "minProperties": 1})
IN1 = d("The network's single argument: name -> shape or `{shape, dtype}` (a `layers:` stack takes exactly one).",
       {"type": "object", "propertyNames": ref("identifier"), "additionalProperties": ref("argument"), "minProperties": 1, "maxProperties": 1})
defs["network"] = {"description": "A network: `in:` plus either `layers:` (a sequential stack) or `graph:` and `out:` (a DAG).",
    "anyOf": [
        obj({"in": IN1, "layers": d("A sequential stack; the last layer's output is the network's output.", {"type": "array", "items": ref("layer"), "minItems": 1})},
            required=["in", "layers"]),
        obj({"in": IN,
             "graph": d("Node name -> layer node or expression, in any order (a cycle is an error).",
                        {"type": "object", "propertyNames": ref("identifier"), "additionalProperties": ref("graphNode"), "minProperties": 1}),
             "out": d("The result: a node (or `in:` argument) name, or a list of names (the call then returns a record: `encoder(x).mu`).",
                      {"anyOf": [ref("identifier"), {"type": "array", "items": ref("identifier"), "minItems": 1}]})},
            required=["in", "graph", "out"])]}
ADAM = obj({"lr": d("Learning rate (default 1e-3).", {"type": "number", "exclusiveMinimum": 0, "default": 0.001}),
            "beta1": d("First-moment decay (default 0.9).", {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "default": 0.9}),
            "beta2": d("Second-moment decay (default 0.999).", {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "default": 0.999}),
            "eps": d("Added to the denominator (default 1e-8).", {"type": "number", "exclusiveMinimum": 0, "default": 1e-08})},
           desc="Adam (PyTorch's formula, bias-corrected); every argument optional.")
SGD = obj({"lr": d("Learning rate (required).", {"type": "number", "exclusiveMinimum": 0}),
           "momentum": d("Momentum, 0 <= momentum < 1 (default 0).", {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "default": 0})},
          required=["lr"], desc="Stochastic gradient descent, with optional momentum (PyTorch's formula).")
defs["optimizerKind"] = {"enum": ["adam", "sgd"], "description": "An optimizer (v1)."}
defs["optimizer"] = {"description": "`adam`, `{adam: {lr, beta1, beta2, eps}}` or `{sgd: {lr, momentum}}`.",
    "anyOf": [{"const": "adam"},
              {"type": "object", "minProperties": 1, "maxProperties": 1, "propertyNames": ref("optimizerKind"),
               "properties": {"adam": {"description": ADAM["description"], "anyOf": [NULL, ADAM]}, "sgd": SGD}, "additionalProperties": False}]}
defs["objective"] = obj({
    "minimize": d("A scalar expression to minimize.", ref("expression")),
    "update": d("The network(s) whose parameters this objective trains.",
                {"anyOf": [ref("networkName"), {"type": "array", "items": ref("networkName"), "minItems": 1}]}),
    "graph": d("Named expressions visible to `minimize` (name -> expression).",
               {"type": "object", "propertyNames": ref("identifier"), "additionalProperties": ref("expression")}),
    "optimizer": d("This objective's own optimizer (overrides train's).", ref("optimizer"))},
    required=["minimize", "update"], desc="An objective: a scalar loss and the networks it trains.")
SPLIT = d("Which part (default `train`).", {"enum": ["train", "test"], "default": "train"})
SCALE = d("Maps pixel values 0..255 linearly onto [lo, hi] (default [0, 1]); lo and hi must differ.", {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2, "default": [0, 1]})
PATH = d("A file or directory.", {"type": "string", "pattern": "\\S"})
defs["dataset"] = {"description": "Where an input's data comes from.", "anyOf": [
    obj({"dataset": d("MNIST or Fashion-MNIST IDX files (gzipped or not); 784 values a sample.", {"enum": ["fashion-mnist", "mnist"]}),
         "split": SPLIT, "scale": SCALE,
         "path": d("Directory of the IDX files (default: where Debian's dataset package installs them).", {"type": "string", "pattern": "\\S"})},
        required=["dataset"]),
    obj({"dataset": d("CIFAR-10 binary batches; 3072 values (3x32x32) a sample.", {"const": "cifar10"}),
         "split": SPLIT, "scale": SCALE, "path": d("Directory of the binary batches (required).", {"type": "string", "pattern": "\\S"})},
        required=["dataset", "path"]),
    obj({"dataset": d("Text cut into windows of the input's length; the input must be i32.", {"const": "text"}),
         "path": d("A text file, or a directory of them (required).", {"type": "string", "pattern": "\\S"}),
         "encoding": d("`ascii98` (default: newline 0, tab 1, other bytes outside 32..126 2, bytes 32..126 -> 3..97; vocab >= 98) or `bytes` (each byte itself; vocab 256).",
                       {"enum": ["ascii98", "bytes"], "default": "ascii98"})},
        required=["dataset", "path"]),
    obj({"dataset": d("Built-in procedural 1x28x28 images (784 values a sample); needs nothing installed.", {"const": "shapes"}),
         "split": SPLIT, "scale": SCALE},
        required=["dataset"])]}
TRAIN_COMMON = collections.OrderedDict([
    ("data", d("Input name -> dataset. Every data input that a scheduled objective reads needs one; noise inputs must not have one.",
               {"type": "object", "propertyNames": ref("identifier"), "additionalProperties": ref("dataset")})),
    ("optimizer", d("The optimizer (required unless every scheduled objective has its own).", ref("optimizer"))),
    ("schedule", d("Objectives run per batch, in order (repeats allowed); default: every objective in file order.",
                   {"type": "array", "items": ref("identifier"), "minItems": 1})),
    ("seed", d("Random seed (default 0).", {"type": "integer", "minimum": 0, "default": 0}))])
EPOCHS = d("Passes over the data (default 1); not with `steps`.", {"type": "integer", "minimum": 1, "default": 1})
STEPS = d("Training steps (batches); not with `epochs`.", {"type": "integer", "minimum": 1})
t1 = dict(TRAIN_COMMON); t1["epochs"] = EPOCHS
t2 = dict(TRAIN_COMMON); t2["steps"] = STEPS
defs["train"] = {"description": "How to train: data bindings, optimizer, schedule, and `epochs` or `steps` (not both).",
                 "anyOf": [obj(t1), obj(t2)]}
defs["sample"] = obj({
    "images": obj({"from": d("Expression giving the images; it may read noise inputs, not data inputs. Its value: [N, C, H, W] (C 1 or 3), [N, H, W], or [N, D] with D a perfect square (grayscale). Values are mapped back to 0..255 by inverting the `scale:` of the model's image dataset ([0, 1] when there is none), and clamped.", ref("expression")),
                   "grid": d("[rows, cols] of the grid (default [8, 8]), filled row by row with the first rows*cols images.", {"type": "array", "items": ref("size"), "minItems": 2, "maxItems": 2, "default": [8, 8]}),
                   "to": d("Output PNG file (default `samples.png`, under `--out`).", {"type": "string", "pattern": "\\.[pP][nN][gG]$", "default": "samples.png"})},
                  required=["from"], desc="Write a grid of generated images as a PNG."),
    "text": obj({"network": d("The language-model network: i32 ids [batch, T] -> logits [batch, T, V].", ref("networkName")),
                 "from": d("The i32 input whose shape and encoding the text uses.", ref("identifier")),
                 "prime": d("Text fed to the network before sampling starts (default empty).", {"type": "string", "default": ""}),
                 "length": d("Characters to generate (default 400).", {"type": "integer", "minimum": 1, "default": 400}),
                 "temperature": d("Logits are divided by this before sampling; > 0 (default 1).", {"type": "number", "exclusiveMinimum": 0, "default": 1.0}),
                 "to": d("Output file (default: stdout).", {"type": "string", "pattern": "\\S"})},
                required=["network", "from"], desc="Generate text from a language model, one token at a time.")},
    desc="What `genc run` produces after training (and `genc run --sample-only`).", minProperties=1)

schema = collections.OrderedDict()
schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
schema["$id"] = "https://genc.invalid/grammar/genc.schema.json"
schema["title"] = "genc model file (language version 1)"
schema["description"] = "A genc model: networks, objectives, training and sampling, in one YAML document. See docs/language.md."
schema["type"] = "object"
schema["properties"] = collections.OrderedDict([
    ("genc", d("Language version: `1`.", {"const": 1})),
    ("name", d("Model name: `[a-z][a-z0-9_-]*`.", {"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"})),
    ("description", d("Free text.", {"type": "string"})),
    ("dims", d("Named sizes usable in every shape and expression: a positive integer or an integer expression over other dims. Overridable with `--dim NAME=VALUE`.",
               {"type": "object", "propertyNames": ref("identifier"), "additionalProperties": ref("size"), "examples": [{"batch": 64, "zdim": 100}]})),
    ("inputs", d("The model's free tensors (data, noise): name -> shape or `{shape, dtype, sample}`.",
                 {"type": "object", "propertyNames": ref("identifier"), "additionalProperties": ref("input"), "minProperties": 1})),
    ("networks", d("Named networks (functions with parameters).",
                   {"type": "object", "propertyNames": ref("networkName"), "additionalProperties": ref("network"), "minProperties": 1})),
    ("objectives", d("Named losses to minimize (needed for training).",
                     {"type": "object", "propertyNames": ref("identifier"), "additionalProperties": ref("objective")})),
    ("train", ref("train")),
    ("sample", ref("sample"))])
schema["required"] = ["genc", "name", "inputs", "networks"]
schema["additionalProperties"] = False
schema["$defs"] = defs
def md(o):
    if isinstance(o, dict):
        for k in list(o.keys()):
            if k in ("default", "examples", "enum", "const"): continue
            md(o[k])
        if isinstance(o.get("description"), str) and "`" in o["description"]:
            items = list(o.items()); o.clear()
            for k, v in items:
                o[k] = v
                if k == "description": o["markdownDescription"] = v
    elif isinstance(o, list):
        for x in o: md(x)
md(schema)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "genc.schema.json")
json.dump(schema, open(out, "w"), indent=2)
open(out, "a").write("\n")
