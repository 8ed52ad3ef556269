import Dispatch
import Foundation
import LMSupport

/// Ctrl-C handling for long runs: the first SIGINT (or SIGTERM) sets a flag that the train loop
/// polls between steps — it then checkpoints and returns cleanly; a second one exits at once
/// (status 130) for the impatient.
///
/// Uses a `DispatchSource` on a private queue, so no code runs in signal-handler context.
public final class InterruptFlag: @unchecked Sendable {
    /// The process-wide flag.
    public static let shared = InterruptFlag()
    private let lock = NSLock()
    private var count = 0
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "lmkit.interrupt")

    /// True once SIGINT/SIGTERM arrived (or `request()` was called).
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return count > 0 }

    /// Sets the flag as if Ctrl-C had been pressed.
    public func request() { lock.lock(); count += 1; lock.unlock() }

    /// Clears the flag (tests, or before a new run in the same process).
    public func reset() { lock.lock(); count = 0; lock.unlock() }

    /// Installs the SIGINT/SIGTERM handlers (idempotent).
    public func install() {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock(); self.count += 1; let n = self.count; self.lock.unlock()
                if n == 1 {
                    printError("\nlmkit: interrupted — writing a checkpoint after this step (Ctrl-C again to quit now)")
                } else {
                    printError("lmkit: interrupted twice — exiting without a final checkpoint")
                    exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
