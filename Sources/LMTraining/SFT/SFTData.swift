import Foundation
import LMSupport

/// One training conversation and where it came from (for error messages).
public struct SFTRecord: Sendable, Equatable {
    public var messages: [ChatMessage]
    /// "line 12" (JSONL) or "record 12" (JSON array), 1-based.
    public var location: String
    public init(messages: [ChatMessage], location: String) { self.messages = messages; self.location = location }
}

/// Reads supervised fine-tuning data.
///
/// Accepted, detected per record:
/// - chat format `{"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}`
///   (at least one assistant message; other fields are ignored);
/// - Alpaca records `{"instruction": "...", "input": "...", "output": "..."}` (`input` optional or
///   ""), which become user = instruction (+ "\n\n" + input when non-empty), assistant = output.
///
/// Files are JSON Lines (one record per line; blank lines skipped) or, when the first non-blank
/// character is `[`, one JSON array of records. A bad record throws one `LMError.badInput` naming
/// the file, the line (JSONL) or record index (array), and the field.
public enum SFTData {
    /// All records of `path`; with `requireAssistant` false, records without an assistant
    /// message are accepted too (prompts).
    public static func load(_ path: String, requireAssistant: Bool = true) throws -> [SFTRecord] {
        let bytes = try FileIO.readBytes(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let off = UTF8Validation.firstInvalidOffset(bytes) ?? 0
            throw LMError.badInput(file: path, "invalid UTF-8 at byte offset \(off)", fix: "save the data as UTF-8")
        }
        return try parse(text, file: path, requireAssistant: requireAssistant)
    }

    /// Parses the text of a data file; `file` names it in errors.
    public static func parse(_ text: String, file: String, requireAssistant: Bool = true) throws -> [SFTRecord] {
        let firstChar = text.unicodeScalars.first { !CharacterSet.whitespacesAndNewlines.contains($0) }
        var out: [SFTRecord] = []
        if firstChar == "[" {
            let any: Any
            do { any = try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
                throw LMError.badInput(file: file, "not valid JSON (\(shortReason(error)))", fix: "fix the JSON array, or write one record per line (JSONL)")
            }
            guard let array = any as? [Any] else {
                throw LMError.badInput(file: file, "the top level is not an array of records", fix: "write a JSON array of records or JSONL")
            }
            for (i, r) in array.enumerated() {
                out.append(try record(r, location: "record \(i + 1)", file: file, requireAssistant: requireAssistant))
            }
        } else {
            var lineNumber = 0
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                lineNumber += 1
                if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
                let any: Any
                do { any = try JSONSerialization.jsonObject(with: Data(line.utf8)) } catch {
                    throw LMError.badInput(file: file, "line \(lineNumber): not valid JSON (\(shortReason(error)))",
                                           fix: "write one JSON object per line")
                }
                out.append(try record(any, location: "line \(lineNumber)", file: file, requireAssistant: requireAssistant))
            }
        }
        if out.isEmpty { throw LMError.badInput(file: file, "holds no records", fix: "pass a JSONL or JSON file with conversations") }
        return out
    }

    static func record(_ any: Any, location: String, file: String, requireAssistant: Bool = true) throws -> SFTRecord {
        func bad(_ what: String, _ fix: String) -> LMError { LMError.badInput(file: file, "\(location): \(what)", fix: fix) }
        guard let obj = any as? [String: Any] else {
            throw bad("not a JSON object", "each record is {\"messages\": [...]} or {\"instruction\", \"input\", \"output\"}")
        }
        if let raw = obj["messages"] {
            guard let list = raw as? [Any], !list.isEmpty else { throw bad("field \"messages\" is not a non-empty array", "give a list of {\"role\", \"content\"}") }
            var messages: [ChatMessage] = []
            for (i, m) in list.enumerated() {
                let field = "messages[\(i)]"
                guard let o = m as? [String: Any] else { throw bad("field \"\(field)\" is not an object", "write {\"role\": ..., \"content\": ...}") }
                guard let roleText = o["role"] as? String else { throw bad("field \"\(field).role\" is missing or not a string", "use system, user or assistant") }
                guard let role = ChatRole(rawValue: roleText) else {
                    throw bad("field \"\(field).role\" is \"\(roleText)\", an unknown role", "use system, user or assistant")
                }
                guard let content = o["content"] as? String else { throw bad("field \"\(field).content\" is missing or not a string", "give the message text as a string") }
                messages.append(ChatMessage(role, content))
            }
            guard !requireAssistant || messages.contains(where: { $0.role == .assistant }) else {
                throw bad("field \"messages\" has no assistant message, so nothing would be trained", "add the assistant's reply")
            }
            return SFTRecord(messages: messages, location: location)
        }
        if obj["instruction"] != nil || obj["output"] != nil {
            guard let instruction = obj["instruction"] as? String else { throw bad("field \"instruction\" is missing or not a string", "give the task as a string") }
            guard let output = obj["output"] as? String else { throw bad("field \"output\" is missing or not a string", "give the answer as a string") }
            var input = ""
            if let raw = obj["input"], !(raw is NSNull) {
                guard let s = raw as? String else { throw bad("field \"input\" is not a string", "give the input as a string or \"\"") }
                input = s
            }
            let user = input.isEmpty ? instruction : instruction + "\n\n" + input
            return SFTRecord(messages: [ChatMessage(.user, user), ChatMessage(.assistant, output)], location: location)
        }
        throw bad("has neither \"messages\" nor \"instruction\"/\"output\"", "use the chat format or Alpaca records")
    }

    static func shortReason(_ error: Error) -> String {
        let s = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        return String(s.prefix(120))
    }

    /// Deterministic split: a record goes to validation when the FNV-1a 64 hash of its messages
    /// (with `seed`) falls in the lowest `valFraction` of the range. Independent of record order,
    /// so adding records never moves an existing one between splits.
    public static func isValidation(_ messages: [ChatMessage], valFraction: Double, seed: UInt64) -> Bool {
        if valFraction <= 0 { return false }
        var h = FNV1a64()
        h.update(integer: seed)
        for m in messages {
            h.update(Array(m.role.rawValue.utf8)); h.update(integer: UInt32(m.content.utf8.count)); h.update(Array(m.content.utf8))
        }
        return isHeldOut(hash: h.value, valFraction: valFraction)
    }

    /// True when a 64-bit content hash falls in the lowest `valFraction` of its range (the
    /// held-out rule of every split by content: SFT conversations, preference pairs).
    static func isHeldOut(hash: UInt64, valFraction: Double) -> Bool {
        Double(hash >> 11) / 9_007_199_254_740_992.0 < valFraction
    }
}
