import Foundation
import Testing

/// `lmkit ppo` through the real binary: the whole RLHF chain on the tiny run (finetune → reward
/// train → ppo → chat), and its bad-input lines.
@Suite struct PPOCLITests {
    @Test func chainFromTheTinyRunToAChatWithTheTunedModel() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try SFTCLITests.finetuned(t, w)
        _ = try RewardCLITests.prefs(w)
        try CLI.ok(["reward", "train", "--checkpoint", t.run, "--data", "prefs.jsonl", "--out", "rm",
                    "--steps", "2", "--batch", "4", "--quiet"], in: w.path, timeout: 120)
        let args = ["ppo", "--policy", "sft", "--reward", "rm", "--prompts", "chat.jsonl", "--eval-prompts", "chat.jsonl",
                    "--iterations", "2", "--rollouts", "3", "--max-new-tokens", "6", "--epochs", "2", "--minibatches", "2", "--json", "--quiet"]
        let r = try CLI.ok(args + ["--out", "ppo"], in: w.path, timeout: 120)
        let obj = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], "\(r)")
        let iterations = try #require(obj["iterations"] as? [[String: Any]])
        #expect(iterations.count == 2 && iterations[0]["mean_score"] is NSNumber && iterations[0]["mean_kl"] is NSNumber)
        let eval = try #require(obj["evaluation"] as? [String: Any])
        #expect(eval["prompts"] as? Int == 10 && eval["tuned_win_rate"] is NSNumber)
        for f in ["model.safetensors", "config.json", "vocab.vocab", "metrics.jsonl", "score.svg", "value/model.safetensors"] {
            #expect(w.exists("ppo/" + f), "ppo/\(f)")
        }
        // Same seed, same run.
        let again = try CLI.ok(args + ["--out", "ppo2"], in: w.path, timeout: 120)
        let strip = { (d: Data) in String(decoding: d, as: UTF8.self).replacingOccurrences(of: #""elapsed_s":[0-9.e+-]+"#, with: "", options: .regularExpression) }
        #expect(strip(again.stdout) == strip(r.stdout))
        let c = try CLI.ok(["chat", "--checkpoint", "ppo", "--message", "Hi", "--json", "--max-tokens", "4"], in: w.path)
        #expect((try JSONSerialization.jsonObject(with: c.stdout) as? [String: Any])?["reply"] is String, "\(c)")

        // Bad input: one line, nothing written.
        try BadInput.check(["ppo", "--policy", t.run, "--reward", "rm", "--prompts", "chat.jsonl", "--out", "x"],
                           in: w.path, mentioning: ["not a chat model", "finetune"], noOutput: ["x/model.safetensors"])
        try BadInput.check(["ppo", "--policy", "sft", "--reward", "sft", "--prompts", "chat.jsonl", "--out", "x"],
                           in: w.path, mentioning: ["not a reward model"], noOutput: ["x/model.safetensors"])
        try BadInput.check(["ppo", "--policy", "sft", "--reward", "rm", "--prompts", "missing.jsonl", "--out", "x",
                            "--max-new-tokens", "6"], in: w.path, mentioning: ["missing.jsonl"], noOutput: ["x/model.safetensors"])
        try BadInput.check(["ppo", "--policy", "sft", "--reward", "rm", "--prompts", "chat.jsonl", "--out", "x"],
                           in: w.path, mentioning: ["--max-new-tokens must be in 1..<16"], noOutput: ["x/model.safetensors"])
        try BadInput.check(["ppo", "--policy", "sft", "--reward", "rm", "--prompts", "chat.jsonl", "--out", "ppo"],
                           in: w.path, mentioning: ["already holds a model", "--resume"])

        // --resume: the run's own options are used; one more iteration extends it, and a run that
        // is done, a run that does not exist or another option each give one line.
        let resumed = try CLI.ok(["ppo", "--policy", "sft", "--reward", "rm", "--prompts", "chat.jsonl", "--out", "ppo",
                                  "--resume", "--iterations", "3", "--json", "--quiet"], in: w.path, timeout: 120)
        let more = try #require(try JSONSerialization.jsonObject(with: resumed.stdout) as? [String: Any], "\(resumed)")
        #expect((more["iterations"] as? [[String: Any]])?.count == 3)
        try BadInput.check(["ppo", "--policy", "sft", "--reward", "rm", "--prompts", "chat.jsonl", "--out", "ppo", "--resume"],
                           in: w.path, mentioning: ["already did its 3 iterations", "--iterations"])
        try BadInput.check(["ppo", "--policy", "sft", "--reward", "rm", "--prompts", "chat.jsonl", "--out", "ppo", "--resume",
                            "--iterations", "4", "--clip", "0.3"], in: w.path, mentioning: ["--clip 0.2 (now 0.3)"])
        try BadInput.check(["ppo", "--policy", "sft", "--reward", "rm", "--prompts", "chat.jsonl", "--out", "nothing", "--resume"],
                           in: w.path, mentioning: ["nothing", "ppo_state.json is missing"], noOutput: ["nothing"])
    }
}
