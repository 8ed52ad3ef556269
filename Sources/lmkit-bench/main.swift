import Foundation
import LMKernels
import LMSupport

// lmkit-bench: release-mode benchmarks (MB/s, tokens/s, GFLOP/s). Run:
//   swift run -c release lmkit-bench [group ...] [--json]
// Groups register themselves in `BenchmarkRegistry.all` (one file per group).
BLASKernelChoice.reexecIfBetterKernel()   // the kernels lmkit's model commands use
BLAS.stopIdleThreads()
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print("""
        usage: lmkit-bench [group ...] [--json] [group options]
        Release-mode benchmarks; no group = all of them. Groups: \(BenchmarkRegistry.all.map(\.name).joined(separator: ", ")).
        Options: --json (results as JSON on stdout); encode: --only=VOCAB/TEXT, --quick; model: --configs tiny,small,gpt2s,
        --threads N, --sample-only. Corpora from LMKIT_SHARED_CORPORA (default ../shared/corpora); see BENCHMARKS.md.
        """)
    exit(0)
}
let json = arguments.contains("--json")
let requested = arguments.filter { !$0.hasPrefix("--") }
let groups = BenchmarkRegistry.all.filter { requested.isEmpty || requested.contains($0.name) }
if groups.isEmpty {
    printError("lmkit-bench: no benchmark group named \(requested.joined(separator: ", ")); groups: \(BenchmarkRegistry.all.map(\.name).joined(separator: ", "))")
    exit(2)
}
var results: [BenchmarkResult] = []
for group in groups {
    results += group.run(arguments)
}
if json {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(data: try! enc.encode(results), encoding: .utf8)!)
} else {
    for r in results { print(r.line) }
}
