import Foundation
import LMTestSupport
import Testing

/// A tiny pipeline made once per test run: a 300-id vocab trained on 20 KB of Shakespeare,
/// shards with a val split, and a 1-layer 32-wide model pretrained for 3 steps.
struct TinyRun: Sendable {
    let root: String
    var vocab: String { root + "/tiny.vocab" }
    var shards: String { root + "/shards" }
    var run: String { root + "/run" }
    static let modelFlags = ["--layers", "1", "--heads", "1", "--dim", "32", "--context", "16"]

    static let shared: Result<TinyRun, TinyRunError> = {
        let w = Workspace("lmkit-cli-tiny")
        do {
            let text = try Repo.shakespeare(bytes: 20_000)
            var docs = ""
            for (i, l) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
                docs += l + "\n"
                if i % 20 == 19 { docs += "<|endoftext|>\n" }
            }
            try w.write("docs.txt", docs)
            try CLI.ok(["vocab", "train", "--input", "docs.txt", "--vocab-size", "300", "--special", "<|endoftext|>",
                        "--output", "tiny.vocab", "--quiet", "--threads", "1"], in: w.path)
            try CLI.ok(["shard", "--vocab", "tiny.vocab", "--input", "docs.txt", "--output", "shards",
                        "--val-fraction", "0.2", "--quiet"], in: w.path)
            try CLI.ok(["pretrain", "--data", "shards", "--vocab", "tiny.vocab", "--out", "run"] + modelFlags
                       + ["--steps", "3", "--batch", "4", "--eval-batches", "2", "--quiet"], in: w.path, timeout: 120)
            return .success(TinyRun(root: w.path))
        } catch {
            return .failure(TinyRunError(message: "\(error)"))
        }
    }()

    static func get() throws -> TinyRun { try shared.get() }

    /// A copy of the run directory that a test may damage.
    func copyOfRun(in w: Workspace, as name: String = "run-copy") throws -> String {
        let dst = w.url(name)
        try FileManager.default.copyItem(atPath: run, toPath: dst)
        return dst
    }
}

struct TinyRunError: Error, CustomStringConvertible, Sendable {
    var message: String
    var description: String { "the tiny pipeline could not be built: \(message)" }
}

