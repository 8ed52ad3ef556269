/// Hand-written scanner for tiktoken's GPT-2 / r50k_base split pattern
/// (`SplitPattern.gpt2Regex`):
///
///     '(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s
///
/// At offset `i` the alternatives are tried in order, as a backtracking engine does:
/// 1. `'` + lower-case `s d m t ll ve re` (only lower case in this pattern);
/// 2-4. an optional U+0020 and then a maximal run of letters, of numbers, or of
///    "punctuation" (neither space, letter nor number) — all possessive, so no backtracking;
/// 5. a white-space run reaching the end of the text;
/// 6. `\s+(?!\S)`: a white-space run followed by a non-space gives back its last character
///    (which then starts the next piece, e.g. `" word"`); needs a run of ≥ 2;
/// 7. one white-space character.
///
///     "I'm  12345 ok" → ["I", "'m", " ", " 12345", " ok"]
extension ClassifiedText {
    /// End offset of the gpt2 piece that starts at `i` (`i < count`); always `> i`.
    @inline(__always) func gpt2PieceEnd(at i: Int) -> Int {
        let b = self[i]
        if b == 0x27, let e = contraction(at: i, caseInsensitive: false) { return e }
        var (c, l) = char(at: i)
        var runStart = i &+ l
        if b == 0x20 && runStart < count {
            let (c2, l2) = char(at: runStart)
            if c2 & CharClass.whitespace == 0 { c = c2; runStart &+= l2 }
        }
        if c & CharClass.letter != 0 { return letterRun(from: runStart) }
        if c & CharClass.numeric != 0 { return run(from: runStart, CharClass.numeric) }
        if c & CharClass.punctuation != 0 { return run(from: runStart, CharClass.punctuation) }
        let ws = whitespaceRun(at: i, len: l)
        if ws.end == count { return count }       // \s++$
        if ws.lastStart > i { return ws.lastStart }  // \s+(?!\S)
        return ws.end                              // \s
    }
}
