import Testing
@testable import LMTokenizer

/// Hand-worked splits of the fast scanners: each expectation was derived by walking the regex
/// alternatives by hand (and agrees with Python `regex`). The comments name the rule shown.
@Suite struct PreTokenizerHandWorkedTests {
    @Test func gpt2() throws {
        let pre = try PreTokenizer(pattern: .gpt2)
        // `\s+(?!\S)` leaves the last space of a run to prefix the number.
        #expect(pre.pieces("I'm  12345 ok") == ["I", "'m", " ", " 12345", " ok"])
        #expect(pre.pieces("Hello world!!") == ["Hello", " world", "!!"])
        // Contractions are lower-case only in gpt2.
        #expect(pre.pieces("DON'T 'sand") == ["DON", "'", "T", " '", "sand"])
        // A run of white space before a letter gives all but its last character, which is
        // then a lone `\s` because gpt2's optional prefix is U+0020 only.
        #expect(pre.pieces("a \n\nb") == ["a", " \n", "\n", "b"])
        #expect(pre.pieces("  x") == [" ", " x"])
        #expect(pre.pieces("tab\tx") == ["tab", "\t", "x"])
        #expect(pre.pieces("end  ") == ["end", "  "])  // `\s++$`
        #expect(pre.pieces("x 'll") == ["x", " '", "ll"])
    }

    @Test func cl100k() throws {
        let pre = try PreTokenizer(pattern: .cl100k)
        #expect(pre.pieces("I'm 12345 ok") == ["I", "'m", " ", "123", "45", " ok"])
        // Case-insensitive contractions; the contraction alternative comes before words.
        #expect(pre.pieces("DON'T 'sand") == ["DON", "'T", " '", "sand"])
        #expect(pre.pieces("x's'S'\u{017F}") == ["x", "'s", "'S", "'\u{017F}"])
        // `\s*[\r\n]` takes white space up to its last newline.
        #expect(pre.pieces("a  \n\nb") == ["a", "  \n\n", "b"])
        // Punctuation takes trailing newlines.
        #expect(pre.pieces("!!!\n\nabc") == ["!!!\n\n", "abc"])
        // Any non-letter/number/newline character prefixes a word: `(`, NBSP, U+2028.
        #expect(pre.pieces("(word  x") == ["(word", " ", " x"])
        #expect(pre.pieces("\u{00A0}word \u{2028}x") == ["\u{00A0}word", " ", "\u{2028}x"])
        #expect(pre.pieces("a \n ") == ["a", " \n "])  // `\s++$`
        // A combining mark is not a letter: it splits the word and prefixes the next letters.
        #expect(pre.pieces("e\u{0301}x") == ["e", "\u{0301}x"])
    }

    @Test func o200k() throws {
        let pre = try PreTokenizer(pattern: .o200k)
        #expect(pre.pieces("HELLOworld don't") == ["HELLOworld", " don't"])
        #expect(pre.pieces("camelCase") == ["camel", "Case"])
        #expect(pre.pieces("HELLO'S x") == ["HELLO'S", " x"])
        // No `\s++$`: `\s*[\r\n]+` first, then the last space.
        #expect(pre.pieces("a \n ") == ["a", " \n", " "])
        #expect(pre.pieces("x/\n/y") == ["x", "/\n/", "y"])
        #expect(pre.pieces("1234567") == ["123", "456", "7"])
        // Backtracking into the upper class: U* gives back to its last caseless letter.
        #expect(pre.pieces("\u{05D0}A b") == ["\u{05D0}", "A", " b"])
        #expect(pre.pieces("AB\u{05D0}CD e") == ["AB\u{05D0}", "CD", " e"])
        #expect(pre.pieces("\u{0301}A") == ["\u{0301}", "A"])
    }

    /// Ranges tile the input, and invalid UTF-8 (which callers reject first) neither crashes
    /// nor loops: each bad byte is one punctuation-like character.
    @Test func invalidUTF8IsTiledWithoutCrashing() throws {
        let inputs: [[UInt8]] = [
            [0xFF], [0x80, 0x80], [0x61, 0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
            [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80],
            Array("ok \u{00E9}".utf8) + [0xFE, 0x20, 0x61],
        ]
        for pattern in [SplitPattern.gpt2, .cl100k, .o200k] {
            let pre = try PreTokenizer(pattern: pattern)
            for bytes in inputs {
                var ranges: [Range<Int>] = []
                bytes.withUnsafeBytes { raw in pre.forEachPiece(in: raw) { ranges.append($0) } }
                #expect(ranges.first?.lowerBound == 0)
                #expect(ranges.last?.upperBound == bytes.count)
                #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                #expect(ranges.allSatisfy { !$0.isEmpty })
            }
        }
        // The regex engine (custom patterns) tiles invalid input too, a bad byte per piece.
        let regex = try RegexPreTokenizer(pattern: .cl100k)
        for bytes in inputs {
            var ranges: [Range<Int>] = []
            bytes.withUnsafeBytes { raw in regex.forEachPiece(in: raw) { ranges.append($0) } }
            #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == bytes.count)
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        }
        var regexRanges: [Range<Int>] = []
        [UInt8]([0x61, 0x62, 0xFF, 0x20, 0x63]).withUnsafeBytes { raw in regex.forEachPiece(in: raw) { regexRanges.append($0) } }
        #expect(regexRanges == [0..<2, 2..<3, 3..<5])
        // "a" + lone 0xFF + "b": the bad byte is punctuation, so in cl100k it prefixes the word.
        let cl = try PreTokenizer(pattern: .cl100k)
        var ranges: [Range<Int>] = []
        [UInt8]([0x61, 0xFF, 0x62]).withUnsafeBytes { raw in cl.forEachPiece(in: raw) { ranges.append($0) } }
        #expect(ranges == [0..<1, 1..<3])
    }

    /// Documented Unicode-version difference (PreTokenizer.swift): U+3D000 is unassigned in
    /// Swift's Unicode 17.0 tables, so it is "other" and prefixes the next word in cl100k, while
    /// Python `regex` 2026.11.19 (newer tables) calls it a letter and gives one piece.
    @Test func scalarNewerThanSwiftsUnicodeIsOther() throws {
        #expect(Unicode.Scalar(0x3D000)!.properties.generalCategory == .unassigned)
        let pre = try PreTokenizer(pattern: .cl100k)
        #expect(pre.pieces("a\u{3D000}b") == ["a", "\u{3D000}b"])
    }

    @Test func emptyInputGivesNoPieces() throws {
        for pattern in [SplitPattern.gpt2, .cl100k, .o200k] {
            #expect(try PreTokenizer(pattern: pattern).pieces("").isEmpty)
        }
    }

    @Test func customPatternRunsOnTheRegexEngine() throws {
        let pre = try PreTokenizer(pattern: .custom(#"\d+|\D"#))
        #expect(pre.pieces("ab12") == ["a", "b", "12"])
    }
}
