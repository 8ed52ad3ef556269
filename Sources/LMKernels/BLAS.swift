import CBLAS
import LMSupport

/// OpenBLAS settings and lmkit's matmul threading. `Matmul` is the only caller of the BLAS
/// routines; this is the only other place OpenBLAS is touched.
///
/// Threading (see Performance notes in `Matmul`): by default (`.lmkit`) OpenBLAS itself runs
/// single-threaded and `Matmul` splits each large product into `threads` row or column blocks
/// that run in parallel (one single-threaded sgemm each). `.openBLAS` leaves the splitting to
/// OpenBLAS's own thread pool instead.
public enum BLAS {
    /// Who parallelises a matmul.
    public enum Threading: Sendable {
        /// OpenBLAS at one thread; `Matmul` splits products across `BLAS.threads` tasks.
        case lmkit
        /// OpenBLAS's thread pool with `BLAS.threads` threads.
        case openBLAS
    }

    nonisolated(unsafe) private static var _threads = Threads.available
    nonisolated(unsafe) private static var _threading: Threading = environmentThreading

    private static var environmentThreading: Threading {
        ProcessInfo.processInfo.environment["LMKIT_BLAS_THREADING"] == "openblas" ? .openBLAS : .lmkit
    }

    /// Threads every following matmul uses (`--threads`). Call before training, not concurrently.
    public static func setThreads(_ n: Int) {
        _threads = max(1, n)
        apply()
    }

    /// Chooses who parallelises matmuls (default `.lmkit`, or `LMKIT_BLAS_THREADING=openblas`).
    public static func setThreading(_ t: Threading) {
        _threading = t
        apply()
    }

    /// Threads matmuls use.
    public static var threads: Int { _threads }
    /// Who parallelises matmuls.
    public static var threading: Threading { _threading }

    private static func apply() {
        openblas_set_num_threads(Int32(_threading == .openBLAS ? _threads : 1))
    }

    /// Puts OpenBLAS in the configured mode before the first product (it starts with all cores).
    static let configured: Void = { apply() }()

    /// Stops OpenBLAS's worker threads, which the library starts when it is loaded: an idle
    /// worker spins in `sched_yield` for ~0.1 s before it sleeps, which took ~0.08 CPU-s from
    /// every lmkit process (10% of `lmkit shard` on a 100 MB corpus, which runs no matmul).
    /// lmkit's default `.lmkit` threading never uses the pool; with `.openBLAS`, OpenBLAS starts
    /// it again at the first multi-threaded product. Call once at program start, before any
    /// product and before other threads use BLAS.
    public static func stopIdleThreads() {
        _ = blas_thread_shutdown_()
    }

    /// OpenBLAS's build description (version, core type, threading), for benchmark reports.
    public static var configuration: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }

    /// The kernel set OpenBLAS chose when it was loaded (e.g. `Haswell`, `Cooperlake`), and
    /// whether the environment variable `OPENBLAS_CORETYPE` named it rather than OpenBLAS's own
    /// CPU detection (see `BLASKernelChoice`), as one phrase for progress lines:
    /// "OpenBLAS Cooperlake kernels" or "OpenBLAS Haswell kernels, set by OPENBLAS_CORETYPE".
    public static var kernelDescription: String {
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        let pinned = ProcessInfo.processInfo.environment[BLASKernelChoice.variable] != nil
        return "OpenBLAS \(core) kernels" + (pinned ? ", set by \(BLASKernelChoice.variable)" : "")
    }

    /// Runs `body` with OpenBLAS limited to one thread (for code that is already parallel), then
    /// restores the previous count.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        _ = configured
        let previous = Int(openblas_get_num_threads())
        if previous == 1 { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(previous)) }
        return try body()
    }
}

import Foundation
