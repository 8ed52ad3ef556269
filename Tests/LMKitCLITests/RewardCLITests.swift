import Foundation
import Testing

/// `lmkit reward train`, `eval`, `score` through the real binary.
@Suite struct RewardCLITests {
    /// Preference pairs a model can learn: polite (chosen) vs rude (rejected) answers.
    static func prefs(_ w: Workspace, count: Int = 60) throws -> String {
        let polite = ["sure, glad to help", "thanks, here it is"], rude = ["no, go away", "do it yourself"]
        var lines: [String] = []
        for i in 0..<count {
            lines.append(#"{"chosen": "Q\#(i % 9): \#(polite[i % 2])", "rejected": "Q\#(i % 9): \#(rude[i / 2 % 2])"}"#)
        }
        return try w.write("prefs.jsonl", lines.joined(separator: "\n") + "\n")
    }

    @Test func trainEvalAndScore() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        _ = try Self.prefs(w)
        let r = try CLI.ok(["reward", "train", "--checkpoint", t.run, "--data", "prefs.jsonl", "--out", "rm",
                            "--steps", "4", "--batch", "4", "--quiet"], in: w.path, timeout: 120)
        #expect(r.stdoutText.contains("val_accuracy"), "\(r)")
        for f in ["model.safetensors", "config.json", "vocab.vocab", "state.json", "metrics.jsonl"] { #expect(w.exists("rm/" + f), "rm/\(f)") }
        let e = try CLI.ok(["reward", "eval", "--checkpoint", "rm", "--data", "prefs.jsonl", "--json"], in: w.path)
        let obj = try #require(try JSONSerialization.jsonObject(with: e.stdout) as? [String: Any])
        let pairs = try #require(obj["pairs"] as? Int)
        #expect(pairs > 0 && pairs < 60 && obj["accuracy"] is Double)
        let s = try CLI.ok(["reward", "score", "--checkpoint", "rm", "Q1: sure, glad to help", "Q1: no, go away"], in: w.path)
        let values = s.stdoutText.split(separator: "\n").compactMap { Double($0) }
        #expect(values.count == 2, "\(s)")
    }

    @Test func badInputGivesOneLine() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try w.write("bad.jsonl", #"{"chosen": "a", "rejected": "b"}"# + "\n" + #"{"chosen": "a"}"# + "\n")
        try BadInput.check(["reward", "train", "--checkpoint", t.run, "--data", "bad.jsonl", "--out", "rm", "--steps", "1"],
                           in: w.path, mentioning: ["bad.jsonl", "line 2", "rejected"], noOutput: ["rm/model.safetensors"])
        try BadInput.check(["reward", "train", "--checkpoint", t.run, "--data", "missing.jsonl", "--out", "rm", "--steps", "1"],
                           in: w.path, mentioning: ["missing.jsonl"], noOutput: ["rm/model.safetensors"])
        // A language model is not a reward model.
        try BadInput.check(["reward", "score", "--checkpoint", t.run, "hello"], in: w.path, mentioning: ["reward model"])
    }
}
