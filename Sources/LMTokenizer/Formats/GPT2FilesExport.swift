import LMSupport

/// Writing GPT-2's `encoder.json` + `vocab.bpe` (the reverse of `GPT2Files.read`).
///
/// `encoder.json` maps each token's `ByteLevelMapping` string to its id (ranks, then the special
/// tokens); `vocab.bpe` is `#version: 0.2` and one merge `A B` per rank 256, 257, …, in rank
/// order, each line ending in `\n`. The merge of rank r is the pair of tokens that byte-pair
/// encoding of r's own bytes ends with when only ranks below r may be used (for a vocabulary
/// trained by merging, exactly the merge that created r).
///
/// Requirements (else `LMError.badInput`, nothing written): ranks 0..<256 are the 256 single
/// bytes (in any order), and every longer token is reachable that way, in exactly two parts.
/// GPT-2's own files, `Vocab/gpt2.vocab` and vocabularies from `lmkit vocab train` satisfy both.
/// The files carry no split pattern (readers assume GPT-2's).
///
/// Readers: lmkit and Hugging Face `tokenizers` (`ByteLevelBPETokenizer(vocab, merges)`) take the
/// ids from `encoder.json`; tiktoken's `data_gym_to_mergeable_bpe_ranks` instead assigns ranks
/// 0..<256 to bytes in GPT-2's fixed order and asserts that `encoder.json` agrees, so it loads
/// only vocabularies with GPT-2's byte order (such as GPT-2's).
extension GPT2Files {
    /// The (`encoder.json`, `vocab.bpe`) bytes of `vocab`. O(Σ token length²) rank lookups.
    public static func encode(_ vocab: Vocabulary) throws -> (encoderJSON: [UInt8], vocabBPE: [UInt8]) {
        let tokens = vocab.tokens
        guard tokens.count >= 256, tokens[0..<256].allSatisfy({ $0.count == 1 }),
              Set(tokens[0..<256].map { $0[0] }).count == 256 else {
            throw LMError.badInput("ranks 0..255 of this vocabulary are not the 256 single bytes, which GPT-2's vocab.bpe format requires",
                                   fix: "export --format hf (tokenizer.json) or tiktoken instead")
        }
        let tables = RankTables(tokens: tokens)
        let mapped = tokens.map { ByteLevelMapping.encode($0) }
        var bpe = "#version: 0.2\n"
        for r in 256..<tokens.count {
            guard let (a, b) = lastMerge(of: tokens[r], below: UInt32(r), tables) else {
                throw LMError.badInput("token \(r) (\(HFTokenizerFile.json(mapped[r]))) is not the merge of two lower-ranked tokens, which GPT-2's vocab.bpe format requires",
                                       fix: "export --format hf (tokenizer.json) or tiktoken instead")
            }
            bpe += mapped[Int(a)] + " " + mapped[Int(b)] + "\n"
        }
        var json = "{"
        for (r, s) in mapped.enumerated() { json += (r == 0 ? "" : ", ") + HFTokenizerFile.json(s) + ": \(r)" }
        for s in vocab.specialTokens { json += ", " + HFTokenizerFile.json(s.text) + ": \(s.id)" }
        json += "}"
        return (Array(json.utf8), Array(bpe.utf8))
    }

    /// Writes `encoderJSON` and `vocabBPE` (each atomically; `vocab.bpe` is committed first).
    /// Throws before writing anything if the vocabulary cannot be expressed (see the type).
    public static func write(_ vocab: Vocabulary, encoderJSON: String, vocabBPE: String) throws {
        let (e, b) = try encode(vocab)
        let bw = try AtomicFileWriter(path: vocabBPE), ew = try AtomicFileWriter(path: encoderJSON)
        do {
            try bw.write(b)
            try ew.write(e)
            try bw.commit()
            try ew.commit()
        } catch {
            bw.abort(); ew.abort()
            throw error
        }
    }

    /// `X-vocab.bpe` for `X-encoder.json` (and `vocab.bpe` for `encoder.json`): where
    /// `lmkit vocab import` looks for the merges.
    public static func mergesPath(forEncoder path: String) -> String? {
        guard path.hasSuffix("encoder.json") else { return nil }
        return String(path.dropLast("encoder.json".count)) + "vocab.bpe"
    }

    /// The two parts byte-pair encoding leaves of `token` with ranks < `limit` only, or nil if it
    /// does not end in exactly two parts. Lowest rank first, leftmost on ties (tiktoken's rule).
    static func lastMerge(of token: [UInt8], below limit: UInt32, _ tables: RankTables) -> (UInt32, UInt32)? {
        token.withUnsafeBufferPointer { buf -> (UInt32, UInt32)? in
            let p = buf.baseAddress!
            var starts = Array(0..<token.count)   // part k is token[starts[k] ..< starts[k+1] or end]
            func end(_ k: Int) -> Int { k + 1 < starts.count ? starts[k + 1] : token.count }
            func rank(_ lo: Int, _ hi: Int) -> UInt32 {
                let r = tables.rank(of: p + lo, hi - lo)
                return r < limit ? r : RankTables.none
            }
            while starts.count > 2 {
                var best = RankTables.none, at = -1
                for k in 0..<(starts.count - 1) {
                    let r = rank(starts[k], end(k + 1))
                    if r < best { best = r; at = k }
                }
                if at < 0 { return nil }
                starts.remove(at: at + 1)
            }
            guard starts.count == 2 else { return nil }
            let a = rank(0, starts[1]), b = rank(starts[1], token.count)
            return a == RankTables.none || b == RankTables.none ? nil : (a, b)
        }
    }
}
