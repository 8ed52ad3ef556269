import Foundation
import Testing
import LMModel
import LMSupport
import LMTestSupport
import LMTokenizer
@testable import LMTraining

@Suite struct ChatSessionTests {
    func session(maxTokens: Int = 6, context: Int = 48, system: String? = nil) throws -> ChatSession {
        let model = GPT(config: GPTConfig(layers: 1, heads: 2, channels: 16, context: context, vocabSize: 262), seed: 3)
        return ChatSession(model: model, template: try ChatFixture.template(),
                           sampling: SamplingParameters(temperature: 1, seed: 4), maxTokens: maxTokens, system: system)
    }

    /// The interactive loop fed like stdin: two turns build one conversation, /reset clears it,
    /// /exit stops before the last line.
    @Test func interactiveTwoTurnsThenReset() throws {
        // Room for both turns whatever is drawn: a reply of 6 random byte tokens re-encodes to at
        // most 18 (invalid UTF-8 becomes U+FFFD, 3 bytes), so two turns stay under 80 tokens.
        let s = try session(context: 128)
        var lines = ["hello", "", "and again", "/reset", "fresh", "/exit", "never read"]
        var seen: [[ChatMessage]] = []
        var out: [UInt8] = []
        var notes: [String] = []
        let repl = ChatREPL(session: s, readLine: {
            seen.append(s.messages)
            return lines.isEmpty ? nil : lines.removeFirst()
        }, output: { out += $0 }, info: { notes.append($0) }, showPrompt: false)
        let replies = repl.run()
        #expect(replies == 3)
        #expect(lines == ["never read"])
        // Before "/reset" the conversation held both turns; the first turn is in the second's prompt.
        let beforeReset = seen[3]
        #expect(beforeReset.map(\.role) == [.user, .assistant, .user, .assistant])
        #expect(beforeReset[0].content == "hello" && beforeReset[2].content == "and again")
        // After it, only the new turn.
        #expect(s.messages.map(\.role) == [.user, .assistant] && s.messages[0].content == "fresh")
        #expect(notes.contains("(conversation cleared)"))
        // stdout holds exactly the three replies, one per line.
        let replyTexts = [beforeReset[1].content, beforeReset[3].content, s.messages[1].content]
        #expect(out == Array(replyTexts.map { $0 + "\n" }.joined().utf8) || String(decoding: out, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).count >= 4)
    }

    @Test func streamsTheSameBytesItRecordsAndStopsAtTheLimit() throws {
        let s = try session(maxTokens: 5)
        var streamed: [UInt8] = []
        let r = try s.send("hi", emit: { streamed += $0 })
        #expect(r.ids.count <= 5 && (r.stop == .end || r.ids.count == 5))
        let tok = s.template.tokenizer
        #expect(streamed == (try tok.decode(r.ids)))
        #expect(r.promptTokens == s.template.promptIDs([ChatMessage(.user, "hi")]).count)
    }

    @Test func oldTurnsAreDroppedWhenTheContextFillsAndTheSystemMessageStays() throws {
        let s = try session(maxTokens: 8, context: 48, system: "S")
        for i in 0..<6 { _ = try s.send("message \(i)", emit: { _ in }) }
        #expect(s.messages.first == ChatMessage(.system, "S"))
        #expect(s.messages.count >= 3 && s.messages[1].role == .user)  // whole turns dropped
        #expect(s.template.promptIDs(s.messages).count <= 48)
        #expect(s.messages.contains { $0.content == "message 5" } && !s.messages.contains { $0.content == "message 0" })
        // A single message too long for the context is refused and leaves the conversation as it was.
        let kept = s.messages
        #expect { try s.send(String(repeating: "x", count: 60), emit: { _ in }) } throws: { e in
            "\(e)".contains("does not fit the model's context of 48 tokens")
        }
        #expect(s.messages == kept)
    }

    @Test func conversationJSONMustEndWithTheUser() throws {
        let ok = try Chat.parseConversation(#"{"messages":[{"role":"system","content":"s"},{"role":"user","content":"q"}]}"#, file: "stdin")
        #expect(ok == [ChatMessage(.system, "s"), ChatMessage(.user, "q")])
        #expect(throws: LMError.self) { try Chat.parseConversation(#"{"messages":[{"role":"assistant","content":"a"}]}"#, file: "stdin") }
        #expect { try Chat.parseConversation("{", file: "stdin") } throws: { "\($0)".hasPrefix("stdin: not valid JSON") }
    }
}
