import Foundation
import LMSupport

/// How `lmkit tokenize` shows a tokenization.
public enum TokenizeOutputFormat: String, CaseIterable, Sendable {
    /// Pieces with alternating colours (terminal) or brackets, ids, and a summary.
    case pretty
    /// Whitespace-separated decimal ids only.
    case ids
    /// `{"ids": [...], "tokens": [{"id", "text"|"hex"}], "bytes", "bytes_per_token"}`.
    case json
}

/// Parameters of `lmkit tokenize`: the text, the special-token policy, the output format.
public struct TokenizeRequest: Sendable {
    /// UTF-8 text to encode.
    public var text: [UInt8]
    public var allowedSpecial: SpecialTokenSet
    public var disallowedSpecial: DisallowedSpecialPolicy
    public var format: TokenizeOutputFormat
    /// Use ANSI background colours in `pretty` (the CLI sets it when stdout is a terminal).
    public var color: Bool

    public init(text: [UInt8], allowedSpecial: SpecialTokenSet = .none,
                disallowedSpecial: DisallowedSpecialPolicy = .error, format: TokenizeOutputFormat = .pretty,
                color: Bool = false) {
        self.text = text; self.allowedSpecial = allowedSpecial; self.disallowedSpecial = disallowedSpecial
        self.format = format; self.color = color
    }

    /// With a field name: `text` is JSON Lines, and the string field of every record is
    /// tokenized on its own (in parallel); `ids` prints one line per record, `json` one object per
    /// line, `pretty` one block per record. A line that is a bare JSON string is taken as is.
    public var jsonlField: String?
    /// Threads for JSON Lines input.
    public var threads: Int = Threads.available
    /// File name for error messages.
    public var source: String = "input"

    /// Encodes and renders. Throws `LMError` for a disallowed special token or a bad JSONL record.
    public func run(with tokenizer: BPETokenizer) throws -> [UInt8] {
        if let field = jsonlField { return try runRecords(field: field, with: tokenizer) }
        var ids: [UInt32] = []
        ids.reserveCapacity(text.count / 3 + 16)
        do {
            try text.withUnsafeBytes {
                try tokenizer.encode($0, validUTF8: false, allowedSpecial: allowedSpecial,
                                     disallowedSpecial: disallowedSpecial, appendingTo: &ids)
            }
        } catch let e as LMError {
            throw LMError(e.kind, file: e.file ?? source, e.message, fix: e.fix)
        }
        switch format {
        case .ids: return TokenRendering.ids(ids)
        case .json: return Array(TokenRendering.json(ids, tokenizer: tokenizer, byteCount: text.count).utf8)
        case .pretty: return Array(TokenRendering.pretty(ids, tokenizer: tokenizer, byteCount: text.count, color: color).utf8)
        }
    }
}

extension TokenizeRequest {
    private func runRecords(field: String, with tokenizer: BPETokenizer) throws -> [UInt8] {
        var texts: [String] = []
        for (i, line) in text.split(separator: UInt8(ascii: "\n")).enumerated() {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            let obj: Any
            do { obj = try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed]) } catch {
                throw LMError.badInput(file: source, "line \(i + 1) is not valid JSON", fix: "pass JSON Lines (one object per line)")
            }
            if let s = obj as? String { texts.append(s); continue }
            guard let o = obj as? [String: Any], let s = o[field] as? String else {
                throw LMError.badInput(file: source, "line \(i + 1): no string field \"\(field)\"",
                                       fix: "pass --jsonl with the field that holds the text")
            }
            texts.append(s)
        }
        let slots = ResultSlots<Result<[UInt32], LMError>>(count: texts.count)
        let (allowed, disallowed, src, records) = (allowedSpecial, disallowedSpecial, source, texts)
        Parallel.forEach(texts.count, threads: threads) { i in
            do { slots[i] = .success(try tokenizer.encode(records[i], allowedSpecial: allowed, disallowedSpecial: disallowed)) }
            catch let e as LMError {
                slots[i] = .failure(LMError(e.kind, file: src, "record \(i + 1): \(e.message)", fix: e.fix))
            } catch { slots[i] = .failure(LMError.badInput(file: src, "record \(i + 1): \(error)")) }
        }
        let all = try slots.values.map { try $0.get() }
        var out: [UInt8] = []
        for (k, ids) in all.enumerated() {
            let n = texts[k].utf8.count
            switch format {
            case .ids: out += TokenRendering.ids(ids)
            case .json: out += Array(TokenRendering.json(ids, tokenizer: tokenizer, byteCount: n).utf8)
            case .pretty:
                out += Array("── record \(k + 1)\n".utf8)
                out += Array(TokenRendering.pretty(ids, tokenizer: tokenizer, byteCount: n, color: color).utf8)
            }
        }
        return out
    }
}

