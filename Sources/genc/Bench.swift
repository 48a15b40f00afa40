import ArgumentParser
import CAllocationCounter
import Foundation
import Genc
import GencKernels
import GencLower
import GencPlan
import GencRuntime
import GencSupport
import GencSpec

#if canImport(Glibc)
import Glibc
#endif

/// `genc bench`: time programs (medians of repeated runs, never a timed test).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a model's programs, or genc's sgemm.",
        discussion: """
        genc bench FILE times each scheduled objective's training step (the train program: forward, \
        backward and optimizer update; the grad program, forward and backward, for an objective with \
        no optimizer) and the schedule as a whole (every objective once, in order), on random inputs. \
        The weights change as the steps run, as in training. genc bench --sgemm N times cblas_sgemm on N×N×N through genc's \
        kernel wrapper, to compare with a C program in the same run (scripts/bench-sgemm.sh).
        """)

    @Argument(help: "The model file (omit with --sgemm).")
    var file: String?

    @Option(name: .customLong("dim"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Override a dim: NAME=VALUE (repeatable).", valueName: "NAME=VALUE"))
    var dims: [String] = []

    @Option(help: "Time sgemm on N×N×N instead of a model.")
    var sgemm: Int?

    @Option(parsing: .unconditional, help: "Timed runs.") var steps: Int = 20
    @Option(parsing: .unconditional, help: "Untimed runs first.") var warmup: Int = 3
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var memory: MemoryOptions
    @Flag(help: "Print JSON (on failure, the diagnostics as `check --json` prints them).") var json = false
    @Flag(help: "Time the unoptimized plans (every op its own kernel, no views, no in-place reuse, node order), to compare with the optimized ones in one run.")
    var unoptimized = false
    @Flag(help: "Compile without schedule sharing (each training program of a step computes everything it reads, the generator forward of a GAN twice), to measure what sharing buys. Implied by --unoptimized.")
    var noScheduleSharing = false
    @Flag(help: "After timing, run the schedule --steps more times timing every kernel, and print where the time goes: milliseconds per step by kernel kind, and the kernels (grouped by kind and shapes) that take the most.")
    var profile = false

    var threads: Int { threading.threads }

    func validate() throws {
        guard steps >= 1, steps <= 1_000_000 else { throw ValidationError("--steps must be from 1 to 1000000, got \(steps)") }
        guard warmup >= 0, warmup <= 1_000_000 else { throw ValidationError("--warmup must be from 0 to 1000000, got \(warmup)") }
        try ModelOptions.validate(dims: dims)
        switch (file, sgemm) {
        case (nil, nil): throw ValidationError("give a model FILE or --sgemm N")
        case (_?, _?): throw ValidationError("give a model FILE or --sgemm N, not both (--sgemm times sgemm alone)")
        case (nil, _?) where !dims.isEmpty: throw ValidationError("--dim applies to a model FILE, not to --sgemm")
        default: break
        }
        if let n = sgemm, n < 1 || n > 8192 { throw ValidationError("--sgemm N needs 1 <= N <= 8192") }
        if profile && json { throw ValidationError("--profile prints text; it cannot be combined with --json") }
        if profile && sgemm != nil { throw ValidationError("--profile applies to a model FILE, not to --sgemm") }
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    struct Timing {
        var ms: [Double]
        /// Heap allocations (malloc and friends, any thread) over all the timed
        /// runs; nil in a sanitizer build, where they are not counted.
        var allocations: Int?
        var flops: Int
        init(_ run: (ms: [Double], allocations: Int?), flops: Int) {
            (ms, allocations, self.flops) = (run.ms, run.allocations, flops)
        }
        var median: Double { ms.sorted()[ms.count / 2] }
        func json(threads: Int) -> JSONValue {
            .object([("ms_median", .double(median)), ("ms_min", .double(ms.min() ?? 0)), ("ms_max", .double(ms.max() ?? 0)),
                     ("gflops", .double(median > 0 ? Double(flops) / (median * 1e6) : 0)), ("threads", .int(threads)),
                     ("allocations_per_run", allocationsPerRun.map { .double($0) } ?? .null)])
        }
        func line(_ name: String) -> String {
            let g = median > 0 ? Double(flops) / (median * 1e6) : 0
            return "\(name): median \(fmt(median)) ms (min \(fmt(ms.min() ?? 0)), max \(fmt(ms.max() ?? 0))), \(fmt(g)) GFLOP/s, " + (allocationsPerRun.map { "\(fmt($0)) heap allocations per run" } ?? "heap allocations not counted (sanitizer build)")
        }
        var allocationsPerRun: Double? { allocations.map { ms.isEmpty ? 0 : Double($0) / Double(ms.count) } }
        func fmt(_ x: Double) -> String {
            let r = (x * 100).rounded() / 100
            return "\(r)"
        }
    }

    /// The milliseconds of each timed run, and the heap allocations of all
    /// of them (counted by the interposed allocator, CAllocationCounter; nil
    /// where it is compiled out, in a sanitizer build).
    func time(_ body: () throws -> Void) rethrows -> (ms: [Double], allocations: Int?) {
        for _ in 0..<warmup { try body() }
        var ms: [Double] = []
        ms.reserveCapacity(steps)
        genc_allocations_start()
        defer { _ = genc_allocations_stop() }
        for _ in 0..<steps {
            let t = Self.now()
            try body()
            ms.append((Self.now() - t) * 1000)
        }
        let made = genc_allocations_stop()
        return (ms, made >= 0 ? made : nil)  // -1: not counted (a sanitizer build)
    }

    func run() throws {
        Threads.configure(threads)
        if let n = sgemm { return benchSGEMM(n) }
        guard let file else { return }
        let compiled = try Output.compiled(file: file, dims: dims, json: json, planOptions: unoptimized ? .unoptimized : nil,
                                          shareSchedule: !(unoptimized || noScheduleSharing))
        let spec = compiled.spec
        do {
            let schedule = spec.train?.schedule.map(\.value) ?? spec.objectives.map(\.name)
            var chosen: [(String, Plan)] = []
            for name in schedule where !chosen.contains(where: { $0.0 == name }) {
                if let p = compiled.plan(.train, name) ?? compiled.plan(.grad, name) { chosen.append((name, p)) }
            }
            // Refused before anything is allocated when it cannot fit.
            let estimate = try MemoryEstimate(plans: chosen.map(\.1))
            if let d = estimate.check(memory.limit, doing: "benchmarking '\(spec.name.value)'", file: spec.file) { throw d }
            let store = ParameterStore()
            var programs: [(String, Executable)] = []
            for (name, plan) in chosen {
                programs.append((name, try Executable(plan: plan, store: store, threads: threads)))
            }
            store.initialize(seed: 0, threads: threads)
            for (_, exe) in programs {
                for i in exe.plan.inputs {
                    if let t = exe.inputType(i.name), t.dtype == .i32 {
                        try exe.setInput(i.name, ints: (0..<t.elementCount).map { Int32($0 % 2) })
                    } else {
                        try exe.sampleInput(i.name, .uniform(low: -1, high: 1), seed: 1)
                    }
                }
            }
            var timings: [(String, Timing)] = []
            for (_, exe) in programs {
                timings.append((exe.plan.name.split(separator: ".").suffix(2).joined(separator: "."), Timing(try time { try exe.run(seed: 1) }, flops: exe.plan.report.flops)))
            }
            let step = Timing(try time { for name in schedule { try programs.first { $0.0 == name }?.1.run(seed: 1) } },
                              flops: schedule.compactMap { n in programs.first { $0.0 == n }?.1.plan.report.flops }.reduce(0, +))
            if json {
                Output.stdout(JSONValue.object([("step", step.json(threads: threads)),
                                                ("programs", .object(timings.map { ($0.0, $0.1.json(threads: threads)) }))]).serialized() + "\n")
            } else {
                Output.stdout("\(spec.name.value), \(threads) thread\(threads == 1 ? "" : "s"), training steps (forward + backward + update)\n")
                Output.stdout(step.line("schedule [\(schedule.joined(separator: ", "))]") + "\n")
                for (n, t) in timings { Output.stdout("  " + t.line(n) + "\n") }
            }
            if profile {
                let order = schedule.compactMap { n in programs.first { $0.0 == n }?.1 }
                Output.stdout(try Self.profile(order, steps: steps, warmup: warmup))
            }
        } catch {
            throw Output.fail(error, file: file, json: json)
        }
    }

    /// Times every kernel of `programs` (run in order, `steps` times after
    /// `warmup` untimed runs) and renders the shares: by kernel kind, then
    /// the 25 heaviest groups of kernels alike in kind and shapes.
    static func profile(_ programs: [Executable], steps: Int, warmup: Int) throws -> String {
        var seconds = programs.map { [Double](repeating: 0, count: $0.plan.steps.count) }
        for _ in 0..<warmup { for e in programs { try e.run(seed: 1) } }
        for _ in 0..<steps { for (k, e) in programs.enumerated() { try e.runProfiled(seed: 1, seconds: &seconds[k]) } }
        var byKind: [String: (ms: Double, count: Int)] = [:]
        var byGroup: [String: (ms: Double, count: Int)] = [:]
        var total = 0.0
        for (k, e) in programs.enumerated() {
            for (i, step) in e.plan.steps.enumerated() {
                let ms = seconds[k][i] * 1000 / Double(steps)
                total += ms
                var kind = step.name
                if case let .matmul(ta, tb)? = step.op { kind += ta || tb ? " (\(ta ? "Aᵀ" : "A")·\(tb ? "Bᵀ" : "B"))" : "" }
                let shapes = step.inputs.prefix(3).map { "[\(e.plan.slots[$0].type.shape.map(String.init).joined(separator: ","))]" }.joined(separator: " ")
                let out = step.outputs.first.map { " -> [\(e.plan.slots[$0].type.shape.map(String.init).joined(separator: ","))]" } ?? ""
                byKind[kind, default: (0, 0)].ms += ms
                byKind[kind, default: (0, 0)].count += 1
                byGroup["\(kind) \(shapes)\(out)", default: (0, 0)].ms += ms
                byGroup["\(kind) \(shapes)\(out)", default: (0, 0)].count += 1
            }
        }
        func fmt(_ x: Double) -> String { String(format: "%8.2f", x) }
        func share(_ x: Double) -> String { String(format: "%5.1f%%", total > 0 ? 100 * x / total : 0) }
        var text = "profile (\(steps) runs, every kernel timed; ms per step, share, kernels per step):\n"
        for (k, v) in byKind.sorted(by: { $0.value.ms > $1.value.ms }) {
            text += "  \(fmt(v.ms)) ms \(share(v.ms)) \(String(format: "%5d", v.count))  \(k)\n"
        }
        text += "  \(fmt(total)) ms total\nheaviest kernel groups (kind, input shapes -> output shape):\n"
        for (k, v) in byGroup.sorted(by: { $0.value.ms > $1.value.ms }).prefix(25) {
            text += "  \(fmt(v.ms)) ms \(share(v.ms)) \(String(format: "%5d", v.count))  \(k)\n"
        }
        return text
    }

    func benchSGEMM(_ n: Int) {
        let a = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        fillUniform(a, count: n * n, seed: 1, low: -0.5, high: 0.5)
        fillUniform(b, count: n * n, seed: 2, low: -0.5, high: 0.5)
        let ms = time { GencKernels.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n, b: b, ldb: n, beta: 0, c: c, ldc: n, threads: threads) }
        let t = Timing(ms, flops: 2 * n * n * n)
        if json {
            Output.stdout(JSONValue.object([("sgemm", .object([("n", .int(n)), ("kernel", .string(openBLASCoreName()))] + { if case let .object(p) = t.json(threads: threads) { return p } else { return [] } }()))]).serialized() + "\n")
        } else {
            Output.stdout("\(OpenBLASSetup.description)\n" + t.line("sgemm \(n)x\(n)x\(n), \(threads) thread\(threads == 1 ? "" : "s")") + "\n")
        }
    }
}
