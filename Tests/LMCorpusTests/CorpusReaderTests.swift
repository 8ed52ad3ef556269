import Foundation
import LMCorpus
import LMSupport
import LMTestSupport
import LMTokenizer
import Testing

private let compressionFixtures = TestData.repoPath("Tests/LMCompressionTests/Fixtures")

private func write(_ dir: String, _ name: String, _ text: String) -> String {
    write(dir, name, Array(text.utf8))
}

private func write(_ dir: String, _ name: String, _ bytes: [UInt8]) -> String {
    let path = dir + "/" + name
    try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                             withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

private func documents(_ inputs: [String], _ options: CorpusOptions = CorpusOptions()) throws -> [String] {
    let r = try CorpusDocumentReader(inputs: inputs, options: options)
    var out: [String] = []
    while let d = try r.next() { out.append(String(decoding: d.bytes, as: UTF8.self)) }
    return out
}

/// Expects an `LMError` whose line names `file` and contains `fragment`.
private func expectError(naming file: String, _ fragment: String, _ body: () throws -> Void,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(sourceLocation: sourceLocation) { try body() } throws: { error in
        guard let e = error as? LMError else { return false }
        return e.description.contains(file) && e.description.contains(fragment)
    }
}

@Suite struct CorpusReaderTests {
    @Test func textFileIsOneDocumentByDefault() throws {
        let dir = TestData.temporaryDirectory()
        let f = write(dir, "a.txt", "one\n<|endoftext|>\ntwo\n")
        #expect(try documents([f]) == ["one\n<|endoftext|>\ntwo\n"])
    }

    @Test func splitAtEndOfTextMatchesPythonSplit() throws {
        let dir = TestData.temporaryDirectory()
        let text = "<|endoftext|>\nfirst\nbook\n<|endoftext|>\nsecond <|endoftext|> inline\n<|endoftext|>\r\nthird\n<|endoftext|>"
        let f = write(dir, "a.txt", text)
        // Python: [d for d in re.split(r"(?m)^<\|endoftext\|>\r?(?:\n|\Z)", text) if d]
        #expect(try documents([f], .init(splitAtEndOfText: true)) ==
                ["first\nbook\n", "second <|endoftext|> inline\n", "third\n"])
    }

    @Test func separatorAcrossReadBlocks() throws {
        // The reader reads 1 MiB blocks; put separators across and right at the boundary.
        let dir = TestData.temporaryDirectory()
        let block = 1 << 20
        for shift in [-20, -8, -1, 0, 1, 13] {
            var a = [UInt8](repeating: UInt8(ascii: "x"), count: block + shift - 1)
            a.append(10)
            let text = a + Array("<|endoftext|>\nsecond\n".utf8)
            let f = write(dir, "b\(shift).txt", text)
            let docs = try documents([f], .init(splitAtEndOfText: true))
            #expect(docs.count == 2)
            #expect(docs.first?.utf8.count == a.count)
            #expect(docs.last == "second\n")
        }
    }

    @Test func documentsLongerThanOnePartKeepTheirBytesAndSeparators() throws {
        // Documents over 8 MiB are handed out in parts cut at newlines (or, in a line over
        // 8 MiB, at a character boundary); no separator and no byte may be lost at a cut.
        let dir = TestData.temporaryDirectory()
        var line = Array("naïve 日本語 line\r\n".utf8)
        var long: [UInt8] = []
        while long.count < 9 << 20 { long += line }
        line = [UInt8](repeating: UInt8(ascii: "y"), count: (9 << 20) - 1) + Array("é".utf8)   // no newline
        let sep = Array("<|endoftext|>\r\n".utf8)
        let text = long + sep + line + Array("\n".utf8) + sep + Array("short\n".utf8) + Array("<|endoftext|>".utf8)
        let f = write(dir, "long.txt", text)
        let docs = try documents([f], .init(splitAtEndOfText: true))
        #expect(docs.map(\.utf8.count) == [long.count, line.count + 1, 6])
        #expect(docs.first.map { Array($0.utf8) == long } == true)
        #expect(docs.last == "short\n")
        // The chunk reader sees the same documents.
        let r = try CorpusChunkReader(inputs: [f], options: .init(splitAtEndOfText: true))
        var all: [UInt8] = []
        while let c = try r.next() { all += c.bytes }
        #expect(all == long + line + Array("\nshort\n".utf8))
    }

    @Test func invalidUTF8InALongDocumentNamesTheFileOffset() throws {
        let dir = TestData.temporaryDirectory()
        var text = Array("first\n<|endoftext|>\n".utf8)
        text += [UInt8](repeating: UInt8(ascii: "z"), count: 3 << 20)
        let bad = text.count
        text += [0xFF] + Array("\n".utf8)
        let f = write(dir, "bad.txt", text)
        expectError(naming: f, "invalid UTF-8 at byte offset \(bad)") {
            _ = try documents([f], .init(splitAtEndOfText: true))
        }
    }

    @Test func directoriesAreWalkedRecursivelyInSortedOrder() throws {
        let dir = TestData.temporaryDirectory()
        _ = write(dir, "b/2.txt", "B2")
        _ = write(dir, "a.txt", "A")
        _ = write(dir, "b/1.jsonl", "{\"text\": \"B1\"}\n")
        _ = write(dir, "b/.hidden.txt", "hidden")
        _ = write(dir, "b/notes.csv", "skipped")
        _ = write(dir, "c.json", "[{\"text\": \"C1\"}, \"C2\"]")
        #expect(try documents([dir]) == ["A", "B1", "B2", "C1", "C2"])
    }

    @Test func forEachVisitsDocumentsWithTheirFiles() throws {
        let dir = TestData.temporaryDirectory()
        _ = write(dir, "a.txt", "one\n<|endoftext|>\ntwo\n")
        _ = write(dir, "b.jsonl", "{\"text\": \"three\"}\n")
        let r = try CorpusDocumentReader(inputs: [dir], options: .init(splitAtEndOfText: true))
        var seen: [String] = []
        try r.forEach { seen.append("\(($0.file as NSString).lastPathComponent)#\($0.indexInFile)=\(String(decoding: $0.bytes, as: UTF8.self))") }
        #expect(seen == ["a.txt#0=one\n", "a.txt#1=two\n", "b.jsonl#0=three"])
        #expect(r.bytesRead == 13)
    }

    @Test func jsonlWithCustomFieldAndBlankLines() throws {
        let dir = TestData.temporaryDirectory()
        let f = write(dir, "d.jsonl", "{\"body\": \"x\", \"text\": \"no\"}\n\n  \n{\"body\": \"y\\n\"}\r\n{\"body\": \"z\"}")
        #expect(try documents([f], .init(textField: "body")) == ["x", "y\n", "z"])
    }

    @Test func badJSONLLineNamesFileAndLine() throws {
        let dir = TestData.temporaryDirectory()
        let f = write(dir, "d.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{\"text\": broken}\n")
        expectError(naming: f, "line 3") { _ = try documents([f]) }
    }

    @Test func missingFieldListsTheFieldsPresent() throws {
        let dir = TestData.temporaryDirectory()
        let f = write(dir, "d.jsonl", "{\"content\": \"ok\", \"id\": 1}\n")
        expectError(naming: f, "no field \"text\" (fields: \"content\", \"id\")") { _ = try documents([f]) }
    }

    @Test func compressedInputs() throws {
        let original = String(decoding: try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))[0..<200_000], as: UTF8.self)
        #expect(try documents([compressionFixtures + "/shakespeare-200k.txt.zst"]) == [original])
        #expect(try documents([compressionFixtures + "/shakespeare-200k.txt.gz"]) == [original])
        #expect(try documents([compressionFixtures + "/docs.jsonl.zst"]) ==
                ["First document.\n", "Zweites Dokument: Grüße, 日本語 🙂", "third"])
        let r = try CorpusDocumentReader(inputs: [compressionFixtures + "/shakespeare-200k.txt.zst"])
        #expect(r.totalInputBytes == 200_000)
    }

    @Test func invalidUTF8NamesFileAndAbsoluteByteOffset() throws {
        let dir = TestData.temporaryDirectory()
        var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_500_000)
        bytes[1_234_567] = 0xC3  // a lead byte followed by ASCII: invalid
        let f = write(dir, "bad.txt", bytes)
        expectError(naming: f, "invalid UTF-8 at byte offset 1234567") { _ = try documents([f]) }
        // A multi-byte character across the 1 MiB read boundary is fine.
        var ok = [UInt8](repeating: UInt8(ascii: "a"), count: (1 << 20) - 1)
        ok += Array("é and more".utf8)
        let g = write(dir, "ok.txt", ok)
        #expect(try documents([g]).first?.hasSuffix("é and more") == true)
        // Truncated at the end inside a character.
        let h = write(dir, "cut.txt", Array("abc".utf8) + [0xE6, 0x97])
        expectError(naming: h, "byte offset 3") { _ = try documents([h]) }
    }

    @Test func missingFileAndEmptyCorpusAreClearErrors() throws {
        let dir = TestData.temporaryDirectory()
        expectError(naming: dir + "/nope.txt", "no such file") { _ = try documents([dir + "/nope.txt"]) }
        let e = write(dir, "empty.txt", "")
        expectError(naming: e, "empty") { _ = try documents([e]) }
        let j = write(dir, "blank.jsonl", "\n\n{\"text\": \"\"}\n")
        expectError(naming: j, "empty") { _ = try documents([j]) }
        let sub = dir + "/nothing"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        _ = write(sub, "x.csv", "a,b")
        expectError(naming: sub, "no .txt") { _ = try documents([sub]) }
    }

    @Test func corruptCompressedFileNamesTheFile() throws {
        let dir = TestData.temporaryDirectory()
        let data = try FileIO.readBytes(compressionFixtures + "/shakespeare-200k.txt.zst")
        let f = write(dir, "cut.txt.zst", Array(data[0..<30_000]))
        expectError(naming: f, "truncated") { _ = try documents([f]) }
    }

    /// The Gutenberg corpus: 366 books, every separator line removed.
    @Test(.enabled(if: TestData.sharedCorpora != nil))
    func gutenbergHas366Documents() throws {
        let path = TestData.sharedCorpora! + "/gutenberg-en-A.txt.zst"
        let r = try CorpusDocumentReader(inputs: [path], options: .init(splitAtEndOfText: true))
        var n = 0
        var bytes = 0
        while let d = try r.next() { n += 1; bytes += d.bytes.count }
        #expect(n == 366)
        #expect(bytes == 114_068_176 - 365 * 14)
        #expect(r.totalInputBytes == 114_068_176)
    }
}

