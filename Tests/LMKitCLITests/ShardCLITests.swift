import Foundation
import Testing

/// `lmkit shard` and `lmkit shards …` through the real binary (issue 3).
@Suite struct ShardCLITests {
    /// A few KB of Shakespeare cut into documents by `<|endoftext|>` lines.
    static func documents() throws -> String {
        let lines = try Repo.shakespeare(bytes: 6_000).split(separator: "\n", omittingEmptySubsequences: false)
        var out = ""
        for (i, l) in lines.dropLast().enumerated() {
            out += l + "\n"
            if i % 20 == 19 { out += "<|endoftext|>\n" }
        }
        return out
    }

    /// Shards `text` (as docs.txt) with gpt2 into `w/shards` with small frames.
    static func makeShards(_ w: Workspace, text: String) throws {
        try w.write("docs.txt", text)
        try CLI.ok(["shard", "--vocab", Repo.gpt2Vocab, "--input", "docs.txt", "--output", "shards",
                    "--frame-tokens", "64", "--shard-tokens", "600", "--quiet", "--threads", "1"], in: w.path)
    }

    static func shardFiles(_ w: Workspace) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: w.url("shards")).filter { $0.hasSuffix(".lmshard") }.sorted()
    }

    @Test func shardVerifyCatRoundTrip() throws {
        let w = Workspace()
        defer { w.remove() }
        let text = try Self.documents()
        try Self.makeShards(w, text: text)
        #expect(w.exists("shards/manifest.json"))
        #expect(try Self.shardFiles(w).count >= 2, "several shards at --shard-tokens 600")
        #expect(BadInput.tempFiles(in: w.path).isEmpty)
        let v = try CLI.ok(["shards", "verify", "shards", "--quiet"], in: w.path)
        #expect(v.stdoutText.contains("OK"), "\(v)")
        let cat = try CLI.ok(["shards", "cat", "shards", "--decode", "--vocab", Repo.gpt2Vocab], in: w.path)
        // The input ends with a separator line: cat writes separators only between documents.
        let expected = text.hasSuffix("<|endoftext|>\n") ? String(text.dropLast("<|endoftext|>\n".count)) : text
        #expect(cat.stdoutText == expected, "shards cat --decode equals the input text")
        let ins = try CLI.ok(["shards", "inspect", "shards", "--json"], in: w.path)
        #expect((try? JSONSerialization.jsonObject(with: ins.stdout)) != nil, "inspect --json parses: \(ins)")
        // Re-running the same command keeps the finished shards.
        let again = try CLI.ok(["shard", "--vocab", Repo.gpt2Vocab, "--input", "docs.txt", "--output", "shards",
                                "--frame-tokens", "64", "--shard-tokens", "600", "--quiet", "--threads", "1"], in: w.path)
        #expect(again.stdoutText.contains("0 shards made"), "\(again)")
    }

    @Test func shardIdsEqualTokenizeIds() throws {
        let w = Workspace()
        defer { w.remove() }
        let doc = "First document, with café and 🙂.\n"
        try Self.makeShards(w, text: doc)
        let cat = try CLI.ok(["shards", "cat", "shards"], in: w.path)
        let tok = try CLI.ok(["tokenize", "--vocab", Repo.gpt2Vocab, "--format", "ids", doc], in: w.path)
        let shardIds = cat.stdoutText.split(whereSeparator: \.isWhitespace).map(String.init)
        let tokIds = tok.stdoutText.split(whereSeparator: \.isWhitespace).map(String.init)
        #expect(shardIds == tokIds + ["50256"], "the shard holds the tokenize ids and then <|endoftext|>")
    }

    // MARK: bad input

    @Test func shardMissingInputEmptyInputAndMissingVocab() throws {
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["shard", "--vocab", Repo.gpt2Vocab, "--input", "missing.txt", "--output", "out"],
                           in: w.path, mentioning: ["missing.txt"], noOutput: ["out"])
        try w.write("empty.txt", "")
        try BadInput.check(["shard", "--vocab", Repo.gpt2Vocab, "--input", "empty.txt", "--output", "out"],
                           in: w.path, mentioning: ["empty.txt"], noOutput: ["out"])
        try w.write("a.txt", "hello\n")
        try BadInput.check(["shard", "--vocab", "missing.vocab", "--input", "a.txt", "--output", "out"],
                           in: w.path, mentioning: ["missing.vocab"], noOutput: ["out"])
    }

    @Test func shardInvalidUTF8() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("bad.txt", Data("ok\n".utf8) + Data([0xC0, 0xAF]) + Data("\n".utf8))
        try BadInput.check(["shard", "--vocab", Repo.gpt2Vocab, "--input", "bad.txt", "--output", "out"],
                           in: w.path, mentioning: ["bad.txt", "UTF-8"], noOutput: ["out"])
    }

    @Test func shardInvalidJSONLineAndUnknownField() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("c.jsonl", "{\"text\": \"one\"}\n{\"text\": \"two\"\n")
        try BadInput.check(["shard", "--vocab", Repo.gpt2Vocab, "--input", "c.jsonl", "--output", "out"],
                           in: w.path, mentioning: ["c.jsonl", "line 2"], noOutput: ["out/manifest.json"])
        try w.write("d.jsonl", "{\"text\": \"one\"}\n{\"text\": \"two\"}\n")
        try BadInput.check(["shard", "--vocab", Repo.gpt2Vocab, "--input", "d.jsonl", "--text-field", "body",
                            "--output", "out2"], in: w.path, mentioning: ["d.jsonl", "body"], noOutput: ["out2/manifest.json"])
    }

    @Test func shardUnwritableOutput() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("a.txt", "hello\n")
        try w.write("file", "a regular file")
        // (Tests may run as root, so a chmod-ed directory would still be writable: use a path under a file.)
        try BadInput.check(["shard", "--vocab", Repo.gpt2Vocab, "--input", "a.txt", "--output", "file/out"],
                           in: w.path, mentioning: ["file"])
        #expect(try w.read("file") == Data("a regular file".utf8))
    }

    @Test func verifyFlippedByteNamesShardAndFrame() throws {
        let w = Workspace()
        defer { w.remove() }
        try Self.makeShards(w, text: try Self.documents())
        let shard = try #require(try Self.shardFiles(w).first)
        var bytes = try w.read("shards/" + shard)
        bytes[64 + 6] ^= 0x5A  // inside frame 0's compressed bytes (frames start after the 64-byte header)
        try w.write("shards/" + shard, bytes)
        let r = try CLI.run(["shards", "verify", "shards", "--quiet"], in: w.path)
        #expect(!r.signalled && r.status == 1, "\(r)")
        #expect(r.stderr.contains(shard), "the shard is named: \(r)")
        #expect(r.stderr.contains("frame 0"), "the frame is named: \(r)")
        // verify lists every fault (one line each, naming shard and frame), then one `lmkit: error:` summary.
        #expect(r.stderr.split(separator: "\n").count == 2, "one fault line + the summary: \(r)")
        let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("lmkit: error: "), "\(r)")
        for m in BadInput.crashMarkers { #expect(!r.stderr.contains(m)) }
        // Reading the corrupted shard fails with one line too, never wrong tokens.
        try BadInput.check(["shards", "cat", "shards"], in: w.path, mentioning: [shard])
    }

    @Test func verifyTruncatedShard() throws {
        let w = Workspace()
        defer { w.remove() }
        try Self.makeShards(w, text: try Self.documents())
        let shard = try #require(try Self.shardFiles(w).last)
        let bytes = try w.read("shards/" + shard)
        try w.write("shards/" + shard, bytes.prefix(bytes.count * 2 / 3))
        let r = try CLI.run(["shards", "verify", "shards", "--quiet"], in: w.path)
        #expect(!r.signalled && r.status == 1, "\(r)")
        #expect(r.stderr.contains(shard), "the shard is named: \(r)")
        for m in BadInput.crashMarkers { #expect(!r.stderr.contains(m)) }
        try BadInput.check(["shards", "cat", "shards"], in: w.path, mentioning: [shard])
        try BadInput.check(["shards", "inspect", "shards"], in: w.path, mentioning: [shard])
    }

    @Test func shardsCommandsOnMissingDirectory() throws {
        let w = Workspace()
        defer { w.remove() }
        for sub in ["inspect", "verify", "cat"] {
            try BadInput.check(["shards", sub, "nowhere"], in: w.path, mentioning: ["nowhere"])
        }
    }

    @Test func shardIntoADirectoryMadeWithOtherSettingsIsRefused() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try Self.makeShards(w, text: "one document\n")
        let manifest = try w.read("shards/manifest.json")
        try BadInput.check(["shard", "--vocab", t.vocab, "--input", "docs.txt", "--output", "shards",
                            "--frame-tokens", "64", "--shard-tokens", "600"], in: w.path, mentioning: ["shards", "vocab"])
        #expect(try w.read("shards/manifest.json") == manifest, "the existing set is untouched")
        try CLI.ok(["shards", "verify", "shards", "--quiet"], in: w.path)
    }

    @Test func shardsImportBadFiles() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("short.bin", "abcdefgh")
        try BadInput.check(["shards", "import", "--llmc", "short.bin", "--output", "imp"], in: w.path,
                           mentioning: ["short.bin"], noOutput: ["imp/manifest.json"])
        var header = Data(count: 1024)  // an llm.c-sized header with a wrong magic
        header[0] = 0x01
        try w.write("badmagic.bin", header + Data(count: 64))
        try BadInput.check(["shards", "import", "--llmc", "badmagic.bin", "--output", "imp2"], in: w.path,
                           mentioning: ["badmagic.bin"], noOutput: ["imp2/manifest.json"])
        try BadInput.check(["shards", "import", "--nanogpt", "missing.bin", "--output", "imp3"], in: w.path,
                           mentioning: ["missing.bin"], noOutput: ["imp3/manifest.json"])
        try w.write("odd.bin", Data([1, 0, 2]))  // raw uint16 with an odd byte count
        try BadInput.check(["shards", "import", "--nanogpt", "odd.bin", "--output", "imp4"], in: w.path,
                           mentioning: ["odd.bin"], noOutput: ["imp4/manifest.json"])
    }

    @Test func catDecodeWithAnotherVocabIsRefused() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try Self.makeShards(w, text: "one document\n")
        try BadInput.check(["shards", "cat", "shards", "--decode", "--vocab", t.vocab], in: w.path, mentioning: ["tiny.vocab"])
    }
}
