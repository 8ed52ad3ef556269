import Foundation

/// Progress lines on stderr for long work: done/total, rate, ETA; silent with `quiet`.
///
/// Redraws one line (carriage return) at most ~10 times a second when stderr is a
/// terminal, and prints a plain line every few seconds otherwise (logs stay readable).
///
///     let p = ProgressReporter(label: "shard", total: bytes, unit: .bytes, quiet: false)
///     p.advance(by: n)      // from any thread
///     p.finish()
public final class ProgressReporter: @unchecked Sendable {
    /// How `done`/`total` are shown.
    public enum Unit: Sendable { case bytes, tokens, items(String) }

    public let label: String
    public let total: Int64?
    public let unit: Unit
    public let quiet: Bool
    private let start = Date()
    private var done: Int64 = 0
    private var lastDraw = Date.distantPast
    private var extra = ""
    private let lock = NSLock()
    private let isTTY = isatty(STDERR_FILENO) != 0

    public init(label: String, total: Int64?, unit: Unit, quiet: Bool) {
        self.label = label
        self.total = total
        self.unit = unit
        self.quiet = quiet
    }

    /// Adds `n` units of work done; redraws if due. Thread-safe.
    public func advance(by n: Int64, note: String? = nil) {
        lock.lock()
        done += n
        if let note { extra = note }
        let now = Date()
        let due = now.timeIntervalSince(lastDraw) >= (isTTY ? 0.1 : 5.0)
        if due { lastDraw = now }
        let snapshot = done
        let note = extra
        lock.unlock()
        if due { draw(snapshot, note: note, final: false) }
    }

    /// Sets the free-text part of the line (e.g. "loss 3.21").
    public func setNote(_ note: String) {
        lock.lock(); extra = note; lock.unlock()
    }

    /// Prints the final line (with newline).
    public func finish(note: String? = nil) {
        lock.lock()
        if let note { extra = note }
        let snapshot = done
        let n = extra
        lock.unlock()
        draw(snapshot, note: n, final: true)
    }

    /// Seconds since the reporter was created.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    private func draw(_ done: Int64, note: String, final: Bool) {
        if quiet { return }
        let secs = max(elapsed, 1e-9)
        var line = "\(label): \(format(done))"
        if let total, total > 0 {
            let pct = Double(done) / Double(total) * 100
            line += " / \(format(total)) (\(String(format: "%.1f", pct))%)"
        }
        line += "  \(rate(Double(done) / secs))"
        if let total, total > 0, done > 0, !final {
            let eta = secs * Double(total - done) / Double(done)
            line += "  ETA \(ProgressReporter.duration(eta))"
        }
        if final { line += "  in \(ProgressReporter.duration(secs))" }
        if !note.isEmpty { line += "  \(note)" }
        let out = isTTY ? "\r\u{1B}[K" + line + (final ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(out.data(using: .utf8)!)
    }

    private func format(_ v: Int64) -> String {
        switch unit {
        case .bytes: return ProgressReporter.bytes(Double(v))
        case .tokens: return ProgressReporter.count(Double(v)) + " tok"
        case .items(let name): return "\(v) \(name)"
        }
    }

    private func rate(_ r: Double) -> String {
        switch unit {
        case .bytes: return ProgressReporter.bytes(r) + "/s"
        case .tokens: return ProgressReporter.count(r) + " tok/s"
        case .items(let name): return String(format: "%.1f", r) + " \(name)/s"
        }
    }

    /// "12.3 MB" style (decimal units).
    public static func bytes(_ v: Double) -> String {
        if v >= 1e9 { return String(format: "%.2f GB", v / 1e9) }
        if v >= 1e6 { return String(format: "%.1f MB", v / 1e6) }
        if v >= 1e3 { return String(format: "%.1f kB", v / 1e3) }
        return String(format: "%.0f B", v)
    }

    /// "1.2M" style counts.
    public static func count(_ v: Double) -> String {
        if v >= 1e9 { return String(format: "%.2fG", v / 1e9) }
        if v >= 1e6 { return String(format: "%.2fM", v / 1e6) }
        if v >= 1e3 { return String(format: "%.1fk", v / 1e3) }
        return String(format: "%.0f", v)
    }

    /// "1h02m", "3m05s", "12s".
    public static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }
}

/// Writes a line to stderr (diagnostics that are not results).
public func printError(_ line: String) {
    FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
}
