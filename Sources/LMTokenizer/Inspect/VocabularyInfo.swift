import Foundation

/// A summary of a vocabulary for `lmkit vocab info`: counts, token lengths, specials, fingerprint.
public struct VocabularyInfo: Sendable, Codable {
    public var pattern: String
    public var ranks: Int
    public var idLimit: Int
    public var specialTokens: [SpecialToken]
    public var fingerprint: String
    /// Longest token in bytes.
    public var maxTokenBytes: Int
    /// Mean token length in bytes over the ranks.
    public var meanTokenBytes: Double
    /// Tokens that are valid UTF-8 on their own.
    public var utf8Tokens: Int

    public init(_ v: Vocabulary) {
        pattern = v.pattern.name
        ranks = v.tokens.count
        idLimit = v.idLimit
        specialTokens = v.specialTokens
        fingerprint = v.fingerprint
        maxTokenBytes = v.tokens.map(\.count).max() ?? 0
        meanTokenBytes = Double(v.tokens.reduce(0) { $0 + $1.count }) / Double(max(1, v.tokens.count))
        utf8Tokens = v.tokens.filter { String(validating: $0, as: UTF8.self) != nil }.count
    }

    /// Human-readable lines.
    public var text: String {
        var s = "pattern      \(pattern.count > 12 ? "custom: " + pattern : pattern)\n"
        s += "ranks        \(ranks) (ids 0..<\(ranks))\n"
        s += "specials     \(specialTokens.isEmpty ? "none" : specialTokens.map { "\($0.text)=\($0.id)" }.joined(separator: " "))\n"
        s += "id limit     \(idLimit) (embedding rows needed)\n"
        s += "token bytes  max \(maxTokenBytes), mean \(String(format: "%.2f", meanTokenBytes)); \(utf8Tokens) of \(ranks) are valid UTF-8 alone\n"
        s += "fingerprint  \(fingerprint)\n"
        return s
    }

    /// One JSON object (sorted keys) and a newline.
    public var json: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }
}