/// Text renderings of token ids.
public enum TokenRendering {
    /// `"1 2 3\n"`; empty input gives `"\n"`. O(n), no per-id String.
    public static func ids(_ ids: [UInt32]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(ids.count * 6 + 1)
        var digits = [UInt8](repeating: 0, count: 10)
        for (i, var v) in ids.enumerated() {
            if i > 0 { out.append(UInt8(ascii: " ")) }
            var n = 0
            repeat { digits[n] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10; n += 1 } while v > 0
            while n > 0 { n -= 1; out.append(digits[n]) }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// A token's bytes made readable: space `·`, newline `↵`, tab `→`, CR `␍`, other control
    /// bytes and bytes of incomplete UTF-8 as `\xNN`.
    public static func visible(_ bytes: [UInt8]) -> String {
        var s = ""
        var i = 0
        while i < bytes.count {
            let rest = Array(bytes[i...])
            let bad = UTF8Validation.firstInvalidOffset(rest) ?? rest.count
            for u in String(decoding: rest[0..<bad], as: UTF8.self).unicodeScalars {
                switch u {
                case " ": s += "·"
                case "\n": s += "↵"
                case "\t": s += "→"
                case "\r": s += "␍"
                default:
                    if u.value < 0x20 || u.value == 0x7F { s += String(format: "\\x%02x", u.value) } else { s.unicodeScalars.append(u) }
                }
            }
            i += bad
            if i < bytes.count { s += String(format: "\\x%02x", bytes[i]); i += 1 }
        }
        return s
    }

    /// Pieces (alternating background colours with `color`, `[brackets]` otherwise; a newline
    /// inside a piece also breaks the line), then the ids, then
    /// `N tokens, B bytes, X bytes/token`.
    public static func pretty(_ ids: [UInt32], tokenizer: BPETokenizer, byteCount: Int, color: Bool) -> String {
        let backgrounds = ["\u{1B}[48;5;153m\u{1B}[30m", "\u{1B}[48;5;222m\u{1B}[30m", "\u{1B}[48;5;157m\u{1B}[30m",
                           "\u{1B}[48;5;217m\u{1B}[30m"]
        let reset = "\u{1B}[0m"
        var s = ""
        for (k, id) in ids.enumerated() {
            let bytes = tokenizer.tokenBytes(id) ?? []
            var v = visible(bytes)
            if tokenizer.isSpecial(id) { v = String(decoding: bytes, as: UTF8.self) }
            let breaks = bytes.last == UInt8(ascii: "\n")
            if color { s += backgrounds[k % backgrounds.count] + v + reset } else { s += "[" + v + "]" }
            if breaks { s += "\n" }
        }
        if !s.hasSuffix("\n") { s += "\n" }
        s += "ids: " + String(decoding: TokenRendering.ids(ids), as: UTF8.self)
        let ratio = ids.isEmpty ? 0 : Double(byteCount) / Double(ids.count)
        s += "\(ids.count) tokens, \(byteCount) bytes, \(String(format: "%.3f", ratio)) bytes/token\n"
        return s
    }

    /// JSON object with ids and pieces (`text` when the piece is valid UTF-8, else `hex`).
    public static func json(_ ids: [UInt32], tokenizer: BPETokenizer, byteCount: Int) -> String {
        var s = "{\"ids\": ["
        s += ids.map(String.init).joined(separator: ", ")
        s += "], \"tokens\": ["
        for (k, id) in ids.enumerated() {
            if k > 0 { s += ", " }
            let bytes = tokenizer.tokenBytes(id) ?? []
            if let t = String(validating: bytes, as: UTF8.self) {
                s += "{\"id\": \(id), \"text\": \(HFTokenizerFile.json(t))}"
            } else {
                s += "{\"id\": \(id), \"hex\": \"\(bytes.map { String(format: "%02x", $0) }.joined())\"}"
            }
        }
        let ratio = ids.isEmpty ? 0 : Double(byteCount) / Double(ids.count)
        s += "], \"bytes\": \(byteCount), \"bytes_per_token\": \(String(format: "%.4f", ratio))}\n"
        return s
    }
}

/// Parameters of `lmkit detokenize`: ids as text (decimal, separated by whitespace, commas or
/// brackets, so `ids` and JSON-array output both parse) → exact bytes.
public struct DetokenizeRequest: Sendable {
    public var idText: [UInt8]
    /// Where the ids came from, for error messages.
    public var source: String

    public init(idText: [UInt8], source: String = "stdin") { self.idText = idText; self.source = source }

    /// Parses the ids. Throws `LMError.badInput` naming the first thing that is not an id.
    public func parseIDs() throws -> [UInt32] {
        var ids: [UInt32] = []
        var cur: UInt64 = 0, inNumber = false, digits = 0
        var tokenStart = 0
        for (i, b) in idText.enumerated() {
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                if !inNumber { tokenStart = i }
                inNumber = true
                cur = cur * 10 + UInt64(b - UInt8(ascii: "0")); digits += 1
                if digits > 10 || cur > UInt64(UInt32.max) {
                    throw LMError.badInput(file: source, "id starting at byte \(tokenStart) is too large", fix: "pass token ids")
                }
            } else if b == UInt8(ascii: " ") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r")
                        || b == UInt8(ascii: ",") || b == UInt8(ascii: "[") || b == UInt8(ascii: "]") {
                if inNumber { ids.append(UInt32(cur)) }
                inNumber = false; cur = 0; digits = 0
            } else {
                let end = idText[i...].firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") } ?? idText.count
                let word = String(decoding: idText[(inNumber ? tokenStart : i)..<end], as: UTF8.self)
                throw LMError.badInput(file: source, "\"\(word.prefix(40))\" at byte \(inNumber ? tokenStart : i) is not a token id",
                                       fix: "pass decimal ids separated by spaces (as `lmkit tokenize --format ids` prints)")
            }
        }
        if inNumber { ids.append(UInt32(cur)) }
        return ids
    }

    /// The exact bytes of the ids. Throws `LMError` for text that is not ids or an unknown id.
    public func run(with tokenizer: BPETokenizer) throws -> [UInt8] {
        let ids = try parseIDs()
        do { return try tokenizer.decode(ids) } catch let e as LMError {
            throw LMError(e.kind, file: source, e.message, fix: e.fix)
        }
    }
}
