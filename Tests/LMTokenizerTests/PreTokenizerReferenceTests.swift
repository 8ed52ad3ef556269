import Testing
import LMTokenizer

/// Hand-worked splits of the reference (regex) pre-tokenizer, checked against tiktoken's
/// behaviour by hand: these pin the regex engine itself.
@Suite struct RegexPreTokenizerTests {
    @Test func cl100kHandWorked() throws {
        let pre = try RegexPreTokenizer(pattern: .cl100k)
        #expect(pre.pieces("Hello world!!") == ["Hello", " world", "!!"])
        #expect(pre.pieces("I'm 12345 ok") == ["I", "'m", " ", "123", "45", " ok"])
        #expect(pre.pieces("a  \n\nb") == ["a", "  \n\n", "b"])  // `\s*[\r\n]` takes the whole run
    }

    @Test func gpt2HandWorked() throws {
        let pre = try RegexPreTokenizer(pattern: .gpt2)
        #expect(pre.pieces("I'm 12345 ok") == ["I", "'m", " 12345", " ok"])
    }
}
