import Foundation
import Testing

/// `lmkit vocab add-special`, `finetune`, `chat` through the real binary (issue 5).
@Suite struct SFTCLITests {
    /// The tiny run's vocab with the chat tokens added, in `w`.
    static func chatVocab(_ t: TinyRun, _ w: Workspace) throws -> String {
        try CLI.ok(["vocab", "add-special", "--vocab", t.run + "/vocab.vocab", "--output", "chat.vocab", "--quiet"], in: w.path)
        return w.url("chat.vocab")
    }

    static let good = #"{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello."}]}"#

    /// `w/chat.jsonl` (10 good conversations) and `w/sft`: the tiny run fine-tuned on it for 2 steps.
    static func finetuned(_ t: TinyRun, _ w: Workspace) throws {
        let v = try chatVocab(t, w)
        try w.write("chat.jsonl", String(repeating: good + "\n", count: 10))
        try CLI.ok(["finetune", "--checkpoint", t.run, "--vocab", v, "--data", "chat.jsonl", "--out", "sft",
                    "--steps", "2", "--batch", "2", "--quiet"], in: w.path, timeout: 120)
    }

    @Test func addSpecialKeepsIdsAndTokenizeSeesTheChatTokens() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let v = try Self.chatVocab(t, w)
        let info = try CLI.ok(["vocab", "info", "--vocab", v], in: w.path)
        for tok in ["<|user|>", "<|assistant|>", "<|end|>"] { #expect(info.stdoutText.contains(tok), "\(info)") }
        let a = try CLI.ok(["tokenize", "--vocab", t.vocab, "--format", "ids", "ROMEO: hi"], in: w.path)
        let b = try CLI.ok(["tokenize", "--vocab", v, "--format", "ids", "ROMEO: hi"], in: w.path)
        #expect(a.stdout == b.stdout, "existing ids are unchanged")
    }

    @Test func finetuneMalformedJSONLNamesTheLine() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let v = try Self.chatVocab(t, w)
        try w.write("chat.jsonl", Self.good + "\n" + Self.good + "\n" + #"{"messages":[{"role":"user","content":"Hi"}"# + "\n")
        try BadInput.check(["finetune", "--checkpoint", t.run, "--vocab", v, "--data", "chat.jsonl", "--out", "sft",
                            "--steps", "1"], in: w.path, mentioning: ["chat.jsonl", "line 3"], noOutput: ["sft/model.safetensors"])
    }

