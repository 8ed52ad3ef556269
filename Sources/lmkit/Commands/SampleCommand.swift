import ArgumentParser
import Foundation
import LMSupport
import LMTraining

/// `lmkit sample`: generate text from a checkpoint.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate text from a checkpoint (KV cache; tokens stream to stdout, tokens/s to stderr).",
        discussion: """
            With --samples N the N continuations are generated together (a batched KV cache: one matrix product
            of N rows per layer, several times the tokens/s of one on larger models) and printed when done,
            each after a `--- sample K (seed S) ---` line (or as JSON with --json); sample K is drawn with seed
            --seed + K, so sample 0 is the single-sample text of --seed.
              lmkit sample --checkpoint run/ --prompt "ROMEO:" --max-tokens 300 --temperature 0.8 --top-k 40
              lmkit sample --checkpoint run/ --prompt "ROMEO:" --samples 8 --json
            """)

    @Option(help: "Run directory (or a transformers save_pretrained directory with --vocab).") var checkpoint: String
    @Option(help: "Vocab file (default: CHECKPOINT/vocab.vocab).") var vocab: String?
    @Option(help: "Text to continue (default: start a new document).") var prompt: String = ""
    @Option(name: .customLong("max-tokens"), help: "Tokens to generate.") var maxTokens: Int = 200
    @Option(help: "Continuations to generate together (default 1: streamed).") var samples: Int = 1
    @Flag(help: "With --samples: print a JSON array of {\"sample\", \"seed\", \"text\"} (prompt included).") var json = false
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if maxTokens < 0 { throw ValidationError("--max-tokens must be 0 or more (got \(maxTokens)).") }
        if samples < 1 { throw ValidationError("--samples must be at least 1 (got \(samples)).") }
    }

    func run() throws {
        var p = GenerationParameters(checkpoint: checkpoint)
        p.vocabPath = vocab
        p.prompt = prompt
        p.maxTokens = maxTokens
        p.sampling = sampling.parameters
        p.threads = common.resolvedThreads
        let out = StandardOutput.shared
        if samples > 1 || json {
            let (texts, stats) = try Generation.runBatch(p, count: samples)
            let seed = p.sampling.seed
            if json {
                let items = texts.enumerated().map { k, t in
                    ["sample": k, "seed": seed &+ UInt64(k), "text": prompt + String(decoding: t, as: UTF8.self)] as [String: Any]
                }
                let data = try JSONSerialization.data(withJSONObject: items, options: [.sortedKeys])
                out.write(String(decoding: data, as: UTF8.self) + "\n")
            } else {
                for (k, t) in texts.enumerated() {
                    out.write("--- sample \(k) (seed \(seed &+ UInt64(k))) ---\n" + prompt)
                    out.write(t)
                    out.write("\n")
                }
            }
            out.flush()
            if !common.quiet {
                printError(String(format: "sample: %d sequences × %d tokens in %.2f s (%.1f tokens/s) after a %d-token prompt",
                                  samples, maxTokens, stats.seconds, stats.tokensPerSecond, stats.promptTokens))
            }
            return
        }
        out.write(prompt)
        out.flush()
        let stats = try Generation.run(p) { bytes in
            out.write(bytes)
            out.flush()
        }
        out.write("\n")
        out.flush()
        if !common.quiet {
            printError(String(format: "sample: %d tokens in %.2f s (%.1f tokens/s) after a %d-token prompt",
                              stats.generatedTokens, stats.seconds, stats.tokensPerSecond, stats.promptTokens))
        }
    }
}
