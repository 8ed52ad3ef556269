import Foundation
import Testing
import LMSupport
import LMTestSupport
import LMTokenizer
@testable import LMTraining

/// Byte-level vocab (ids 0–255 = bytes, <|endoftext|> = 256) plus the chat tokens 257–261.
enum ChatFixture {
    static func byteVocabulary() throws -> Vocabulary {
        try Vocabulary(pattern: .gpt2, tokens: (0..<256).map { [UInt8($0)] },
                       specialTokens: [SpecialToken("<|endoftext|>", id: 256)])
    }
    static func chatVocabulary() throws -> Vocabulary {
        try byteVocabulary().adding(specialTokens: ChatTemplate.specialTokens).vocabulary
    }
    static func template() throws -> ChatTemplate {
        try ChatTemplate(tokenizer: BPETokenizer(chatVocabulary()))
    }
    static func bytes(_ s: String) -> [Int32] { s.utf8.map { Int32($0) } }
}

@Suite struct ChatTemplateTests {
    @Test func addSpecialKeepsEveryIDAndNumbersTheNewOnes() throws {
        let base = try ChatFixture.byteVocabulary()
        let (v, added) = try base.adding(specialTokens: ChatTemplate.specialTokens)
        #expect(added.map(\.text) == ChatTemplate.specialTokens)
        #expect(added.map(\.id) == [257, 258, 259, 260, 261])
        #expect(v.tokens == base.tokens && v.specialID("<|endoftext|>") == 256 && v.idLimit == 262)
        #expect(v.extends(base) && !base.extends(v))
        // Adding again changes nothing; a partly present set only adds the missing ones.
        let again = try v.adding(specialTokens: ChatTemplate.specialTokens)
        #expect(again.added.isEmpty && again.vocabulary == v)
        let partial = try base.adding(specialTokens: ["<|end|>"]).vocabulary.adding(specialTokens: ChatTemplate.specialTokens)
        #expect(partial.vocabulary.specialID("<|end|>") == 257 && partial.vocabulary.specialID("<|bos|>") == 258)
        #expect(throws: LMError.self) { try base.adding(specialTokens: ["<|a|>", "<|a|>"]) }
        // A vocab with other ranks does not extend the base.
        #expect(try !Vocabulary(pattern: .gpt2, tokens: base.tokens, specialTokens: [SpecialToken("<|endoftext|>", id: 300)]).extends(base))
        #expect(try !Vocabulary(pattern: .cl100k, tokens: base.tokens, specialTokens: base.specialTokens).extends(base))
    }

    /// The doc comment's example, by hand: system "Be", user "Hi", assistant "Yo".
    @Test func handWorkedSystemUserAssistant() throws {
        let t = try ChatFixture.template()
        let r = t.render([ChatMessage(.system, "Be"), ChatMessage(.user, "Hi"), ChatMessage(.assistant, "Yo")])
        #expect(r.ids == [257, 258, 66, 101, 261, 259, 72, 105, 261, 260, 89, 111, 261])
        #expect(r.mask == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
        let ex = SFTExample(r)
        #expect(ex.inputs == Array(r.ids.dropLast()))
        #expect(ex.targets == [-1, -1, -1, -1, -1, -1, -1, -1, -1, 89, 111, 261])
        #expect(t.promptIDs([ChatMessage(.user, "Hi")]) == [257, 259, 72, 105, 261, 260])
    }

    /// Two turns: both assistant messages (and their <|end|>) are trained, nothing else.
    @Test func handWorkedMultiTurn() throws {
        let t = try ChatFixture.template()
        let r = t.render([ChatMessage(.user, "a"), ChatMessage(.assistant, "b"),
                          ChatMessage(.user, "c"), ChatMessage(.assistant, "d")])
        //           bos  usr  a   end  ast  b   end  usr  c   end  ast  d    end
        #expect(r.ids == [257, 259, 97, 261, 260, 98, 261, 259, 99, 261, 260, 100, 261])
        #expect(r.mask == [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1])
        #expect(SFTExample(r).targets == [-1, -1, -1, -1, 98, 261, -1, -1, -1, -1, 100, 261])
        #expect(r.trainedCount == 4)
    }

    /// Special-token text inside a message is plain bytes, so it cannot forge the structure.
    @Test func contentCannotInjectSpecialTokens() throws {
        let t = try ChatFixture.template()
        let r = t.render([ChatMessage(.user, "<|end|>"), ChatMessage(.assistant, "x")])
        #expect(r.ids == [257, 259] + ChatFixture.bytes("<|end|>") + [261, 260, 120, 261])
    }

    @Test func vocabWithoutChatTokensIsRefused() throws {
        let tok = try BPETokenizer(ChatFixture.byteVocabulary())
        #expect { try ChatTemplate(tokenizer: tok, file: "base/vocab.vocab") } throws: { e in
            "\(e)".contains("base/vocab.vocab: the vocab has no chat tokens") && "\(e)".contains("add-special")
        }
    }
}

@Suite struct SFTDataTests {
    func write(_ text: String, _ name: String = "data.jsonl") throws -> String {
        let path = TestData.temporaryDirectory() + "/" + name
        try AtomicFileWriter.write(text, to: path)
        return path
    }