    @Test func finetuneUnknownRole() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let v = try Self.chatVocab(t, w)
        let bad = #"{"messages":[{"role":"wizard","content":"Hi"},{"role":"assistant","content":"Hello."}]}"#
        try w.write("chat.jsonl", Self.good + "\n" + bad + "\n")
        try BadInput.check(["finetune", "--checkpoint", t.run, "--vocab", v, "--data", "chat.jsonl", "--out", "sft",
                            "--steps", "1"], in: w.path, mentioning: ["chat.jsonl", "line 2", "wizard"],
                           noOutput: ["sft/model.safetensors"])
    }

    @Test func finetuneMissingDataAndBaseWithoutChatTokens() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let v = try Self.chatVocab(t, w)
        try BadInput.check(["finetune", "--checkpoint", t.run, "--vocab", v, "--data", "missing.jsonl", "--out", "sft",
                            "--steps", "1"], in: w.path, mentioning: ["missing.jsonl"], noOutput: ["sft/model.safetensors"])
        try w.write("chat.jsonl", Self.good + "\n")
        // The base run's own vocab has no chat tokens.
        try BadInput.check(["finetune", "--checkpoint", t.run, "--data", "chat.jsonl", "--out", "sft", "--steps", "1"],
                           in: w.path, mentioning: ["vocab"], noOutput: ["sft/model.safetensors"])
        try BadInput.check(["finetune", "--checkpoint", "norun", "--vocab", v, "--data", "chat.jsonl", "--out", "sft",
                            "--steps", "1"], in: w.path, mentioning: ["norun"], noOutput: ["sft/model.safetensors"])
    }

    @Test func chatWithABaseModelWithoutChatTokens() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["chat", "--checkpoint", t.run, "--message", "hi"], in: w.path, mentioning: ["vocab.vocab"])
        // The grown vocab does not fit the base model either (finetune grows it, chat does not).
        let v = try Self.chatVocab(t, w)
        try BadInput.check(["chat", "--checkpoint", t.run, "--vocab", v, "--message", "hi"], in: w.path,
                           mentioning: ["chat.vocab"])
    }

    /// finetune 2 steps → chat (--json, deterministic by seed, stdin REPL with /reset) and bad conversations.
    @Test func finetuneThenChat() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try Self.finetuned(t, w)
        let metrics = try String(contentsOfFile: w.url("sft/metrics.jsonl"), encoding: .utf8)
        #expect(!metrics.isEmpty)
        let args = ["chat", "--checkpoint", "sft", "--message", "Hi", "--json", "--max-tokens", "4", "--seed", "3"]
        let a = try CLI.ok(args, in: w.path)
        let obj = try #require(try JSONSerialization.jsonObject(with: a.stdout) as? [String: Any], "\(a)")
        #expect(obj["reply"] is String && obj["stop"] is String && obj["tokens"] is NSNumber, "\(a)")
        #expect(try CLI.ok(args, in: w.path).stdout == a.stdout, "same seed, same reply")
        let repl = try CLI.ok(["chat", "--checkpoint", "sft", "--max-tokens", "3"], in: w.path,
                              stdin: Data("hello\n/reset\nhi again\n/exit\n".utf8))
        #expect(repl.stderr.contains("cleared"), "/reset clears the conversation: \(repl)")

        try w.write("conv.json", #"{"messages": [{"role": "user", "content": 3}]}"#)
        try BadInput.check(["chat", "--checkpoint", "sft", "--conversation", "conv.json"], in: w.path,
                           mentioning: ["conv.json", "content"])
        try BadInput.check(["chat", "--checkpoint", "sft", "--conversation", "-"], in: w.path,
                           stdin: Data(#"{"messages": [{"role": "user""#.utf8), mentioning: ["stdin"])
        try BadInput.check(["chat", "--checkpoint", "sft", "--conversation", "missing.json"], in: w.path,
                           mentioning: ["missing.json"])
    }

    @Test func finetuneEmptyDataAndUnwritableOut() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let v = try Self.chatVocab(t, w)
        try w.write("empty.jsonl", "")
        try BadInput.check(["finetune", "--checkpoint", t.run, "--vocab", v, "--data", "empty.jsonl", "--out", "sft",
                            "--steps", "1"], in: w.path, mentioning: ["empty.jsonl"], noOutput: ["sft"])
        try w.write("chat.jsonl", String(repeating: Self.good + "\n", count: 4))
        try w.write("file", "a regular file")
        try BadInput.check(["finetune", "--checkpoint", t.run, "--vocab", v, "--data", "chat.jsonl", "--out", "file/sft",
                            "--steps", "1"], in: w.path, mentioning: ["file/sft"])
    }

    @Test func tokenizeChatShowsTheMaskAndRefusesBadRecords() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let v = try Self.chatVocab(t, w)
        try w.write("chat.jsonl", Self.good + "\n")
        let r = try CLI.ok(["tokenize", "--vocab", v, "--chat", "chat.jsonl", "--format", "json"], in: w.path)
        #expect((try? JSONSerialization.jsonObject(with: r.stdout)) != nil || r.stdoutText.split(separator: "\n").allSatisfy {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "json output parses: \(r)")
        try w.write("bad.jsonl", Self.good + "\n" + #"{"messages":[{"role":"robot","content":"x"}]}"# + "\n")
        try BadInput.check(["tokenize", "--vocab", v, "--chat", "bad.jsonl"], in: w.path,
                           mentioning: ["bad.jsonl", "line 2", "robot"])
    }

    @Test func finetuneConversationLongerThanTheContext() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let v = try Self.chatVocab(t, w)
        let long = #"{"messages":[{"role":"user","content":"Tell me a very long story about the king and the queen"},"#
            + #"{"role":"assistant","content":"Once upon a time there was a long story that never ends."}]}"#
        try w.write("long.jsonl", Self.good + "\n" + long + "\n")
        try BadInput.check(["finetune", "--checkpoint", t.run, "--vocab", v, "--data", "long.jsonl", "--out", "sft",
                            "--steps", "1"], in: w.path, mentioning: ["long.jsonl", "line 2", "--skip-long"], noOutput: ["sft"])
    }
}
