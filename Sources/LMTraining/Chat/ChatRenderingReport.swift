import Foundation
import LMSupport
import LMTokenizer

/// `lmkit tokenize --chat FILE`: every conversation of an SFT file rendered with the chat
/// template, the loss mask made visible.
///
/// Pretty output, per record: a header (location, tokens, trained tokens), the text with the
/// trained stretches (mask 1) between ⟦ ⟧ (or in green on a terminal), then the ids and the mask
/// in aligned columns:
///
///     line 1: 9 tokens, 3 trained (mask 1)
///       <|bos|><|user|>Hi<|end|><|assistant|>⟦Yo<|end|>⟧
///       id   257 259 72 105 261 260 89 111 261
///       mask   0   0  0   0   0   0  1   1   1
///
/// JSON output: one object per line, `{"location", "ids", "mask", "trained"}`.
public struct ChatRenderingReport {
    public var dataPath: String
    public var json = false
    public var color = false
    public init(dataPath: String) { self.dataPath = dataPath }

    public func run(with tokenizer: BPETokenizer, vocabFile: String) throws -> String {
        let template = try ChatTemplate(tokenizer: tokenizer, file: vocabFile)
        var out = ""
        for r in try SFTData.load(dataPath) {
            let c = template.render(r.messages)
            if json {
                let obj: [String: Any] = ["location": r.location, "ids": c.ids.map { Int($0) }, "mask": c.mask.map { Int($0) }, "trained": c.trainedCount]
                out += String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self) + "\n"
                continue
            }
            out += "\(r.location): \(c.ids.count) tokens, \(c.trainedCount) trained (mask 1)\n  "
            var inside = false
            var bytes: [UInt8] = []
            func flush() { out += String(decoding: bytes, as: UTF8.self); bytes = [] }
            for (id, m) in zip(c.ids, c.mask) {
                if (m == 1) != inside {
                    flush()
                    out += m == 1 ? (color ? "\u{1B}[32m" : "⟦") : (color ? "\u{1B}[0m" : "⟧")
                    inside = m == 1
                }
                bytes += (try? tokenizer.decode([id])) ?? []
            }
            flush()
            if inside { out += color ? "\u{1B}[0m" : "⟧" }
            var idLine = "  id  ", maskLine = "  mask"
            for (id, m) in zip(c.ids, c.mask) {
                let w = max(String(id).count, 1) + 1
                idLine += String(repeating: " ", count: w - String(id).count) + String(id)
                maskLine += String(repeating: " ", count: w - 1) + String(m)
            }
            out += "\n" + idLine + "\n" + maskLine + "\n"
        }
        return out
    }
}
