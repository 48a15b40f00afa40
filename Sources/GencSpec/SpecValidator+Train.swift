import GencSupport
import GencSyntax

// MARK: - train: data, optimizer, schedule

extension SpecValidator {
    static let trainKeys = ["data", "optimizer", "schedule", "epochs", "steps", "seed"]
    static let datasetKeys = ["dataset", "split", "scale", "path", "encoding"]

    mutating func validateTrain(_ node: YAMLNode, key: SourceRange, objectives: [ObjectiveSpec]) -> TrainSpec? {
        guard let f = mapping(node, "'train'", owner: key, allowed: Self.trainKeys) else { return nil }
        var ok = true
        // Schedule: objective names, repeats allowed; default all, in file order.
        var schedule: [Located<String>] = []
        if let s = f["schedule"] {
            if let names = nameList(s.value, "an entry of 'schedule'") {
                if names.isEmpty { report(SpecDiagnostics.emptySection("'schedule'", s.value.range)); ok = false }
                for n in names {
                    if objectiveNames[n.value] == nil {
                        if isRejected(n.value, as: .objective) { ok = false; continue }
                        report(SpecDiagnostics.undefined("objective", n.value, suggestion: Suggestions.suffix(for: n.value, among: objectiveNames.keys), n.range))
                        ok = false
                    }
                    schedule.append(n)
                }
            } else { ok = false }
        } else {
            schedule = objectives.map { Located($0.name, key) }
            if objectiveNames.isEmpty {
                report(SpecDiagnostics.misuse("'train' needs objectives to minimize; the model has no 'objectives'", key))
                ok = false
            }
        }
        let scheduled = schedule.compactMap { s in objectives.first { $0.name == s.value } }

        var optimizer: OptimizerSpec?
        if let o = f["optimizer"] {
            optimizer = optimizerSpec(o.value, key: o.key.range)
            if optimizer == nil { ok = false }
        } else if let lacking = scheduled.first(where: { $0.optimizer == nil }) {
            report(SpecDiagnostics.missingKey("optimizer", in: "'train'", key)
                .note("objective '\(lacking.name)' has no optimizer of its own", at: lacking.range))
            ok = false
        }

        var length = TrainSpec.Length.epochs(1)
        switch (f["epochs"], f["steps"]) {
        case let (e?, s?):
            report(SpecDiagnostics.conflictingKeys("epochs", "steps", in: "'train'", s.key.range, other: e.key.range))
            ok = false
        case let (e?, nil):
            if let v = integer(e.value, "'epochs'", dimsAllowed: false) {
                // The same bounds as --epochs and --steps.
                if v > 1_000_000 { report(SpecDiagnostics.outOfRange("'epochs'", "\(v)", expected: "at most 1000000", e.value.range)); ok = false }
                length = .epochs(v)
            } else { ok = false }
        case let (nil, s?):
            if let v = integer(s.value, "'steps'", dimsAllowed: false) {
                if v > 1 << 40 { report(SpecDiagnostics.outOfRange("'steps'", "\(v)", expected: "at most 2^40", s.value.range)); ok = false }
                length = .steps(v)
            } else { ok = false }
        case (nil, nil):
            break
        }
        var seed = 0
        if let s = f["seed"] {
            if let v = integer(s.value, "'seed'", minimum: 0, dimsAllowed: false) { seed = v } else { ok = false }
        }

        var data: [DataBinding] = []
        if let d = f["data"] {
            if let pairs = d.value.pairs {
                for p in pairs {
                    guard let input = inputs[p.key.value] else {
                        ok = false
                        if isRejected(p.key.value, as: .input) { continue }
                        report(SpecDiagnostics.undefined("input", p.key.value, suggestion: Suggestions.suffix(for: p.key.value, among: inputs.keys), p.key.range))
                        continue
                    }
                    if input.noise != nil {
                        report(SpecDiagnostics.reference("input '\(input.name)' is noise ('sample:'); it cannot also be bound to data", p.key.range)
                            .note("'\(input.name)' is declared here", at: input.range))
                        ok = false
                        continue
                    }
                    guard let ds = dataset(p.value, for: input, key: p.key.range) else { ok = false; continue }
                    data.append(DataBinding(input: Located(p.key.value, p.key.range), dataset: ds))
                }
            } else {
                report(SpecDiagnostics.notMapping("'data'", got: d.value.kindDescription, d.value.range))
                ok = false
            }
        }
        // Every data input a scheduled objective reads must be bound.
        let bound = Set(data.map(\.input.value))
        var reported = Set<String>()
        for o in scheduled {
            for i in o.usedInputs where !bound.contains(i) && inputs[i]?.noise == nil && f["data"]?.value.pairs?.contains(where: { $0.key.value == i }) != true {
                guard reported.insert(i).inserted, let input = inputs[i] else { continue }
                report(SpecDiagnostics.reference("objective '\(o.name)' reads input '\(i)', which has no 'sample:' and no binding in train 'data'",
                                                 f["data"]?.key.range ?? key)
                    .note("'\(i)' is declared here", at: input.range))
                ok = false
            }
        }
        return ok ? TrainSpec(data: data, optimizer: optimizer, schedule: schedule, length: length, seed: seed, range: key) : nil
    }

