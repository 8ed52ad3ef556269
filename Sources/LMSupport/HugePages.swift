#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Memory for large lookup tables that are probed at random (the encoder's token and pair
/// tables, its per-thread piece cache): whole 2 MB pages, 2 MB aligned, and on Linux marked with
/// `madvise(MADV_HUGEPAGE)` so that transparent huge pages back them when the system allows it
/// (`/sys/kernel/mm/transparent_hugepage/enabled` is `always` or `madvise`). One 2 MB page then
/// covers what takes 512 TLB entries with 4 KB pages: random probes over several MB of tables
/// otherwise miss the TLB as well as the caches. Without huge pages it is ordinary memory.
/// The memory comes zero-filled from the kernel (anonymous `mmap`), touched only when used.
///
///     let p = HugePages.allocate(byteCount: 4 << 20)   // zero-filled
///     defer { HugePages.deallocate(p, byteCount: 4 << 20) }
public enum HugePages {
    /// Size of one huge page, in bytes (x86-64 and arm64 Linux: 2 MB).
    public static let pageBytes = 2 << 20

    /// True if the kernel backs `madvise`d memory with transparent huge pages (Linux, THP mode
    /// `always` or `madvise`); read once from /sys/kernel/mm/transparent_hugepage/enabled.
    public static let available: Bool = {
        #if os(Linux)
        let mode = (try? FileIO.readText("/sys/kernel/mm/transparent_hugepage/enabled")) ?? ""
        return mode.contains("[always]") || mode.contains("[madvise]")
        #else
        return false
        #endif
    }()

    /// Bytes actually mapped for a request of `byteCount`: whole huge pages.
    static func mappedBytes(_ byteCount: Int) -> Int { max(1, (byteCount + pageBytes - 1) / pageBytes) * pageBytes }

    /// Zero-filled, 2 MB-aligned memory of at least `byteCount` bytes. Free it with
    /// `deallocate(_:byteCount:)` and the same `byteCount`.
    public static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = mappedBytes(byteCount)
        // Map one page more than needed and unmap the unaligned head and the tail.
        guard let raw = mmap(nil, size + pageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              raw != MAP_FAILED else {
            fatalError("HugePages.allocate: out of memory (\(size) bytes)")
        }
        let start = UInt(bitPattern: raw)
        let aligned = (start + UInt(pageBytes) - 1) & ~UInt(pageBytes - 1)
        let head = Int(aligned - start)
        if head > 0 { munmap(raw, head) }
        let tail = pageBytes - head
        let p = UnsafeMutableRawPointer(bitPattern: aligned)!
        if tail > 0 { munmap(p + size, tail) }
        #if os(Linux)
        _ = madvise(p, size, Int32(MADV_HUGEPAGE))
        #endif
        return p
    }

    /// Frees memory from `allocate(byteCount:)` (pass the same `byteCount`).
    public static func deallocate(_ p: UnsafeMutableRawPointer, byteCount: Int) {
        munmap(p, mappedBytes(byteCount))
    }
}
