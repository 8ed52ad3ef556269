import Dispatch
import Foundation
import Synchronization

/// A raw pointer that may cross into `concurrentPerform` closures.
///
/// Swift 6 refuses to capture raw pointers in `@Sendable` closures. This wrapper is the
/// one place the project vouches for it: callers must make every parallel task touch a
/// disjoint region (or only read), which the call sites document.
public struct SendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    @inlinable public subscript(i: Int) -> T {
        get { pointer[i] }
        nonmutating set { pointer[i] = newValue }
    }
}

/// A read-only raw pointer that may cross into `concurrentPerform` closures (see `SendablePointer`).
public struct SendableConstPointer<T>: @unchecked Sendable {
    public let pointer: UnsafePointer<T>
    public init(_ pointer: UnsafePointer<T>) { self.pointer = pointer }
    @inlinable public subscript(i: Int) -> T { pointer[i] }
}

/// A reference that may cross into `concurrentPerform` closures (see `SendablePointer`): for a
/// class whose parallel tasks touch disjoint parts of its memory, as the call site documents.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

/// A box that lets parallel tasks write results into distinct slots without a lock.
/// Each task must write only its own index.
public final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [T?]
    public init(count: Int) { slots = Array(repeating: nil, count: count) }
    public subscript(i: Int) -> T? {
        get { slots[i] }
        set { slots[i] = newValue }
    }
    /// All slots, which must all have been filled.
    public var values: [T] { slots.map { $0! } }
}

/// How many threads lmkit uses: all cores unless limited by `--threads`.
public enum Threads {
    /// Number of online CPU cores (≥ 1).
    public static var available: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// `requested` if given and positive, else all cores.
    public static func resolve(_ requested: Int?) -> Int {
        guard let r = requested, r > 0 else { return available }
        return r
    }
}

/// Data-parallel loops over index ranges.
public enum Parallel {
    /// Runs `body(i)` for i in 0..<count on up to `threads` threads; returns when all are done.
    /// With `threads == 1` (or count ≤ 1) runs inline, in order.
    public static func forEach(_ count: Int, threads: Int = Threads.available,
                               _ body: @Sendable (Int) -> Void) {
        if count <= 0 { return }
        if threads <= 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }

    /// Splits 0..<n into `parts` contiguous ranges of nearly equal size and runs them in parallel.
    public static func forRanges(_ n: Int, parts: Int = Threads.available,
                                 _ body: @Sendable (Range<Int>) -> Void) {
        let p = max(1, min(parts, n))
        if n <= 0 { return }
        forEach(p, threads: p) { k in
            let lo = n * k / p
            let hi = n * (k + 1) / p
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// A shared counter that hands out work items 0, 1, 2, … to parallel tasks, each index exactly
/// once: for loops whose items take uneven time (a task that finishes its fixed share early takes
/// more items instead of waiting).
public final class WorkCounter: Sendable {
    private let value = Atomic<Int>(0)

    public init() {}

    /// The next unclaimed index (0 first); callers stop once it reaches their item count.
    public func next() -> Int {
        value.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}
