import Foundation
import LMSupport

/// One human preference: the same conversation ending in a better (`chosen`) and a worse
/// (`rejected`) answer, as full texts.
public struct PreferencePair: Sendable, Equatable {
    public var chosen: String
    public var rejected: String
    /// "line 12", 1-based (for error messages).
    public var location: String
    public init(chosen: String, rejected: String, location: String) {
        self.chosen = chosen; self.rejected = rejected; self.location = location
    }
}

/// Reads preference data: JSON Lines, one record per line (blank lines skipped), each
/// `{"chosen": "...", "rejected": "..."}` — Anthropic HH-RLHF's format, where both are whole
/// dialogues `"\n\nHuman: …\n\nAssistant: …"` differing in the last turn — or
/// `{"prompt": "...", "chosen": "...", "rejected": "..."}`, where the prompt is prepended to
/// both answers. Other fields are ignored. A bad record throws one `LMError.badInput` naming the
/// file, the line and the field.
public enum PreferenceData {
    /// All pairs of `path`.
    public static func load(_ path: String) throws -> [PreferencePair] {
        guard FileIO.exists(path) else {
            throw LMError.io(file: path, "no such file", fix: "pass a JSONL file of {\"chosen\", \"rejected\"} records")
        }
        let bytes = try FileIO.readBytes(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let off = UTF8Validation.firstInvalidOffset(bytes) ?? 0
            throw LMError.badInput(file: path, "invalid UTF-8 at byte offset \(off)", fix: "save the data as UTF-8")
        }
        let pairs = try parse(text, file: path)
        if pairs.isEmpty {
            throw LMError.badInput(file: path, "holds no preference records", fix: "write one {\"chosen\", \"rejected\"} object per line")
        }
        return pairs
    }

    /// Parses the text of a JSONL file; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> [PreferencePair] {
        var out: [PreferencePair] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            let location = "line \(lineNumber)"
            let any: Any
            do { any = try JSONSerialization.jsonObject(with: Data(line.utf8)) } catch {
                throw LMError.badInput(file: file, "\(location): not valid JSON (\(SFTData.shortReason(error)))",
                                       fix: "write one JSON object per line")
            }
            guard let obj = any as? [String: Any] else {
                throw LMError.badInput(file: file, "\(location): not a JSON object", fix: "write one {\"chosen\", \"rejected\"} object per line")
            }
            func field(_ key: String) throws -> String {
                guard let v = obj[key] else {
                    throw LMError.badInput(file: file, "\(location): field \"\(key)\" is missing",
                                           fix: "each record needs \"chosen\" and \"rejected\" strings")
                }
                guard let s = v as? String else {
                    throw LMError.badInput(file: file, "\(location): field \"\(key)\" is not a string", fix: "make it a JSON string")
                }
                return s
            }
            let prompt = obj["prompt"] == nil ? "" : try field("prompt")
            let chosen = try field("chosen"), rejected = try field("rejected")
            out.append(PreferencePair(chosen: prompt + chosen, rejected: prompt + rejected, location: location))
        }
        return out
    }

    /// Deterministic split: a pair goes to validation when the FNV-1a 64 hash of its two texts
    /// (with `seed`) falls in the lowest `valFraction` of the range (independent of file order).
    public static func isValidation(_ pair: PreferencePair, valFraction: Double, seed: UInt64) -> Bool {
        if valFraction <= 0 { return false }
        var h = FNV1a64()
        h.update(integer: seed)
        for s in [pair.chosen, pair.rejected] { h.update(integer: UInt32(s.utf8.count)); h.update(Array(s.utf8)) }
        return SFTData.isHeldOut(hash: h.value, valFraction: valFraction)
    }
}
