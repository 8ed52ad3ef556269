import Foundation
import Testing

/// `lmkit vocab …`, `tokenize`, `detokenize` through the real binary (issue 2).
@Suite struct TokenizerCLITests {
    /// Text with multi-byte UTF-8, CRLF, tabs, trailing spaces and digits.
    static let tricky = "Hello, world!\r\n\tTabs  and   spaces   \nnaïve café — 日本語 🙂👍🏽 12345 ''s\n\n"

    @Test func tokenizeIdsIsOnlyIdsAndDetokenizeGivesTheBytesBack() throws {
        let w = Workspace()
        defer { w.remove() }
        let file = try w.write("in.txt", Self.tricky)
        let r = try CLI.ok(["tokenize", "--vocab", Repo.gpt2Vocab, "--file", file, "--format", "ids"], in: w.path)
        let text = r.stdoutText
        #expect(!text.isEmpty)
        #expect(text.unicodeScalars.allSatisfy { CharacterSet.decimalDigits.contains($0) || $0 == " " || $0 == "\n" },
                "ids output holds only decimal ids and whitespace: \(text)")
        let ids = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { Int($0)! }
        #expect(ids.count > 10 && ids.allSatisfy { $0 >= 0 && $0 < 50257 })
        let back = try CLI.ok(["detokenize", "--vocab", Repo.gpt2Vocab], in: w.path, stdin: r.stdout)
        #expect(back.stdout == Data(Self.tricky.utf8), "detokenize gives the exact bytes back")
        // Ids as arguments work too.
        let back2 = try CLI.ok(["detokenize", "--vocab", Repo.gpt2Vocab] + ids.map(String.init), in: w.path)
        #expect(back2.stdout == Data(Self.tricky.utf8))
    }

    @Test func tokenizeJSONAndPrettyWork() throws {
        let w = Workspace()
        defer { w.remove() }
        let r = try CLI.ok(["tokenize", "--vocab", Repo.gpt2Vocab, "--format", "json", "Hello world"], in: w.path)
        #expect((try? JSONSerialization.jsonObject(with: r.stdout)) != nil, "json output parses: \(r)")
        let p = try CLI.ok(["tokenize", "--vocab", Repo.gpt2Vocab, "--no-color", "Hello world"], in: w.path)
        #expect(p.stdoutText.contains("15496"), "pretty output shows the id of 'Hello': \(p)")
    }

    @Test func vocabTrainThenTokenizeRoundTrips() throws {
        let w = Workspace()
        defer { w.remove() }
        let corpus = try w.write("corpus.txt", try Repo.shakespeare(bytes: 8_000))
        try CLI.ok(["vocab", "train", "--input", corpus, "--vocab-size", "300", "--special", "<|endoftext|>",
                    "--output", w.url("small.vocab"), "--quiet", "--threads", "1"], in: w.path)
        #expect(w.exists("small.vocab"))
        #expect(BadInput.tempFiles(in: w.path).isEmpty)
        let info = try CLI.ok(["vocab", "info", "--vocab", w.url("small.vocab"), "--json"], in: w.path)
        #expect((try? JSONSerialization.jsonObject(with: info.stdout)) != nil, "vocab info --json parses: \(info)")
        let sample = "ROMEO: What light through yonder window breaks? 🙂\n"
        let ids = try CLI.ok(["tokenize", "--vocab", w.url("small.vocab"), "--format", "ids", sample], in: w.path)
        let n = ids.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" }).count
        #expect(n > 0 && n < sample.utf8.count, "merges shorten the text: \(n) tokens")
        let back = try CLI.ok(["detokenize", "--vocab", w.url("small.vocab")], in: w.path, stdin: ids.stdout)
        #expect(back.stdout == Data(sample.utf8))
    }

    /// `--pattern` takes a custom regex: it is stored in the vocab and encoding splits with it
    /// (here every digit is its own piece, so "2024" is four tokens).
    @Test func vocabTrainWithCustomPattern() throws {
        let w = Workspace()
        defer { w.remove() }
        let digits = #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#
        let corpus = try w.write("corpus.txt", String(repeating: "In 2024 there were 2024 plays, 2024 sonnets.\n", count: 50))
        let r = try CLI.ok(["vocab", "train", "--input", corpus, "--vocab-size", "300", "--pattern", digits,
                            "--output", w.url("d.vocab"), "--threads", "1"], in: w.path)
        #expect(r.stderr.contains("custom regex"), "says the custom regex is slower: \(r)")
        let info = try CLI.ok(["vocab", "info", "--vocab", w.url("d.vocab"), "--json"], in: w.path)
        #expect(info.stdoutText.contains("p{N}|"), "vocab info shows the stored regex: \(info)")
        let ids = try CLI.ok(["tokenize", "--vocab", w.url("d.vocab"), "--format", "ids", "2024"], in: w.path)
        #expect(ids.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" }).count == 4)
        let words = try CLI.ok(["tokenize", "--vocab", w.url("d.vocab"), "--format", "ids", " sonnets"], in: w.path)
        #expect(words.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" }).count == 1, "merges learned: \(words)")
    }

    // MARK: bad input

    @Test func vocabTrainPatternThatDoesNotCompile() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("c.txt", "some text to train on\n")
        try BadInput.check(["vocab", "train", "--input", "c.txt", "--vocab-size", "300", "--pattern", "(\\p{L}+",
                            "--output", "out.vocab"], in: w.path, mentioning: ["--pattern", "regex"], noOutput: ["out.vocab"],
                           exitCode: 64)
    }

    @Test func vocabTrainMissingInput() throws {
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["vocab", "train", "--input", "missing.txt", "--vocab-size", "300", "--output", "out.vocab"],
                           in: w.path, mentioning: ["missing.txt"], noOutput: ["out.vocab"])
    }

    @Test func vocabTrainEmptyCorpus() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("empty.txt", "")
        try BadInput.check(["vocab", "train", "--input", "empty.txt", "--vocab-size", "300", "--output", "out.vocab"],
                           in: w.path, mentioning: ["empty.txt"], noOutput: ["out.vocab"])
    }

    @Test func vocabTrainInvalidUTF8() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("bad.txt", Data("hello ".utf8) + Data([0xFF, 0xFE, 0x80]) + Data(" world\n".utf8))
        try BadInput.check(["vocab", "train", "--input", "bad.txt", "--vocab-size", "300", "--output", "out.vocab"],
                           in: w.path, mentioning: ["bad.txt", "UTF-8"], noOutput: ["out.vocab"])
    }

    @Test func vocabTrainInvalidJSONLLineIsNamed() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("c.jsonl", "{\"text\": \"one\"}\n{\"text\": \"two\"}\n{\"text\": broken\n{\"text\": \"four\"}\n")
        try BadInput.check(["vocab", "train", "--input", "c.jsonl", "--vocab-size", "300", "--output", "out.vocab"],
                           in: w.path, mentioning: ["c.jsonl", "line 3"], noOutput: ["out.vocab"])
    }

    @Test func vocabTrainUnknownTextField() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("c.jsonl", "{\"text\": \"one\"}\n{\"text\": \"two\"}\n")
        try BadInput.check(["vocab", "train", "--input", "c.jsonl", "--text-field", "body", "--vocab-size", "300",
                            "--output", "out.vocab"], in: w.path, mentioning: ["c.jsonl", "body"], noOutput: ["out.vocab"])
    }

    @Test(arguments: [(["--vocab-size", "255"], "255"), (["--vocab-size", "256", "--special", "<|endoftext|>"], "256")])
    func vocabTrainVocabSizeBelowBytesPlusSpecials(options: [String], size: String) throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("c.txt", "some text to train on\n")
        try BadInput.check(["vocab", "train", "--input", "c.txt", "--output", "out.vocab"] + options,
                           in: w.path, mentioning: [size], noOutput: ["out.vocab"])
    }

    @Test func vocabTrainNonexistentOutputDirectory() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("c.txt", "some text to train on\n")
        try BadInput.check(["vocab", "train", "--input", "c.txt", "--vocab-size", "260", "--output", "nodir/out.vocab"],
                           in: w.path, mentioning: ["nodir"], noOutput: ["nodir"])
    }

    /// Vocab files that are cut short or are not vocab files at all, for every command that reads one.
    static func brokenVocabs(_ w: Workspace) throws -> [String] {
        let full = try Data(contentsOf: URL(fileURLWithPath: Repo.gpt2Vocab))
        return [
            try w.write("truncated.vocab", full.prefix(full.count / 2)),
            try w.write("header-only.vocab", full.prefix(20)),
            try w.write("garbage.vocab", "this is not a vocabulary\n\u{1}\u{2}\n"),
            try w.write("empty.vocab", ""),
        ]
    }

    @Test func truncatedAndMalformedVocabFiles() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("in.txt", "hello")
        for v in try Self.brokenVocabs(w) {
            let name = (v as NSString).lastPathComponent
            try BadInput.check(["tokenize", "--vocab", name, "hello"], in: w.path, mentioning: [name])
            try BadInput.check(["detokenize", "--vocab", name, "1", "2"], in: w.path, mentioning: [name])
            try BadInput.check(["vocab", "info", "--vocab", name], in: w.path, mentioning: [name])
            try BadInput.check(["vocab", "export", "--vocab", name, "--format", "hf", "--output", "out.json"],
                               in: w.path, mentioning: [name], noOutput: ["out.json"])
            try BadInput.check(["shard", "--vocab", name, "--input", "in.txt", "--output", "shards"],
                               in: w.path, mentioning: [name], noOutput: ["shards"])
        }
    }

    @Test func missingVocabFile() throws {
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["tokenize", "--vocab", "nope.vocab", "hello"], in: w.path, mentioning: ["nope.vocab"])
        try BadInput.check(["vocab", "info", "--vocab", "nope.vocab"], in: w.path, mentioning: ["nope.vocab"])
        try BadInput.check(["vocab", "add-special", "--vocab", "nope.vocab", "--output", "o.vocab"], in: w.path,
                           mentioning: ["nope.vocab"], noOutput: ["o.vocab"])
    }

    @Test func tokenizeMissingAndInvalidUTF8File() throws {
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["tokenize", "--vocab", Repo.gpt2Vocab, "--file", "missing.txt"], in: w.path,
                           mentioning: ["missing.txt"])
        try w.write("bad.txt", Data([0x61, 0x62, 0xC3, 0x28, 0x63]))
        try BadInput.check(["tokenize", "--vocab", Repo.gpt2Vocab, "--file", "bad.txt"], in: w.path,
                           mentioning: ["bad.txt", "UTF-8"])
        // Bad text on stdin is named as stdin.
        try BadInput.check(["tokenize", "--vocab", Repo.gpt2Vocab], in: w.path, stdin: Data([0xFF, 0x41]),
                           mentioning: ["stdin"])
    }

    @Test func detokenizeUnknownOrMalformedId() throws {
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["detokenize", "--vocab", Repo.gpt2Vocab, "15496", "999999"], in: w.path, mentioning: ["999999"])
        try BadInput.check(["detokenize", "--vocab", Repo.gpt2Vocab], in: w.path, stdin: Data("15496 50257\n".utf8),
                           mentioning: ["50257", "stdin"])
        try BadInput.check(["detokenize", "--vocab", Repo.gpt2Vocab], in: w.path, stdin: Data("15496 abc\n".utf8),
                           mentioning: ["abc"])
    }

    @Test func addSpecialAndExportToNonexistentDirectory() throws {
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["vocab", "add-special", "--vocab", Repo.gpt2Vocab, "--output", "nodir/chat.vocab"],
                           in: w.path, mentioning: ["nodir"], noOutput: ["nodir"])
        try BadInput.check(["vocab", "export", "--vocab", Repo.gpt2Vocab, "--format", "hf", "--output", "nodir/t.json"],
                           in: w.path, mentioning: ["nodir"], noOutput: ["nodir"])
        try BadInput.check(["vocab", "import", "missing.tiktoken", "--output", "x.vocab"],
                           in: w.path, mentioning: ["missing.tiktoken"], noOutput: ["x.vocab"])
    }

    @Test func vocabImportMalformedFiles() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("x.tiktoken", "garbage\n")
        try BadInput.check(["vocab", "import", "x.tiktoken", "--encoding", "r50k", "--output", "x.vocab"], in: w.path,
                           mentioning: ["x.tiktoken"], noOutput: ["x.vocab"])
        try w.write("tokenizer.json", "{\"model\": ")
        try BadInput.check(["vocab", "import", "tokenizer.json", "--output", "y.vocab"], in: w.path,
                           mentioning: ["tokenizer.json"], noOutput: ["y.vocab"])
    }

    @Test func specialTokenPolicyErrorsAndEmptyDetokenize() throws {
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["tokenize", "--vocab", Repo.gpt2Vocab, "a <|endoftext|> b"], in: w.path,
                           mentioning: ["<|endoftext|>", "--allow-special"])
        try BadInput.check(["tokenize", "--vocab", Repo.gpt2Vocab, "--allow-special", "<|nosuch|>", "a"], in: w.path,
                           mentioning: ["gpt2.vocab", "<|nosuch|>"])
        let allowed = try CLI.ok(["tokenize", "--vocab", Repo.gpt2Vocab, "--format", "ids", "--allow-special", "<|endoftext|>",
                                  "a<|endoftext|>"], in: w.path)
        #expect(allowed.stdoutText.split(whereSeparator: \.isWhitespace) == ["64", "50256"], "\(allowed)")
        let empty = try CLI.ok(["detokenize", "--vocab", Repo.gpt2Vocab], in: w.path)
        #expect(empty.stdout.isEmpty && empty.stderr.isEmpty, "no ids, no bytes: \(empty)")
    }

    @Test func vocabTrainOnADirectoryWithoutCorpusFiles() throws {
        let w = Workspace()
        defer { w.remove() }
        try FileManager.default.createDirectory(atPath: w.url("emptydir"), withIntermediateDirectories: true)
        try w.write("emptydir/table.csv", "a,b\n1,2\n")  // not a corpus extension (.md/.txt/.jsonl/.json are)
        try BadInput.check(["vocab", "train", "--input", "emptydir", "--vocab-size", "300", "--output", "o.vocab"],
                           in: w.path, mentioning: ["emptydir"], noOutput: ["o.vocab"])
    }

    /// A directory where a file is expected (input or output), and a file where a directory is.
    @Test func directoriesWhereFilesAreExpected() throws {
        let w = Workspace()
        defer { w.remove() }
        try FileManager.default.createDirectory(atPath: w.url("adir"), withIntermediateDirectories: true)
        try w.write("c.txt", "some text to train on\n")
        try BadInput.check(["vocab", "train", "--input", "c.txt", "--vocab-size", "260", "--output", "adir", "--quiet"],
                           in: w.path, mentioning: ["adir"])
        try BadInput.check(["vocab", "add-special", "--vocab", Repo.gpt2Vocab, "--output", "adir"], in: w.path, mentioning: ["adir"])
        try BadInput.check(["tokenize", "--vocab", Repo.gpt2Vocab, "--file", "adir"], in: w.path, mentioning: ["adir"])
        try BadInput.check(["shard", "--vocab", Repo.gpt2Vocab, "--input", "c.txt", "--output", "c.txt"], in: w.path,
                           mentioning: ["c.txt"])
        #expect(try w.read("c.txt") == Data("some text to train on\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.url("adir")).isEmpty)
    }
}
