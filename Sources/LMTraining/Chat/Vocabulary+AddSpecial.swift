import LMSupport
import LMTokenizer

extension Vocabulary {
    /// This vocabulary with `texts` added as special tokens, without changing any existing id:
    /// every rank and every existing special keeps its id; each new token gets the next free id
    /// from `idLimit` upward, in the order given. Texts that already are special tokens are kept
    /// where they are (not added twice). Throws `LMError.badInput` for an empty or repeated text.
    ///
    ///     bytes.vocab: 256 byte ranks + <|endoftext|> = 256
    ///     adding(specialTokens: ChatTemplate.specialTokens)
    ///       ⇒ <|bos|> 257, <|system|> 258, <|user|> 259, <|assistant|> 260, <|end|> 261
    public func adding(specialTokens texts: [String]) throws -> (vocabulary: Vocabulary, added: [SpecialToken]) {
        var seen = Set<String>()
        var next = idLimit
        var added: [SpecialToken] = []
        for t in texts {
            if t.isEmpty { throw LMError.badInput("a special token cannot be empty", fix: "pass non-empty token texts") }
            if !seen.insert(t).inserted { throw LMError.badInput("special token \(t) is given twice", fix: "name each token once") }
            if specialID(t) != nil { continue }
            added.append(SpecialToken(t, id: next))
            next += 1
        }
        let v = try Vocabulary(pattern: pattern, tokens: tokens, specialTokens: specialTokens + added)
        return (v, added)
    }

    /// True when `self` keeps every id of `base`: the same pattern and ranks, and each of base's
    /// special tokens with the same id (more special tokens may follow).
    public func extends(_ base: Vocabulary) -> Bool {
        guard pattern == base.pattern, tokens == base.tokens else { return false }
        return base.specialTokens.allSatisfy { specialID($0.text) == $0.id }
    }
}
