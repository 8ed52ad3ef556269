// swift-tools-version:6.0
// lmkit — from raw text to a small GPT, in one Swift binary.
// Architecture: see docs/ARCHITECTURE.md (targets form a DAG; each has one job).
import PackageDescription

/// Code generation target for the Swift code of lmkit (BLAS dispatches at run time on its own).
/// `haswell` (= the x86-64-v3 level: AVX2 + FMA + BMI2, Intel 2013+ / AMD Zen) is a deliberate portable baseline: the
/// default `x86-64` baseline leaves SIMD loops ~300× slower, while building for the exact host
/// CPU would make binaries that crash on older machines. See README "Build choices".
#if arch(x86_64)
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let cpuFlags: [SwiftSetting] = []
#endif
let settings: [SwiftSetting] = cpuFlags

let package = Package(
    name: "lmkit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lmkit", targets: ["lmkit"]),
        .executable(name: "lmkit-bench", targets: ["lmkit-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C shims: the only places C headers are imported.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // Header-only: `__builtin_prefetch` for the tokenizer's batched table lookups.
        .systemLibrary(name: "CPrefetch"),

        // Libraries, in dependency order.
        .target(name: "LMSupport", swiftSettings: settings),
        .target(name: "LMCompression", dependencies: ["LMSupport", "CZstd", "CZlib"],
                swiftSettings: settings),
        .target(name: "LMCorpus", dependencies: ["LMSupport", "LMCompression"],
                swiftSettings: settings),
        .target(name: "LMTokenizer", dependencies: ["LMSupport", "CPrefetch"], swiftSettings: settings),
        .target(name: "LMData", dependencies: ["LMSupport", "LMCompression"],
                swiftSettings: settings),
        .target(name: "LMKernels", dependencies: ["LMSupport", "CBLAS"], swiftSettings: settings),
        .target(name: "LMModel", dependencies: ["LMSupport", "LMKernels"], swiftSettings: settings),
        .target(name: "LMTraining",
                dependencies: ["LMSupport", "LMModel", "LMData", "LMTokenizer", "LMCorpus"],
                swiftSettings: settings),

        // Executables: the CLI (no maths) and the benchmarks.
        .executableTarget(
            name: "lmkit",
            dependencies: [
                "LMSupport", "LMCompression", "LMCorpus", "LMTokenizer", "LMData",
                "LMKernels", "LMModel", "LMTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings),
        .executableTarget(
            name: "lmkit-bench",
            dependencies: ["LMSupport", "LMCompression", "LMCorpus", "LMTokenizer", "LMData",
                           "LMKernels", "LMModel", "LMTraining"],
            swiftSettings: settings),

        // Tests mirror targets. A test target is listed once its folder holds tests.
        .target(name: "LMTestSupport", dependencies: ["LMSupport"], path: "Sources/LMTestSupport",
                swiftSettings: settings),
        .testTarget(name: "LMSupportTests", dependencies: ["LMSupport", "LMTestSupport"],
                    swiftSettings: settings),
        .testTarget(name: "LMCompressionTests", dependencies: ["LMCompression", "LMSupport", "LMTestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: settings),
        .testTarget(name: "LMCorpusTests", dependencies: ["LMCorpus", "LMSupport", "LMTokenizer", "LMTestSupport"],
                    swiftSettings: settings),
        .testTarget(name: "LMTokenizerTests", dependencies: ["LMTokenizer", "LMTestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: settings),
        .testTarget(name: "LMDataTests", dependencies: ["LMData", "LMCompression", "LMCorpus", "LMTokenizer", "LMTestSupport"],
                    exclude: ["Fixtures"],
                    swiftSettings: settings),
        .testTarget(name: "LMKernelsTests", dependencies: ["LMKernels", "LMSupport", "LMTestSupport"],
                    swiftSettings: settings),
        .testTarget(name: "LMModelTests", dependencies: ["LMModel", "LMKernels", "LMSupport", "LMTestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: settings),
        .testTarget(name: "LMTrainingTests",
                    dependencies: ["LMTraining", "LMKernels", "LMModel", "LMData", "LMTokenizer", "LMSupport",
                                   "LMTestSupport"],
                    swiftSettings: settings),
        // Runs the built `lmkit` binary (the dependency makes `swift test` build it).
        .testTarget(name: "LMKitCLITests", dependencies: ["lmkit", "LMTestSupport"],
                    swiftSettings: settings),
    ]
)