/// `lmkit pretrain`, `sample`, `eval` through the real binary (issue 4).
@Suite struct ModelCLITests {
    @Test func pretrainWritesParseableMetrics() throws {
        let t = try TinyRun.get()
        for name in ["model.safetensors", "config.json", "metrics.jsonl", "vocab.vocab"] {
            #expect(FileManager.default.fileExists(atPath: t.run + "/" + name), "RUN/\(name)")
        }
        let lines = try String(contentsOfFile: t.run + "/metrics.jsonl", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty)
        for line in lines {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            for key in ["step", "train_loss", "lr", "tokens_per_s", "elapsed_s"] {
                #expect(obj[key] is NSNumber, "metrics line has numeric \(key): \(line)")
            }
            if let loss = obj["train_loss"] as? Double { #expect(loss.isFinite && loss > 0) }
        }
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        #expect((last["step"] as? Int) == 3)
        #expect(BadInput.tempFiles(in: t.root).isEmpty)
    }

    @Test func evalJSONParses() throws {
        let t = try TinyRun.get()
        let r = try CLI.ok(["eval", "--checkpoint", t.run, "--data", t.shards, "--json", "--batch", "2"], in: t.root)
        let obj = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], "\(r)")
        let loss = try #require(obj["loss"] as? Double)
        #expect(loss.isFinite && loss > 0)
        #expect(obj["bits_per_byte"] is NSNumber && obj["tokens"] is NSNumber)
        let w = Workspace()
        defer { w.remove() }
        let f = try w.write("t.txt", "ROMEO: But soft, what light through yonder window breaks?\n")
        let r2 = try CLI.ok(["eval", "--checkpoint", t.run, "--text-file", f, "--json"], in: w.path)
        #expect((try? JSONSerialization.jsonObject(with: r2.stdout)) != nil, "\(r2)")
    }

    @Test func sampleIsDeterministicBySeed() throws {
        let t = try TinyRun.get()
        let args = ["sample", "--checkpoint", t.run, "--max-tokens", "5", "--seed", "1", "--prompt", "ROMEO:", "--quiet"]
        let a = try CLI.ok(args, in: t.root)
        let b = try CLI.ok(args, in: t.root)
        #expect(a.stdout == b.stdout, "same seed, same text")
        #expect(a.stdout.starts(with: Data("ROMEO:".utf8)) && a.stdout.count > "ROMEO:\n".count, "\(a)")
        // Several samples together: sample 0 is the single-sample text of the seed, sample 1 that of seed + 1.
        let batch = try CLI.ok(args + ["--samples", "3", "--json"], in: t.root)
        let items = try #require(try JSONSerialization.jsonObject(with: batch.stdout) as? [[String: Any]], "\(batch)")
        #expect(items.count == 3 && items.map { $0["seed"] as? Int } == [1, 2, 3])
        let text0 = try #require(items[0]["text"] as? String)
        #expect(text0 + "\n" == a.stdoutText, "\(text0) vs \(a.stdoutText)")
        var seed2 = args
        seed2[seed2.firstIndex(of: "1")!] = "2"
        #expect((items[1]["text"] as? String).map { $0 + "\n" } == (try CLI.ok(seed2, in: t.root)).stdoutText)
        try BadInput.check(args + ["--samples", "0"], in: t.root, mentioning: ["--samples"], exitCode: 64)
    }

    // MARK: bad input

    @Test func pretrainMissingData() throws {
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["pretrain", "--data", "noshards", "--out", "run"] + TinyRun.modelFlags + ["--steps", "1"],
                           in: w.path, mentioning: ["noshards"], noOutput: ["run"])
    }

    @Test func pretrainMismatchedVocab() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["pretrain", "--data", t.shards, "--vocab", Repo.gpt2Vocab, "--out", "run"] + TinyRun.modelFlags
                           + ["--steps", "1"], in: w.path, mentioning: ["gpt2.vocab"], noOutput: ["run"])
    }

    @Test func pretrainResumeWithAnotherShape() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let run = try t.copyOfRun(in: w)
        let before = try Data(contentsOf: URL(fileURLWithPath: run + "/model.safetensors"))
        try BadInput.check(["pretrain", "--data", t.shards, "--out", run, "--resume", "--layers", "2", "--heads", "2",
                            "--dim", "64", "--context", "16", "--steps", "4"], in: w.path, mentioning: [run])
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/model.safetensors")) == before, "the checkpoint is untouched")
    }

    @Test func pretrainOutOfRangeOptions() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let base = ["pretrain", "--data", t.shards, "--vocab", t.vocab, "--out", "run", "--steps", "1"]
        // Range checks run in validate(): one line, exit 64 (EX_USAGE), nothing written.
        let cases: [([String], String)] = [
            (TinyRun.modelFlags + ["--batch", "0"], "--batch"),
            (TinyRun.modelFlags + ["--lr=-1"], "--lr"),
            (TinyRun.modelFlags + ["--lr", "2"], "--lr"),
            (["--layers", "1", "--heads", "3", "--dim", "32", "--context", "16"], "--heads"),
            (["--layers", "0", "--heads", "1", "--dim", "32", "--context", "16"], "--layers"),
            (TinyRun.modelFlags + ["--accum", "0"], "--accum"),
            (TinyRun.modelFlags + ["--threads", "0"], "--threads"),
        ]
        for (flags, name) in cases {
            try BadInput.check(base + flags, in: w.path, mentioning: [name], noOutput: ["run"], exitCode: 64)
        }
        // `--lr -1` (a value that looks like an option) is an ArgumentParser syntax error: accepted as exit 64.
        try BadInput.usage(base + TinyRun.modelFlags + ["--lr", "-1"], in: w.path, mentioning: ["--lr"])
        #expect(!w.exists("run"))
    }

    @Test func missingCheckpoint() throws {
        let w = Workspace()
        defer { w.remove() }
        try w.write("t.txt", "hello\n")
        try BadInput.check(["sample", "--checkpoint", "norun", "--max-tokens", "3"], in: w.path, mentioning: ["norun"])
        try BadInput.check(["eval", "--checkpoint", "norun", "--text-file", "t.txt"], in: w.path, mentioning: ["norun"])
        try BadInput.check(["chat", "--checkpoint", "norun", "--message", "hi"], in: w.path, mentioning: ["norun"])
    }

    /// Damaged checkpoints: a truncated weights file, a garbage weights file, a broken config.json.
    @Test(arguments: ["truncated-weights", "garbage-weights", "broken-config", "missing-weights"])
    func corruptedCheckpoint(damage: String) throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let run = try t.copyOfRun(in: w, as: "run-\(damage)")
        let weights = run + "/model.safetensors"
        var file = "model.safetensors"
        switch damage {
        case "truncated-weights":
            let d = try Data(contentsOf: URL(fileURLWithPath: weights))
            try d.prefix(d.count / 2).write(to: URL(fileURLWithPath: weights))
        case "garbage-weights":
            try Data("not a safetensors file at all".utf8).write(to: URL(fileURLWithPath: weights))
        case "broken-config":
            try Data("{\"n_layer\": ".utf8).write(to: URL(fileURLWithPath: run + "/config.json"))
            file = "config.json"
        default:
            try FileManager.default.removeItem(atPath: weights)
        }
        try w.write("t.txt", "ROMEO: hello there\n")
        try BadInput.check(["sample", "--checkpoint", run, "--max-tokens", "3"], in: w.path, mentioning: [file])
        try BadInput.check(["eval", "--checkpoint", run, "--text-file", "t.txt"], in: w.path, mentioning: [file])
        try BadInput.check(["chat", "--checkpoint", run, "--message", "hi"], in: w.path, mentioning: [file])
    }

    @Test func evalMissingAndInvalidTextFile() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try BadInput.check(["eval", "--checkpoint", t.run, "--text-file", "missing.txt"], in: w.path, mentioning: ["missing.txt"])
        try w.write("bad.txt", Data([0x41, 0xFF, 0x42]))
        try BadInput.check(["eval", "--checkpoint", t.run, "--text-file", "bad.txt"], in: w.path, mentioning: ["bad.txt"])
        try BadInput.check(["eval", "--checkpoint", t.run, "--data", "noshards"], in: w.path, mentioning: ["noshards"])
    }

    @Test func pretrainUnwritableOrExistingRunDirectory() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try w.write("file", "a regular file")
        let base = ["pretrain", "--data", t.shards, "--vocab", t.vocab] + TinyRun.modelFlags + ["--steps", "1"]
        try BadInput.check(base + ["--out", "file/run"], in: w.path, mentioning: ["file/run"])
        #expect(try w.read("file") == Data("a regular file".utf8))
        // A finished run is not overwritten without --resume.
        let run = try t.copyOfRun(in: w)
        let before = try Data(contentsOf: URL(fileURLWithPath: run + "/model.safetensors"))
        try BadInput.check(base + ["--out", run], in: w.path, mentioning: [run, "--resume"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/model.safetensors")) == before)
    }

    @Test func sampleAndEvalWithAVocabOfAnotherSize() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try w.write("t.txt", "hello\n")
        try BadInput.check(["eval", "--checkpoint", t.run, "--vocab", Repo.gpt2Vocab, "--text-file", "t.txt"],
                           in: w.path, mentioning: ["gpt2.vocab"])
        try BadInput.check(["sample", "--checkpoint", t.run, "--vocab", Repo.gpt2Vocab, "--max-tokens", "2"],
                           in: w.path, mentioning: ["gpt2.vocab"])
    }

    /// Ctrl-C during pretraining writes a complete checkpoint (no temp file left) that eval reads,
    /// prints the summary and exits 130 (interrupted), not 0.
    @Test func interruptWritesACompleteCheckpoint() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CLI.requireBinary())
        process.arguments = ["pretrain", "--data", t.shards, "--vocab", t.vocab, "--out", "run"] + TinyRun.modelFlags
            + ["--steps", "100000", "--checkpoint-every", "0", "--eval-every", "0", "--batch", "4"]
        process.currentDirectoryURL = URL(fileURLWithPath: w.path)
        _ = FileManager.default.createFile(atPath: w.url("out.txt"), contents: nil)
        _ = FileManager.default.createFile(atPath: w.url("err.txt"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: w.url("out.txt"))
        process.standardError = FileHandle(forWritingAtPath: w.url("err.txt"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && ((try? w.read("run/metrics.jsonl"))?.isEmpty ?? true) { usleep(50_000) }
        kill(process.processIdentifier, SIGINT)
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: killer)
        process.waitUntilExit()
        killer.cancel()
        let err = String(decoding: try w.read("err.txt"), as: UTF8.self)
        #expect(process.terminationReason == .exit, "ended by itself after SIGINT, not by a signal: \(err)")
        #expect(process.terminationStatus == 130, "an interrupted run exits 130: \(err)")
        #expect(String(decoding: try w.read("out.txt"), as: UTF8.self).contains("stop interrupted"), "\(err)")
        #expect(BadInput.tempFiles(in: w.path).isEmpty, "no temp files left")
        for m in BadInput.crashMarkers { #expect(!err.contains(m)) }
        let r = try CLI.ok(["eval", "--checkpoint", "run", "--data", t.shards, "--json", "--batch", "2"], in: w.path)
        #expect((try? JSONSerialization.jsonObject(with: r.stdout)) != nil, "the checkpoint loads: \(r)")
    }

    /// The data loader (pretrain) and eval report a flipped byte in a frame, naming shard and frame.
    @Test func pretrainAndEvalOnACorruptedShard() throws {
        let t = try TinyRun.get()
        let w = Workspace()
        defer { w.remove() }
        try CLI.ok(["shard", "--vocab", t.vocab, "--input", t.root + "/docs.txt", "--output", "shards",
                    "--frame-tokens", "64", "--val-fraction", "0.2", "--quiet"], in: w.path)
        for shard in ["train-00000.lmshard", "val-00000.lmshard"] {
            var bytes = try w.read("shards/" + shard)
            bytes[64 + 6] ^= 0x5A  // frame 0's compressed bytes
            try w.write("shards/" + shard, bytes)
        }
        // 60 steps × 16 windows cover the train split, so frame 0 is read. --quiet: progress lines are not errors.
        try BadInput.check(["pretrain", "--data", "shards", "--vocab", t.vocab, "--out", "run"] + TinyRun.modelFlags
                           + ["--steps", "60", "--batch", "16", "--eval-every", "0", "--quiet"], in: w.path,
                           mentioning: ["train-00000.lmshard", "frame 0"], noOutput: ["run/model.safetensors"])
        try BadInput.check(["eval", "--checkpoint", t.run, "--data", "shards"], in: w.path,
                           mentioning: ["val-00000.lmshard", "frame 0"])
    }
}
