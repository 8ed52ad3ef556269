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
              lmkit sample --checkpoint run/ --prompt "ROMEO:" --max-tokens 300 --temperature 0.8 --top-k 40
            """)

    @Option(help: "Run directory (or a transformers save_pretrained directory with --vocab).") var checkpoint: String
    @Option(help: "Vocab file (default: CHECKPOINT/vocab.vocab).") var vocab: String?
    @Option(help: "Text to continue (default: start a new document).") var prompt: String = ""
    @Option(name: .customLong("max-tokens"), help: "Tokens to generate.") var maxTokens: Int = 200
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if maxTokens < 0 { throw ValidationError("--max-tokens must be 0 or more (got \(maxTokens)).") }
    }

    func run() throws {
        var p = GenerationParameters(checkpoint: checkpoint)
        p.vocabPath = vocab
        p.prompt = prompt
        p.maxTokens = maxTokens
        p.sampling = sampling.parameters
        p.threads = common.resolvedThreads
        let out = StandardOutput.shared
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
