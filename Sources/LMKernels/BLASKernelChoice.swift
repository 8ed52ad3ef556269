#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Which of OpenBLAS's CPU-specific kernel sets a process uses.
///
/// Debian's OpenBLAS is a `DYNAMIC_ARCH` build: when the library is loaded (before `main`) it
/// picks a kernel set for the CPU, unless the environment variable `OPENBLAS_CORETYPE` names one.
/// On AMD Zen 4 (family 25 with AVX-512) it picks `Cooperlake`, the AVX-512 kernels written for
/// Intel cores. Zen 4 executes a 512-bit FMA as two 256-bit halves, and there the `Haswell`
/// (AVX2) set is faster at lmkit's shapes. Measured on a 2-vCPU Zen 4 VM (2026-12-03):
/// - sgemm at `tiny`'s shapes (M = 4096, K or N = 128), one core, best of 5: 103 → 108 GFLOP/s;
/// - `lmkit-bench model` step time, interleaved runs, medians: `tiny` 152.1 → 146.5 ms (5 pairs),
///   `small` 1620 → 1600 ms, GPT-2-small shape 4373 → 4242 ms (2 pairs);
/// - square 1024/2048 sgemm (the MFU reference of `lmkit-bench`): 193 GFLOP/s in one check
///   against 204 before, 218 in the next benchmark run — no clear difference there.
///
/// The choice can only take effect in a new process, so `reexecIfBetterKernel` re-executes the
/// program once, with the variable set. A value the user set is never changed. Every other CPU
/// keeps OpenBLAS's own choice. On AMD Zen 5 (family 26, full-width AVX-512) OpenBLAS 0.3.21
/// picks `Cooperlake` too, and there it is the right choice: on a 2-vCPU Zen 5 VM (2026-12-04)
/// 2-thread sgemm at `tiny`'s and `small`'s shapes ran at 360–439 GFLOP/s with it against
/// 210–233 with `Haswell`, with the same results to 3e-7 (relative to Σ|a·b|).
public enum BLASKernelChoice {
    /// The environment variable OpenBLAS reads when it is loaded.
    public static let variable = "OPENBLAS_CORETYPE"

    /// The kernel set lmkit prefers to OpenBLAS's own choice on the CPU that `cpuinfo` (the text
    /// of `/proc/cpuinfo`) describes, or nil to keep OpenBLAS's choice. Only the first
    /// processor's `vendor_id`, `cpu family` and `flags` lines are read.
    public static func preferredCoreType(cpuinfo: String) -> String? {
        var vendor = "", family = -1, flags: Set<Substring> = []
        for line in cpuinfo.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else {
                continue
            }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "vendor_id" where vendor.isEmpty: vendor = value
            case "cpu family" where family < 0: family = Int(value) ?? -1
            case "flags" where flags.isEmpty: flags = Set(value.split(separator: " "))
            default: break
            }
            if !vendor.isEmpty && family >= 0 && !flags.isEmpty { break }
        }
        if vendor == "AuthenticAMD" && family == 25 && flags.contains("avx512f") { return "Haswell" }
        return nil
    }

    /// If `OPENBLAS_CORETYPE` is unset and this CPU has a preferred kernel set, sets the
    /// variable and re-executes the running program with the same arguments (this call then
    /// does not return). Returns without doing anything otherwise, or if the re-execution fails.
    /// Call first thing in `main`, before any other thread starts.
    public static func reexecIfBetterKernel() {
        guard ProcessInfo.processInfo.environment[variable] == nil,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let core = preferredCoreType(cpuinfo: cpuinfo) else { return }
        // Set even if exec fails below, so that no child process tries again.
        setenv(variable, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}