@Suite struct CorpusChunkReaderTests {
    private func chunks(_ inputs: [String], _ options: CorpusOptions) throws -> [CorpusChunk] {
        let r = try CorpusChunkReader(inputs: inputs, options: options)
        var out: [CorpusChunk] = []
        while let c = try r.next() { out.append(c) }
        return out
    }

    @Test func chunksTileTheDocumentsAndCutAtSafePoints() throws {
        let text = try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))
        let cs = try chunks([TestData.repoPath("Corpora/tinyshakespeare.txt")], .init(chunkSize: 50_000))
        #expect(cs.flatMap(\.bytes) == text)
        #expect(cs.count > 15)
        for c in cs.dropLast() {
            #expect(c.bytes.count >= 1 && c.bytes.count <= 50_000)
            #expect(c.bytes.last == 10)  // cut after "\n" …
            #expect(c.documentStarts.isEmpty)
        }
        for (a, b) in zip(cs, cs.dropFirst()) {  // … followed by an ASCII letter
            let first = b.bytes[0] | 0x20
            #expect(first >= 0x61 && first <= 0x7A, "chunk after \(a.bytes.count) bytes starts with \(b.bytes[0])")
        }
    }

    /// Pre-tokenizing chunk by chunk gives exactly the pieces of the whole text, for every
    /// built-in pattern, on text full of the hard cases (trailing spaces, blank lines, CRLF,
    /// non-ASCII, contractions and numbers at line starts).
    @Test(arguments: [SplitPattern.gpt2, .cl100k, .o200k])
    func chunksPreTokenizeLikeTheWholeText(pattern: SplitPattern) throws {
        var text = Array(try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))[0..<150_000])
        let tricky = "Line with trailing spaces  \nNext\n\n\nAfter blanks\r\nCRLF line\n'tis 12345 numbers\n  indented\nÉtude café\n\u{3000}\nIdeographic space above\n"
        for _ in 0..<300 { text += Array(tricky.utf8) }
        let dir = TestData.temporaryDirectory()
        let path = write(dir, "t.txt", text)
        let pre = try PreTokenizer(pattern: pattern)
        func pieces(_ bytes: [UInt8]) -> [[UInt8]] {
            var out: [[UInt8]] = []
            bytes.withUnsafeBytes { raw in pre.forEachPiece(in: raw) { out.append(Array(raw[$0])) } }
            return out
        }
        let cs = try chunks([path], .init(chunkSize: 4096))
        #expect(cs.count > 40)
        let chunked = cs.flatMap { pieces($0.bytes) }, whole = pieces(text)
        let firstDifference = zip(chunked, whole).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(chunked.count, whole.count)
        #expect(chunked.count == whole.count && firstDifference == whole.count,
                "pieces differ from piece \(firstDifference) (\(chunked.count) vs \(whole.count) pieces)")
    }

    @Test func smallDocumentsArePackedWithTheirStarts() throws {
        let dir = TestData.temporaryDirectory()
        let f = write(dir, "d.jsonl", (0..<100).map { "{\"text\": \"doc \($0)\"}\n" }.joined())
        let cs = try chunks([f], .init(chunkSize: 1024))
        #expect(cs.count == 1)
        let c = try #require(cs.first)
        #expect(c.documentStarts.count == 99)
        var docs: [String] = []
        var lo = 0
        for s in c.documentStarts + [c.bytes.count] {
            docs.append(String(decoding: c.bytes[lo..<s], as: UTF8.self)); lo = s
        }
        #expect(docs == (0..<100).map { "doc \($0)" })
    }

    @Test func emptyCorpusIsAnError() throws {
        let dir = TestData.temporaryDirectory()
        let e = write(dir, "empty.txt", "")
        #expect(throws: LMError.self) { _ = try chunks([e], .init()) }
    }
}
