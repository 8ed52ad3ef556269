import Foundation
import Testing
import LMTestSupport
import LMTokenizer

/// The scanners against the regex engine (`RegexPreTokenizer`, ICU) on whole shared corpora:
/// Tiny Shakespeare, UDHR (388 languages), emoji-test and CPython source (~7 MB, each jsonl
/// record a separate document). Skipped when `../shared/corpora` is absent.
@Suite struct PreTokenizerCorpusTests {
    struct Record: Decodable { var text: String }

    /// The documents of the shared corpora used here, or nil when they are absent.
    static func documents() throws -> [(name: String, bytes: [UInt8])]? {
        guard let root = TestData.sharedCorpora else { return nil }
        var docs: [(String, [UInt8])] = []
        for file in ["tinyshakespeare.txt", "multilingual/emoji-test-A.txt"] {
            docs.append((file, Array(try Data(contentsOf: URL(fileURLWithPath: root + "/" + file)))))
        }
        for file in ["multilingual/udhr2-multilingual-A.jsonl", "multilingual/cpython311-stdlib-A.jsonl"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + file))
            for (k, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
                let rec = try JSONDecoder().decode(Record.self, from: Data(line))
                docs.append(("\(file)#\(k)", Array(rec.text.utf8)))
            }
        }
        return docs
    }

    static func ends(_ bytes: [UInt8], _ split: (UnsafeRawBufferPointer, (Range<Int>) -> Void) -> Void) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(bytes.count / 3)
        bytes.withUnsafeBytes { raw in split(raw) { out.append($0.upperBound) } }
        return out
    }

    @Test(arguments: [SplitPattern.gpt2, .cl100k, .o200k])
    func scannerMatchesRegexEngineOnSharedCorpora(pattern: SplitPattern) throws {
        guard let docs = try Self.documents() else { return }  // no ../shared/corpora: skip
        #expect(docs.count > 400)
        let fast = try PreTokenizer(pattern: pattern)
        let slow = try RegexPreTokenizer(pattern: pattern)
        var mismatched = 0, pieces = 0
        for (name, bytes) in docs {
            let got = Self.ends(bytes, fast.forEachPiece)
            let want = Self.ends(bytes, slow.forEachPiece)
            pieces += want.count
            guard got != want else { continue }
            mismatched += 1
            let k = zip(got, want).prefix { $0 == $1 }.count
            let at = k == 0 ? 0 : want[k - 1]
            let context = String(decoding: bytes[at..<min(bytes.count, at + 40)], as: UTF8.self)
            Issue.record("\(pattern.name) \(name): pieces differ from byte \(at) on: \(context.debugDescription)")
            if mismatched >= 5 { break }
        }
        #expect(mismatched == 0 && pieces > 1_000_000)
    }
}
