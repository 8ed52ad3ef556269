import Foundation
import LMSupport

/// One logged step of a run (a line of `RUN/metrics.jsonl`).
public struct MetricsRecord: Sendable, Equatable {
    /// Optimizer steps completed (1-based).
    public var step: Int
    /// Mean training loss of the step's batch (all micro-batches), nats/token.
    public var trainLoss: Float
    /// Learning rate used for the step.
    public var learningRate: Double
    /// Training tokens per second of this step (forward + backward + update).
    public var tokensPerSecond: Double
    /// Training wall time since the run started (over all sessions), seconds.
    public var elapsedSeconds: Double
    /// Validation loss after this step, nats/token, when evaluated.
    public var valLoss: Float?
    /// Global gradient norm before clipping.
    public var gradNorm: Double?

    public init(step: Int, trainLoss: Float, learningRate: Double, tokensPerSecond: Double,
                elapsedSeconds: Double, valLoss: Float? = nil, gradNorm: Double? = nil) {
        self.step = step
        self.trainLoss = trainLoss
        self.learningRate = learningRate
        self.tokensPerSecond = tokensPerSecond
        self.elapsedSeconds = elapsedSeconds
        self.valLoss = valLoss
        self.gradNorm = gradNorm
    }

    /// One JSON object on one line. Losses use Swift's shortest round-trip float text, so a
    /// reader gets the exact Float back (bit-identical resume is checked through this file).
    public var jsonLine: String {
        var s = "{\"step\":\(step),\"train_loss\":\(MetricsRecord.number(trainLoss))"
        s += ",\"lr\":\(MetricsRecord.number(learningRate))"
        s += ",\"tokens_per_s\":\(String(format: "%.1f", tokensPerSecond))"
        s += ",\"elapsed_s\":\(String(format: "%.3f", elapsedSeconds))"
        if let valLoss { s += ",\"val_loss\":\(MetricsRecord.number(valLoss))" }
        if let gradNorm { s += ",\"grad_norm\":\(MetricsRecord.number(Float(gradNorm)))" }
        return s + "}"
    }

    static func number(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
    static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

    /// Parses a line written by `jsonLine` (a flat JSON object of numbers and nulls); nil if
    /// it is not one. Numbers are parsed from their text with Swift's exact parsers (Foundation's
    /// JSON reader can be off by one ulp for doubles), so losses come back bit for bit.
    public init?(jsonLine line: String) {
        guard let fields = MetricsRecord.flatFields(line), let stepText = fields["step"],
              let step = Int(stepText) else { return nil }
        self.step = step
        self.trainLoss = fields["train_loss"].flatMap { Float($0) } ?? .nan
        self.learningRate = fields["lr"].flatMap { Double($0) } ?? .nan
        self.tokensPerSecond = fields["tokens_per_s"].flatMap { Double($0) } ?? 0
        self.elapsedSeconds = fields["elapsed_s"].flatMap { Double($0) } ?? 0
        self.valLoss = fields["val_loss"].flatMap { Float($0) }
        self.gradNorm = fields["grad_norm"].flatMap { Double($0) }
    }

    /// `{"a":1,"b":null}` → ["a": "1", "b": "null"]; nil unless a flat object of scalars.
    static func flatFields(_ line: String) -> [String: String]? {
        let t = line.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("{"), t.hasSuffix("}") else { return nil }
        var out: [String: String] = [:]
        for part in t.dropFirst().dropLast().split(separator: ",") {
            guard let colon = part.firstIndex(of: ":") else { return nil }
            let key = part[..<colon].trimmingCharacters(in: .whitespaces)
            let value = part[part.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard key.count >= 2, key.hasPrefix("\""), key.hasSuffix("\""), !value.isEmpty else { return nil }
            out[String(key.dropFirst().dropLast())] = value
        }
        return out
    }
}

/// `RUN/metrics.jsonl`: one `MetricsRecord` per logged step, appended as the run goes.
/// On resume, lines after the checkpoint's step are dropped (atomically) before appending.
public final class MetricsLog {
    public static let fileName = "metrics.jsonl"
    public let path: String
    /// Every record of the run so far (for the chart).
    public private(set) var records: [MetricsRecord] = []
    private var handle: FileHandle?

    /// Opens (creating, or truncating to steps ≤ `keepThrough` when resuming) the log at `path`.
    public init(path: String, keepThrough: Int?) throws {
        self.path = path
        if let keep = keepThrough, FileIO.exists(path) {
            records = try MetricsLog.read(path).filter { $0.step <= keep }
            try AtomicFileWriter.write(records.map { $0.jsonLine + "\n" }.joined(), to: path)
        } else {
            try AtomicFileWriter.write("", to: path)
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw LMError.io(file: path, "cannot open for appending", fix: "check permissions of the run directory")
        }
        h.seekToEndOfFile()
        handle = h
    }

    deinit { try? handle?.close() }

    /// Appends one record (one write(2) of one line).
    public func append(_ record: MetricsRecord) throws {
        records.append(record)
        do {
            try handle?.write(contentsOf: Array((record.jsonLine + "\n").utf8))
        } catch {
            throw LMError.io(file: path, "write failed: \(error.localizedDescription)", fix: "check free disk space")
        }
    }

    /// Reads every record of a metrics.jsonl file; malformed lines are an error naming the line.
    public static func read(_ path: String) throws -> [MetricsRecord] {
        let text = try FileIO.readText(path)
        var out: [MetricsRecord] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let r = MetricsRecord(jsonLine: String(line)) else {
                throw LMError.badFormat(file: path, "line \(i + 1) is not a metrics record",
                                        fix: "delete the damaged line or start a new run")
            }
            out.append(r)
        }
        return out
    }
}
