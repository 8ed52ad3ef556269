import Foundation
import Testing
@testable import LMKernels

/// `BLASKernelChoice.preferredCoreType` on /proc/cpuinfo excerpts of real CPUs.
@Suite struct BLASKernelChoiceTests {
    static func cpuinfo(vendor: String, family: Int, flags: String) -> String {
        """
        processor\t: 0
        vendor_id\t: \(vendor)
        cpu family\t: \(family)
        model\t\t: 17
        flags\t\t: \(flags)

        processor\t: 1
        vendor_id\t: GenuineIntel
        cpu family\t: 6
        flags\t\t: fpu sse2

        """
    }

    @Test func zen4PrefersHaswellKernels() {
        let info = Self.cpuinfo(vendor: "AuthenticAMD", family: 25, flags: "fpu sse2 avx2 fma avx512f avx512_bf16")
        #expect(BLASKernelChoice.preferredCoreType(cpuinfo: info) == "Haswell")
    }

    @Test func otherCPUsKeepOpenBLASChoice() {
        // Zen 3 (family 25, no AVX-512), Zen 5 (family 26), Sapphire Rapids, and no cpuinfo at all.
        let cases = [
            Self.cpuinfo(vendor: "AuthenticAMD", family: 25, flags: "fpu sse2 avx2 fma"),
            Self.cpuinfo(vendor: "AuthenticAMD", family: 26, flags: "fpu avx2 avx512f"),
            Self.cpuinfo(vendor: "GenuineIntel", family: 6, flags: "fpu avx2 avx512f amx_tile"),
            "",
        ]
        for info in cases { #expect(BLASKernelChoice.preferredCoreType(cpuinfo: info) == nil) }
    }

    @Test func onlyTheFirstProcessorCounts() {
        // The first processor's flags lack avx512f even though a later one has it.
        let info = Self.cpuinfo(vendor: "AuthenticAMD", family: 25, flags: "fpu avx2")
            + "processor\t: 2\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nflags\t\t: avx512f\n"
        #expect(BLASKernelChoice.preferredCoreType(cpuinfo: info) == nil)
    }

    /// The progress lines' phrase names the kernel set OpenBLAS reports (the one in its build
    /// description) and says when the environment variable chose it.
    @Test func kernelDescriptionNamesTheLoadedKernelSet() {
        let text = BLAS.kernelDescription
        let core = text.dropFirst("OpenBLAS ".count).prefix { $0 != " " }
        #expect(text.hasPrefix("OpenBLAS "), "\(text)")
        #expect(!core.isEmpty && core != "unknown", "\(text)")
        #expect(BLAS.configuration.localizedCaseInsensitiveContains(String(core)), "\(text) vs \(BLAS.configuration)")
        let pinned = ProcessInfo.processInfo.environment[BLASKernelChoice.variable] != nil
        #expect(text.hasSuffix(", set by OPENBLAS_CORETYPE") == pinned, "\(text)")
    }
}
