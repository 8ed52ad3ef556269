import Foundation
import Testing

/// `--help` of every command exits 0, and every option and argument has help text.
@Suite struct HelpCLITests {
    /// Command paths (e.g. ["vocab", "train"]) and their displayed arguments, from ArgumentParser's
    /// own description of the tool (`--experimental-dump-help`, the data `--help` is rendered from).
    static func commandTree() throws -> [(path: [String], arguments: [[String: Any]])] {
        let r = try CLI.ok(["--experimental-dump-help"])
        let root = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        let top = try #require(root["command"] as? [String: Any])
        var out: [(path: [String], arguments: [[String: Any]])] = []
        func walk(_ c: [String: Any], _ path: [String]) {
            out.append((path, c["arguments"] as? [[String: Any]] ?? []))
            for s in c["subcommands"] as? [[String: Any]] ?? [] {
                guard let name = s["commandName"] as? String, name != "help" else { continue }
                walk(s, path + [name])
            }
        }
        walk(top, [])
        return out
    }

    static let expectedCommands: [[String]] = [
        ["vocab", "train"], ["vocab", "import"], ["vocab", "export"], ["vocab", "info"], ["vocab", "add-special"],
        ["tokenize"], ["detokenize"], ["shard"], ["shards", "inspect"], ["shards", "verify"], ["shards", "cat"],
        ["shards", "import"], ["pretrain"], ["sample"], ["eval"], ["finetune"], ["chat"],
    ]

    @Test func everyCommandIsThereAndEveryOptionHasHelp() throws {
        let tree = try Self.commandTree()
        let paths = Set(tree.map { $0.path.joined(separator: " ") })
        for c in Self.expectedCommands {
            #expect(paths.contains(c.joined(separator: " ")), "lmkit \(c.joined(separator: " ")) exists")
        }
        for (path, arguments) in tree {
            for a in arguments where (a["shouldDisplay"] as? Bool) != false {
                let name = (a["valueName"] as? String) ?? "?"
                let abstract = (a["abstract"] as? String) ?? ""
                #expect(!abstract.trimmingCharacters(in: .whitespaces).isEmpty,
                        "lmkit \(path.joined(separator: " ")): \(name) has no help text")
            }
        }
    }

    @Test func helpOfEveryCommandExitsZero() throws {
        let tree = try Self.commandTree()
        #expect(tree.count >= Self.expectedCommands.count)
        for (path, _) in tree {
            let r = try CLI.run(path + ["--help"])
            #expect(r.status == 0 && !r.signalled, "lmkit \(path.joined(separator: " ")) --help: \(r)")
            #expect(r.stdoutText.contains("USAGE:"), "help text on stdout: \(r)")
            #expect(r.stderr.isEmpty, "nothing on stderr: \(r)")
        }
    }

    @Test func unknownOptionIsAUsageError() throws {
        let w = Workspace()
        defer { w.remove() }
        // Pure option-syntax mistakes are ArgumentParser usage errors: exit 64 (EX_USAGE), one line.
        let r = try BadInput.usage(["tokenize", "--vocab", Repo.gpt2Vocab, "--no-such-option", "x"], in: w.path,
                                   mentioning: ["--no-such-option"])
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r)")
        let m = try BadInput.usage(["shard", "--input", "x.txt"], in: w.path, mentioning: ["--vocab"])
        #expect(m.stderr.split(separator: "\n").count == 1, "\(m)")
    }
}
