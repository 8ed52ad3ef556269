import ArgumentParser
import Foundation
import LMSupport

/// The `lmkit` root command. Each subcommand lives in its own file under `Commands/`.
/// The CLI holds no logic: it validates options, copies them into a library parameters
/// struct and calls the library.
struct LMKit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lmkit",
        abstract: "From raw text to a small GPT: tokenizer, token shards, training, sampling.",
        discussion: """
            A typical pipeline:
              lmkit vocab train --input corpus.txt --vocab-size 4096 --output my.vocab
              lmkit shard --vocab my.vocab --input corpus.txt --output shards/
              lmkit pretrain --data shards/ --out run/ --preset tiny
              lmkit sample --checkpoint run/ --prompt "ROMEO:"
            """,
        version: "0.1.0",
        subcommands: LMKit.allSubcommands
    )

    /// Registered subcommands. One line per command group; keep alphabetical within a stage.
    static let allSubcommands: [ParsableCommand.Type] = [
        // Tokenizer
        VocabCommand.self, TokenizeCommand.self, DetokenizeCommand.self,
        // Data (ShardCommand, ShardsCommand)
        ShardCommand.self,
        ShardsCommand.self,
        // Model
        PretrainCommand.self, SampleCommand.self, EvalCommand.self,
        // Chat (SFT)
        FinetuneCommand.self, ChatCommand.self,
        // Reward model and reinforcement learning (RLHF)
        RewardCommand.self, PPOCommand.self,
    ]
}

/// How a command that ran without error ended; `main` turns `.interrupted` into exit status 130.
enum RunOutcome {
    /// Set by the training commands when Ctrl-C/SIGTERM stopped the run early (after its checkpoint).
    nonisolated(unsafe) static var interrupted = false
}

/// Options every long-running command shares.
struct CommonOptions: ParsableArguments {
    @Flag(name: .long, help: "Do not print progress on stderr.")
    var quiet = false

    @Option(name: .long, help: "Threads to use (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let t = threads, t < 1 {
            throw ValidationError("--threads must be at least 1 (got \(t)).")
        }
    }

    /// Number of threads after applying the default.
    var resolvedThreads: Int { Threads.resolve(threads) }
}