    @Test func readsChatJSONLAndAlpacaArrays() throws {
        let chat = try write("""
            {"messages":[{"role":"system","content":"S"},{"role":"user","content":"U"},{"role":"assistant","content":"A"}]}

            {"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}],"id":7}
            """)
        let r = try SFTData.load(chat)
        #expect(r.count == 2 && r[0].location == "line 1" && r[1].location == "line 3")
        #expect(r[0].messages == [ChatMessage(.system, "S"), ChatMessage(.user, "U"), ChatMessage(.assistant, "A")])
        let alpaca = try write("""
            [{"instruction":"Add","input":"1 2","output":"3"},
             {"instruction":"Hi","input":"","output":"Hello"}]
            """, "a.json")
        let a = try SFTData.load(alpaca)
        #expect(a.map(\.location) == ["record 1", "record 2"])
        #expect(a[0].messages == [ChatMessage(.user, "Add\n\n1 2"), ChatMessage(.assistant, "3")])
        #expect(a[1].messages == [ChatMessage(.user, "Hi"), ChatMessage(.assistant, "Hello")])
        let alpacaLines = try write(#"{"instruction":"Hi","output":"Yo"}"#)
        #expect(try SFTData.load(alpacaLines)[0].messages == [ChatMessage(.user, "Hi"), ChatMessage(.assistant, "Yo")])
    }

    @Test func badRecordsNameFileLineAndField() throws {
        func message(_ text: String, _ name: String = "bad.jsonl") throws -> String {
            let path = try write(text, name)
            do { _ = try SFTData.load(path); return "no error" } catch let e as LMError { #expect(e.file == path); return e.message }
        }
        let ok = #"{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}"#
        #expect(try message(ok + "\n{\"messages\": [oops\n").hasPrefix("line 2: not valid JSON"))
        let role = try message(ok + "\n" + #"{"messages":[{"role":"user","content":"x"},{"role":"bot","content":"y"}]}"#)
        #expect(role.hasPrefix("line 2: field \"messages[1].role\" is \"bot\", an unknown role"))
        #expect(try message(#"{"messages":[{"role":"user","content":3}]}"#).hasPrefix("line 1: field \"messages[0].content\""))
        #expect(try message(#"{"messages":[{"role":"user","content":"x"}]}"#).contains("no assistant message"))
        #expect(try message(#"[{"instruction":"a","output":"b"},{"instruction":"c"}]"#, "bad.json").hasPrefix("record 2: field \"output\""))
        #expect(try message(#"{"text":"plain"}"#).hasPrefix("line 1: has neither"))
        #expect(try message("\n\n").contains("no records"))
    }

    /// The shipped SFT set parses in both of its formats (Alpaca array, chat JSONL).
    @Test func shippedCorporaParse() throws {
        let alpaca = try SFTData.load(TestData.repoPath("Corpora/sft/code_alpaca_2k.json"))
        #expect(alpaca.count == 2017 && alpaca.allSatisfy { $0.messages.map(\.role) == [.user, .assistant] })
        let seeds = try SFTData.load(TestData.repoPath("Corpora/sft/alpaca_seed_tasks.chat.jsonl"))
        #expect(seeds.count == 175 && seeds[0].location == "line 1")
    }

    /// `lmkit tokenize --chat`: the mask is visible in the text and as a column.
    @Test func renderingReportShowsTheMask() throws {
        let path = try write(#"{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}]}"#)
        let tok = try BPETokenizer(ChatFixture.chatVocabulary())
        let text = try ChatRenderingReport(dataPath: path).run(with: tok, vocabFile: "chat.vocab")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "line 1: 9 tokens, 3 trained (mask 1)")
        #expect(lines[1] == "  <|bos|><|user|>Hi<|end|><|assistant|>⟦Yo<|end|>⟧")
        #expect(lines[2].split(separator: " ").dropFirst() == ["257", "259", "72", "105", "261", "260", "89", "111", "261"])
        #expect(lines[3].split(separator: " ").dropFirst() == ["0", "0", "0", "0", "0", "0", "1", "1", "1"])
        var json = ChatRenderingReport(dataPath: path); json.json = true
        #expect(try json.run(with: tok, vocabFile: "v") == #"{"ids":[257,259,72,105,261,260,89,111,261],"location":"line 1","mask":[0,0,0,0,0,0,1,1,1],"trained":3}"# + "\n")
    }

    @Test func splitIsDeterministicAndNearTheFraction() {
        let convs = (0..<2000).map { [ChatMessage(.user, "q\($0)"), ChatMessage(.assistant, "a\($0)")] }
        let a = convs.map { SFTData.isValidation($0, valFraction: 0.1, seed: 0) }
        let b = convs.reversed().map { SFTData.isValidation($0, valFraction: 0.1, seed: 0) }.reversed()
        #expect(a == Array(b))
        let n = a.filter { $0 }.count
        #expect(n > 140 && n < 260)
        #expect(convs.map { SFTData.isValidation($0, valFraction: 0.1, seed: 1) } != a)
        #expect(!convs.contains { SFTData.isValidation($0, valFraction: 0, seed: 0) })
    }
}
