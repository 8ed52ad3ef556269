/// Hand-written scanner for tiktoken's o200k_base (GPT-4o) split pattern
/// (`SplitPattern.o200kRegex`), whose quantifiers are *not* possessive:
///
///     [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
///     |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
///     |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// Write U = `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`, W = `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` (both contain
/// `Lm Lo M`, "caseless"), P = the optional prefix, C = the optional contraction. The two word
/// alternatives are resolved as the backtracking engine resolves them, for a start `j` (after P
/// if P can be taken, then — only if that fails — without P):
/// - `P? U* W+ C?`: take the maximal U run `j..<k`. If the character at `k` is in W (then it is
///   `Ll`), W+ takes the maximal W run from `k`. Otherwise U* backs off to the *last caseless*
///   character of the run, which alone becomes W+ (so `"ABCא D"`-style runs may end early);
///   with no caseless character the alternative fails.
/// - `P? U+ W* C?` (only when the first fails for both starts): a non-empty U run, then W*.
/// Then `\p{N}{1,3}`; ` ?` + punctuation run + `[\r\n/]*`; `\s*[\r\n]+` (up to the last CR/LF of
/// a white-space run); `\s+(?!\S)`; `\s+` (one character there). There is no `\s++$`: a trailing
/// `" \n "` gives `" \n"`, `" "` here but one piece in cl100k.
///
///     "HELLOworld don't" → ["HELLOworld", " don't"];  "camelCase" → ["camel", "Case"]
extension ClassifiedText {
    /// End offset of the o200k piece that starts at `i` (`i < count`); always `> i`.
    @inline(__always) func o200kPieceEnd(at i: Int) -> Int {
        let b = self[i]
        let (c, l) = char(at: i)
        if c & (CharClass.wordPrefix | CharClass.letter) != 0, let e = o200kWordEnd(at: i, c, l) {
            return e
        }
        if c & CharClass.numeric != 0 { return upToThreeDigits(at: i, len: l) }
        let next = i &+ l
        if b == 0x20 && next < count {
            let (c2, l2) = char(at: next)
            if c2 & CharClass.punctuation != 0 {
                return lineBreakRun(from: run(from: next &+ l2, CharClass.punctuation), slash: true)
            }
        }
        if c & CharClass.punctuation != 0 {
            return lineBreakRun(from: run(from: next, CharClass.punctuation), slash: true)
        }
        let ws = whitespaceRun(at: i, len: l)
        if ws.newlineEnd >= 0 { return ws.newlineEnd }            // \s*[\r\n]+
        if ws.end == count || ws.lastStart == i { return ws.end }  // \s+(?!\S) at end, or \s+
        return ws.lastStart                                       // \s+(?!\S)
    }

    /// The two word alternatives (with their contraction) at `i`, whose character has class `c`
    /// and length `l`; nil when neither matches.
    @inline(__always) private func o200kWordEnd(at i: Int, _ c: UInt8, _ l: Int) -> Int? {
        let prefixed = c & CharClass.wordPrefix != 0
        let next = i &+ l
        if prefixed, let e = o200kUpperThenLower(from: next) { return o200kContraction(at: e) }
        if c & CharClass.o200kUpper != 0 || c & CharClass.o200kLower != 0,
           let e = o200kUpperThenLower(from: i) { return o200kContraction(at: e) }
        if prefixed, let e = o200kUpperRun(from: next) { return o200kContraction(at: e) }
        if c & CharClass.o200kUpper != 0, let e = o200kUpperRun(from: i) { return o200kContraction(at: e) }
        return nil
    }

    /// `U* W+` from `j` with backtracking priority (see the type comment), or nil.
    @inline(__always) private func o200kUpperThenLower(from j: Int) -> Int? {
        var k = j
        var lastCaselessEnd = -1
        while k < count {
            let (c, l) = char(at: k)
            if c & CharClass.o200kUpper == 0 {
                if c & CharClass.o200kLower != 0 { return run(from: k &+ l, CharClass.o200kLower) }
                break
            }
            k &+= l
            if c & CharClass.o200kBoth != 0 { lastCaselessEnd = k }
        }
        return lastCaselessEnd >= 0 ? lastCaselessEnd : nil
    }

    /// `U+ W*` from `j`, or nil when no U character is at `j`.
    @inline(__always) private func o200kUpperRun(from j: Int) -> Int? {
        let k = run(from: j, CharClass.o200kUpper)
        return k > j ? run(from: k, CharClass.o200kLower) : nil
    }

    /// `e`, or the end of a case-insensitive contraction `'s 't 're 've 'm 'll 'd` at `e`.
    @inline(__always) private func o200kContraction(at e: Int) -> Int {
        if e < count && self[e] == 0x27, let end = contraction(at: e, caseInsensitive: true) { return end }
        return e
    }
}
