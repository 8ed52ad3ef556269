/// Hand-written scanner for tiktoken's cl100k_base (GPT-4) split pattern
/// (`SplitPattern.cl100kRegex`):
///
///     '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|
///      ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
///
/// At offset `i` the alternatives are tried in order, as a backtracking engine does:
/// 1. `'` + case-insensitive `s d m t ll ve re` (`'S`, `'Ll`, and `'ſ` via case folding);
/// 2. a word: a maximal letter run, optionally preceded by one character that is not CR, LF, a
///    letter or a number (a space, a tab, punctuation, a combining mark, …); the prefix is
///    possessive, but when it is taken no letter follows, a letter-less start fails anyway;
/// 3. one to three numbers (`"12345"` → `"123"`, `"45"`);
/// 4. an optional U+0020, a maximal punctuation run, then any CR/LF run;
/// 5. a white-space run reaching the end of the text;
/// 6. `\s*[\r\n]`: a white-space run up to and including its last CR/LF;
/// 7. `\s+(?!\S)`: a white-space run before a non-space gives back its last character;
/// 8. one white-space character.
///
///     "I'm 12345 ok" → ["I", "'m", " ", "123", "45", " ok"]
extension ClassifiedText {
    /// End offset of the cl100k piece that starts at `i` (`i < count`); always `> i`.
    @inline(__always) func cl100kPieceEnd(at i: Int) -> Int {
        let b = self[i]
        if b == 0x27, let e = contraction(at: i, caseInsensitive: true) { return e }
        let (c, l) = char(at: i)
        let next = i &+ l
        if c & CharClass.letter != 0 { return letterRun(from: next) }
        if c & CharClass.wordPrefix != 0 && next < count {
            let (c2, l2) = char(at: next)
            if c2 & CharClass.letter != 0 { return letterRun(from: next &+ l2) }
        }
        if c & CharClass.numeric != 0 { return upToThreeDigits(at: i, len: l) }
        if b == 0x20 && next < count {
            let (c2, l2) = char(at: next)
            if c2 & CharClass.punctuation != 0 {
                return lineBreakRun(from: run(from: next &+ l2, CharClass.punctuation), slash: false)
            }
        }
        if c & CharClass.punctuation != 0 {
            return lineBreakRun(from: run(from: next, CharClass.punctuation), slash: false)
        }
        let ws = whitespaceRun(at: i, len: l)
        if ws.end == count { return count }                // \s++$
        if ws.newlineEnd >= 0 { return ws.newlineEnd }     // \s*[\r\n]
        if ws.lastStart > i { return ws.lastStart }        // \s+(?!\S)
        return ws.end                                      // \s
    }
}
