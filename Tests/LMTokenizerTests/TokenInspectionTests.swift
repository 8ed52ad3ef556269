import Foundation
import Testing
import LMSupport
import LMTestSupport
@testable import LMTokenizer

@Suite struct TokenInspectionTests {
    func gpt2() throws -> BPETokenizer { try BPETokenizer(try VocabularyFile.read(TestData.repoPath("Vocab/gpt2.vocab"))) }

    @Test func idsFormatIsIDsOnly() throws {
        let tok = try gpt2()
        let out = try TokenizeRequest(text: Array("Hello world".utf8), format: .ids).run(with: tok)
        #expect(String(decoding: out, as: UTF8.self) == tok.encodeOrdinary("Hello world").map(String.init).joined(separator: " ") + "\n")
        #expect(TokenRendering.ids([]) == Array("\n".utf8))
        #expect(TokenRendering.ids([0, 7, 4_000_000_000]) == Array("0 7 4000000000\n".utf8))
    }

    @Test func prettyShowsWhitespaceAndSummary() throws {
        let tok = try gpt2()
        let text = "a b\n\tc"
        let out = String(decoding: try TokenizeRequest(text: Array(text.utf8), format: .pretty).run(with: tok), as: UTF8.self)
        let ids = tok.encodeOrdinary(text)
        #expect(out.contains("[·b]"))
        #expect(out.contains("↵]"))
        #expect(out.contains("[→"))
        #expect(!out.contains("\u{1B}["))   // no colours unless asked
        #expect(out.contains("\(ids.count) tokens, \(text.utf8.count) bytes"))
        let coloured = String(decoding: try TokenizeRequest(text: Array(text.utf8), format: .pretty, color: true).run(with: tok), as: UTF8.self)
        #expect(coloured.contains("\u{1B}[48;5;"))
        #expect(TokenRendering.visible([0xE2, 0x82]) == "\\xe2\\x82")   // half a character
    }

    @Test func jsonFormatParses() throws {
        let tok = try gpt2()
        let text = "héllo 👋"
        let out = try TokenizeRequest(text: Array(text.utf8), format: .json).run(with: tok)
        let o = try JSONSerialization.jsonObject(with: Data(out)) as! [String: Any]
        #expect((o["ids"] as! [NSNumber]).map(\.uint32Value) == tok.encodeOrdinary(text))
        let tokens = o["tokens"] as! [[String: Any]]
        #expect(tokens.count == tok.encodeOrdinary(text).count)
        #expect(tokens.contains { $0["hex"] != nil })   // the emoji is split inside its UTF-8
        #expect(o["bytes"] as? Int == text.utf8.count)
    }

    @Test func jsonlRecordsAreSeparate() throws {
        let tok = try gpt2()
        let input = "{\"text\": \"hello world\"}\n\"bare\"\n{\"text\": \"a\\nb\"}\n"
        var req = TokenizeRequest(text: Array(input.utf8), format: .ids)
        req.jsonlField = "text"
        let lines = String(decoding: try req.run(with: tok), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4)
        #expect(lines[0] == tok.encodeOrdinary("hello world").map(String.init).joined(separator: " "))
        #expect(lines[2] == tok.encodeOrdinary("a\nb").map(String.init).joined(separator: " "))
        req.text = Array("{\"body\": 1}\n".utf8)
        req.source = "x.jsonl"
        #expect { try req.run(with: tok) } throws: { e in "\(e)".hasPrefix("x.jsonl: line 1: no string field \"text\"") }
    }

    @Test func detokenizeParsesIDsAndRejectsJunk() throws {
        let tok = try gpt2()
        let ids = tok.encodeOrdinary("Hello world")
        #expect(try DetokenizeRequest(idText: Array("\(ids[0]) \(ids[1])\n".utf8)).run(with: tok) == Array("Hello world".utf8))
        #expect(try DetokenizeRequest(idText: Array("[\(ids[0]), \(ids[1])]".utf8)).run(with: tok) == Array("Hello world".utf8))
        #expect { try DetokenizeRequest(idText: Array("12 abc".utf8), source: "ids.txt").run(with: tok) } throws: { e in
            "\(e)".hasPrefix("ids.txt: \"abc\" at byte 3 is not a token id")
        }
        #expect { try DetokenizeRequest(idText: Array("50257".utf8), source: "stdin").run(with: tok) } throws: { e in
            "\(e)".hasPrefix("stdin: token id 50257")
        }
        #expect(throws: LMError.self) { try DetokenizeRequest(idText: Array("99999999999".utf8)).run(with: tok) }
    }

    @Test func vocabularyInfo() throws {
        let info = VocabularyInfo(try VocabularyFile.read(TestData.repoPath("Vocab/gpt2.vocab")))
        #expect(info.ranks == 50256 && info.idLimit == 50257 && info.pattern == "gpt2")
        #expect(info.text.contains("<|endoftext|>=50256"))
        #expect(info.json.contains("\"fingerprint\""))
    }
}
