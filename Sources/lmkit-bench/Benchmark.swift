import Foundation

/// One measured figure: a named rate (median of repeats) with its unit.
struct BenchmarkResult: Codable {
    var group: String
    var name: String
    /// Median value over `repeats` runs.
    var median: Double
    var unit: String
    var repeats: Int
    var line: String { "\(group)/\(name): \(String(format: "%.2f", median)) \(unit) (median of \(repeats))" }
}

/// A benchmark group: a name and a function that runs it and returns its results.
struct BenchmarkGroup {
    var name: String
    var run: ([String]) -> [BenchmarkResult]
}

enum BenchmarkRegistry {
    /// Every group; add yours here.
    static var all: [BenchmarkGroup] {
        [
            PreTokenizerBench.group,
            TrainerBench.group,
            EncodeBench.group,
            DataBench.group,
            BenchmarkGroup(name: "model", run: ModelBench.run),
            BenchmarkGroup(name: "kernels", run: KernelBench.run),
        ]
    }
}

/// Runs `body` `repeats` times and returns the median wall seconds.
func medianSeconds(repeats: Int, _ body: () -> Void) -> Double {
    var times: [Double] = []
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    times.sort()
    return times[times.count / 2]
}
