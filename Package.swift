// swift-tools-version:5.9
// genc: a declarative model-graph compiler. Targets are listed in pipeline
// order; a module imports only the modules above it (STYLE.md).
import PackageDescription
import Foundation

// The kernels are compiled for AVX2 and FMA (8-float ymm registers; the
// default x86-64 target is SSE only, 4 floats). Every machine genc runs on
// has them (TOOLCHAIN.md: Intel and AMD, both AVX-512); the CLI checks the CPU
// before it runs a kernel and refuses with a message where they are missing.
#if arch(x86_64)
let kernelSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let kernelSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "genc",
    products: [
        .library(name: "Genc", targets: ["Genc"]),
        .executable(name: "genc", targets: ["genc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // MARK: - Front end
        .target(name: "GencSupport"),
        .target(name: "GencSyntax", dependencies: ["GencSupport", "CYAML"]),
        .target(name: "GencSpec", dependencies: ["GencSupport", "GencSyntax"]),

        // MARK: - Middle: graph IR and lowering
        .target(name: "GencIR", dependencies: ["GencSupport"]),
        .target(name: "GencLower", dependencies: ["GencSupport", "GencSyntax", "GencSpec", "GencIR"]),
        // Reverse-mode autodiff and the optimizers: forward programs → training steps.
        .target(name: "GencAutodiff", dependencies: ["GencSupport", "GencSpec", "GencIR", "GencLower"]),

        // The optimizing passes: graph → graph, before planning.
        .target(name: "GencPasses", dependencies: ["GencSupport", "GencIR", "GencLower", "GencAutodiff"]),

        // MARK: - Back end: plans, kernels, runtime
        .target(name: "GencPlan", dependencies: ["GencIR", "GencPasses"]),

        // C = A·B with B packed once for many GEMMs (AVX-512 or AVX2, chosen at run time).
        .target(name: "CPackedGEMM"),
        .target(name: "GencKernels", dependencies: ["CBLAS", "CPackedGEMM"], swiftSettings: kernelSettings),
        .target(name: "GencRuntime", dependencies: ["GencSupport", "GencIR", "GencPlan", "GencKernels"]),

        // Training and sampling: data loaders, the loop, checkpoints, image and text writers.
        .target(name: "GencTrain", dependencies: ["GencSupport", "GencSpec", "GencIR", "GencLower", "GencAutodiff", "GencPlan", "GencKernels", "GencRuntime", "CZlib", "CPNG"]),

        // Counts the process's heap allocations (an interposed malloc) for
        // genc bench: one relaxed atomic load per allocation when not counting.
        .target(name: "CAllocationCounter"),

        // MARK: - Library front door and CLI
        .target(name: "Genc", dependencies: ["GencSupport", "GencSyntax", "GencSpec", "GencIR", "GencLower", "GencAutodiff", "GencPasses", "GencPlan", "GencRuntime", "GencTrain"]),
        .executableTarget(name: "genc", dependencies: [
            "Genc", "GencIR", "GencLower", "GencAutodiff", "GencPasses", "GencPlan", "GencRuntime", "GencKernels", "GencTrain", "CAllocationCounter",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: - Tests
        .target(name: "GencTestSupport", dependencies: ["GencSupport", "GencIR"], path: "Tests/GencTestSupport"),
        .testTarget(name: "GencSupportTests", dependencies: ["GencSupport", "GencTestSupport"]),
        .testTarget(name: "GencSyntaxTests", dependencies: ["GencSyntax", "GencTestSupport"]),
        .testTarget(name: "GencSpecTests", dependencies: ["GencSpec", "GencSyntax", "Genc", "GencTestSupport"]),
        .testTarget(name: "GencIRTests", dependencies: ["GencIR", "GencTestSupport"]),
        // Golden and fixture files are read from the repository by path, not bundled.
        .testTarget(name: "GencLowerTests", dependencies: ["GencLower", "GencIR", "Genc", "GencSpec", "GencTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "GencAutodiffTests", dependencies: ["GencAutodiff", "GencLower", "GencIR", "GencPlan", "GencRuntime", "Genc", "GencSpec", "GencSupport", "GencTestSupport"]),
        .testTarget(name: "GencPassesTests", dependencies: ["GencPasses", "GencAutodiff", "GencIR", "GencLower", "Genc", "GencTestSupport"]),
        .testTarget(name: "GencKernelsTests", dependencies: ["GencKernels", "CAllocationCounter"]),
        .testTarget(name: "GencPlanTests", dependencies: ["GencPlan", "GencPasses", "GencIR", "GencTestSupport"]),
        .testTarget(name: "GencRuntimeTests", dependencies: ["GencRuntime", "GencPlan", "GencPasses", "GencIR", "GencKernels", "Genc", "GencTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "GencTrainTests", dependencies: ["GencTrain", "GencRuntime", "GencSpec", "GencIR", "Genc", "GencSupport", "GencTestSupport"]),
        .testTarget(name: "GencCLITests", dependencies: ["genc", "Genc", "GencIR", "GencRuntime", "GencTrain", "GencTestSupport", "CAllocationCounter"]),
    ]
)

// A libFuzzer target has no main, so it is declared only when asked for
// (TOOLCHAIN.md). One binary serves every reader; GENC_FUZZ_TARGET picks one
// (scripts/fuzz.sh): GENC_FUZZ=1 swift build -c release --sanitize=fuzzer --product GencFuzz
if ProcessInfo.processInfo.environment["GENC_FUZZ"] == "1" {
    package.targets.append(.executableTarget(
        name: "GencFuzz",
        dependencies: ["Genc", "GencSupport", "GencSyntax", "GencSpec", "GencIR", "GencPlan", "GencRuntime", "GencTrain"],
        path: "Fuzz/GencFuzz"))
    package.products.append(.executable(name: "GencFuzz", targets: ["GencFuzz"]))
}
