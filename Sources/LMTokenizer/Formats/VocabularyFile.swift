import LMSupport

/// The native `.vocab` file: a line-oriented text file with base64 tokens, a magic line with a
/// version, and a checksum line at the end. Documented byte by byte in docs/VOCAB_FORMAT.md.
///
///     lmkit-vocab 1
///     pattern gpt2
///     specials 1
///     50256 PHxlbmRvZnRleHR8Pg==
///     ranks 50256
///     IQ==
///     …                              (one base64 token per line; line k after `ranks` = rank k)
///     end 8c3f…                      (FNV-1a 64 of every byte before this line, 16 hex digits)
///
/// Reading checks everything a truncated, edited or foreign file can get wrong and throws one
/// `LMError` line naming the file, the line, and what to do.
///
///     try VocabularyFile.write(vocab, to: "Vocab/my.vocab")
///     let v = try VocabularyFile.read("Vocab/my.vocab")
public enum VocabularyFile {
    /// The magic word on the first line.
    public static let magic = "lmkit-vocab"
    /// The format version this build writes and the newest it reads.
    public static let version = 1

    /// The file's bytes for `vocab`. O(total token bytes).
    public static func encode(_ vocab: Vocabulary) -> [UInt8] {
        var s = "\(magic) \(version)\n"
        switch vocab.pattern {
        case .custom(let regex): s += "pattern custom \(Base64.encode(Array(regex.utf8)))\n"
        default: s += "pattern \(vocab.pattern.name)\n"
        }
        s += "specials \(vocab.specialTokens.count)\n"
        for t in vocab.specialTokens { s += "\(t.id) \(Base64.encode(Array(t.text.utf8)))\n" }
        s += "ranks \(vocab.tokens.count)\n"
        var out = Array(s.utf8)
        out.reserveCapacity(out.count + vocab.tokens.count * 12)
        for t in vocab.tokens {
            out.append(contentsOf: Base64.encode(t).utf8)
            out.append(UInt8(ascii: "\n"))
        }
        var h = FNV1a64(); h.update(out)
        out.append(contentsOf: "end \(h.hex)\n".utf8)
        return out
    }

    /// Writes `vocab` to `path` atomically (temp file + rename): readers see the old file or the new one.
    /// Throws `LMError.io` if the directory is missing or not writable.
    public static func write(_ vocab: Vocabulary, to path: String) throws {
        try AtomicFileWriter.write(encode(vocab), to: path)
    }

    /// Reads and validates a `.vocab` file. Throws `LMError` (file named) if it is missing, not a
    /// vocab file, of a newer version, truncated, corrupted, or describes an invalid vocabulary.
    public static func read(_ path: String) throws -> Vocabulary {
        let bytes = try FileIO.readBytes(path)
        return try decode(bytes, file: path)
    }

    /// Parses the bytes of a `.vocab` file; `file` names it in errors.
    public static func decode(_ bytes: [UInt8], file: String) throws -> Vocabulary {
        let regenerate = "regenerate it with `lmkit vocab import` or `lmkit vocab train`"
        func bad(_ line: Int?, _ what: String, fix: String = regenerate) -> LMError {
            LMError.badFormat(file: file, (line.map { "line \($0): " } ?? "") + what, fix: fix)
        }
        let (lines, endsWithNewline) = splitLines(bytes)
        guard let first = lines.first, !bytes.isEmpty else {
            throw bad(nil, "empty file, not an lmkit vocab", fix: regenerate)
        }
        let firstWords = words(first)
        guard firstWords.first == magic else {
            throw bad(1, "not an lmkit vocab file (expected \"\(magic) \(version)\" on the first line)",
                      fix: "convert tiktoken, GPT-2 or tokenizer.json files with `lmkit vocab import`")
        }
        guard firstWords.count == 2, let v = Int(firstWords[1]) else { throw bad(1, "malformed magic line") }
        if v > version {
            throw bad(1, "format version \(v) is newer than this lmkit reads (\(version))", fix: "update lmkit")
        }
        if v < 1 { throw bad(1, "unknown format version \(v)") }

        var lineNo = 1
        func next(_ what: String) throws -> ArraySlice<UInt8> {
            guard lineNo < lines.count else {
                throw bad(nil, "truncated: the file ends where \(what) was expected (after line \(lineNo))")
            }
            lineNo += 1
            return lines[lineNo - 1]
        }

        // pattern
        let pw = words(try next("the pattern line"))
        let pattern: SplitPattern
        if pw.count == 2, pw[0] == "pattern", ["gpt2", "gpt4", "o200k"].contains(pw[1]) {
            pattern = SplitPattern(name: pw[1])
        } else if pw.count == 3, pw[0] == "pattern", pw[1] == "custom",
                  let r = Base64.decode(ArraySlice(pw[2].utf8)), let regex = String(validating: r, as: UTF8.self) {
            pattern = SplitPattern(name: regex)
        } else {
            throw bad(lineNo, "expected `pattern gpt2|gpt4|o200k` or `pattern custom BASE64`")
        }

        // specials
        let sw = words(try next("the specials line"))
        guard sw.count == 2, sw[0] == "specials", let k = Int(sw[1]), k >= 0 else {
            throw bad(lineNo, "expected `specials COUNT`")
        }
        var specials: [SpecialToken] = []
        for _ in 0..<k {
            let w = words(try next("a special-token line"))
            guard w.count == 2, let id = Int(w[0]), let t = Base64.decode(ArraySlice(w[1].utf8)),
                  let text = String(validating: t, as: UTF8.self) else {
                throw bad(lineNo, "expected `ID BASE64` for a special token")
            }
            specials.append(SpecialToken(text, id: id))
        }

        // ranks
        let rw = words(try next("the ranks line"))
        guard rw.count == 2, rw[0] == "ranks", let n = Int(rw[1]), n >= 0 else {
            throw bad(lineNo, "expected `ranks COUNT`")
        }
        guard lines.count >= lineNo + n + 1 else {
            let have = max(0, lines.count - lineNo)
            throw bad(nil, "truncated: the header promises \(n) rank lines and an end line, but only \(have) lines follow")
        }
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(n)
        for _ in 0..<n {
            let l = try next("a rank line")
            guard let t = Base64.decode(l) else { throw bad(lineNo, "rank \(tokens.count) is not valid base64") }
            tokens.append(t)
        }

        // end + checksum
        let endLine = try next("the end line")
        let ew = words(endLine)
        guard ew.count == 2, ew[0] == "end" else {
            throw bad(lineNo, "expected `end CHECKSUM` after \(n) ranks (the file is truncated or edited)")
        }
        if lineNo != lines.count || !endsWithNewline {
            throw bad(lineNo, "unexpected bytes after the end line")
        }
        var h = FNV1a64()
        h.update(bytes[0..<endLine.startIndex])
        if h.hex != ew[1] {
            throw bad(lineNo, "checksum mismatch (file says \(ew[1]), contents hash to \(h.hex)): the file is corrupted")
        }
        do {
            return try Vocabulary(pattern: pattern, tokens: tokens, specialTokens: specials)
        } catch let e as LMError {
            throw LMError.badFormat(file: file, e.message, fix: e.fix)
        }
    }

    /// Space-separated words of an ASCII line.
    private static func words(_ line: ArraySlice<UInt8>) -> [String] {
        line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            .map { String(decoding: $0, as: UTF8.self) }
    }
}
