import CBLAS

/// OpenBLAS settings. `Matmul` is the only caller of `cblas_sgemm`; this is the only other
/// place OpenBLAS is touched.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for every following sgemm (`--threads`).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// OpenBLAS's build description (version, core type, threading), for benchmark reports.
    public static var configuration: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }
}

extension BLAS {
    /// Runs `body` with OpenBLAS limited to `n` threads, then restores the previous count.
    public static func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let previous = Int(openblas_get_num_threads())
        if previous == n { return try body() }
        openblas_set_num_threads(Int32(n))
        defer { openblas_set_num_threads(Int32(previous)) }
        return try body()
    }

    /// OpenBLAS's current thread count.
    public static var threads: Int { Int(openblas_get_num_threads()) }
}