    /// `{dataset: KIND, split, scale, path, encoding}`, checked against the input it feeds.
    mutating func dataset(_ node: YAMLNode, for input: InputSpec, key: SourceRange) -> DatasetSpec? {
        let context = "the data of '\(input.name)'"
        guard let f = mapping(node, context, owner: key, allowed: Self.datasetKeys, required: ["dataset"]),
              let d = f["dataset"], let name = string(d.value, "'dataset'") else { return nil }
        guard let kind = DatasetSpec.Kind(rawValue: name) else {
            let all = DatasetSpec.Kind.allCases.map(\.rawValue)
            report(SpecDiagnostics.undefined("dataset", name, suggestion: Suggestions.suffix(for: name, among: all) + "; genc reads \(all.joined(separator: ", "))", d.value.range))
            return nil
        }
        var ok = true
        func notFor(_ k: String, _ why: String) {
            if let x = f[k] {
                report(SpecDiagnostics.dataset("'\(k)' does not apply to the \(kind.rawValue) dataset (\(why))", x.key.range))
                ok = false
            }
        }
        var split = DatasetSpec.Split.train
        var scale = (low: 0.0, high: 1.0)
        var encoding = DatasetSpec.TextEncoding.ascii98
        var path: String?
        if let p = f["path"] { path = string(p.value, "'path'"); if path == nil { ok = false } }
        switch kind {
        case .text:
            notFor("scale", "it yields token ids")
            notFor("split", "give the text to train on as 'path'")
            if let e = f["encoding"] {
                if let s = string(e.value, "'encoding'") {
                    if let v = DatasetSpec.TextEncoding(rawValue: s) { encoding = v } else {
                        report(SpecDiagnostics.outOfRange("'encoding'", "'\(s)'", expected: "ascii98 or bytes\(Suggestions.suffix(for: s, among: ["ascii98", "bytes"]))", e.value.range))
                        ok = false
                    }
                } else { ok = false }
            }
        case .shapes:
            notFor("path", "its images are generated")
            notFor("encoding", "it is not text")
        default:
            notFor("encoding", "it is not text")
        }
        if kind != .text {
            if let s = f["split"] {
                if let v = string(s.value, "'split'") {
                    if let sp = DatasetSpec.Split(rawValue: v) { split = sp } else {
                        report(SpecDiagnostics.outOfRange("'split'", "'\(v)'", expected: "train or test\(Suggestions.suffix(for: v, among: ["train", "test"]))", s.value.range))
                        ok = false
                    }
                } else { ok = false }
            }
            if let s = f["scale"] {
                if let items = s.value.items, items.count == 2, let lo = number(items[0], "the low end of 'scale'"), let hi = number(items[1], "the high end of 'scale'") {
                    if lo == hi {
                        report(SpecDiagnostics.outOfRange("'scale'", "[\(lo), \(hi)]", expected: "two different values [low, high]", s.value.range))
                        ok = false
                    }
                    scale = (lo, hi)
                } else {
                    if s.value.items?.count != 2 {
                        report(SpecDiagnostics.wrongType("'scale'", expected: "a list [low, high]", got: s.value.items.map { "a list of \($0.count)" } ?? s.value.kindDescription, s.value.range))
                    }
                    ok = false
                }
            }
        }
        if (kind == .cifar10 || kind == .text), path == nil, f["path"] == nil {
            report(SpecDiagnostics.missingKey("path", in: "the \(kind.rawValue) dataset", key))
            ok = false
        }
        // The dataset must fit the input it feeds.
        let perSample = input.type.shape.dropFirst().reduce(1, *)
        if kind == .text {
            if input.type.dtype != .i32 {
                report(SpecDiagnostics.dataset("the text dataset yields token ids, so input '\(input.name)' must be 'dtype: i32'", d.value.range)
                    .note("'\(input.name)' is declared here", at: input.range))
                ok = false
            }
        } else if let n = DatasetSpec(kind: kind, split: split, scale: scale, path: nil, encoding: encoding, range: d.value.range).sampleElementCount {
            if input.type.dtype != .f32 {
                report(SpecDiagnostics.dataset("the \(kind.rawValue) dataset yields images, so input '\(input.name)' must be f32", d.value.range)
                    .note("'\(input.name)' is declared here", at: input.range))
                ok = false
            } else if perSample != n || input.type.shape.count < 2 {
                report(SpecDiagnostics.dataset("a \(kind.rawValue) sample has \(n) values, but input '\(input.name)' holds \(perSample) per batch row (shape \(input.type.shape))",
                                               d.value.range)
                    .note("'\(input.name)' is declared here", at: input.range))
                ok = false
            }
        }
        return ok ? DatasetSpec(kind: kind, split: split, scale: scale, path: path, encoding: encoding, range: d.value.range) : nil
    }
}
