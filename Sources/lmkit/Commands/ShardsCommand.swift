import ArgumentParser
import Foundation
import LMCorpus
import LMData
import LMSupport
import LMTokenizer

/// `lmkit shards …`: look inside, check, print and import shard directories.
struct ShardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shards",
        abstract: "Inspect, verify, print or import token shard directories.",
        subcommands: [Inspect.self, Verify.self, Cat.self, Import.self])

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokens, documents, bytes on disk, compression ratio and vocab fingerprint, per shard and in total.")

        @Argument(help: "A shard directory (holding manifest.json).")
        var directory: String

        @Flag(name: .long, help: "Print the report as JSON.")
        var json = false

        func run() throws {
            let r = try ShardInspection.inspect(directory: directory)
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                StandardOutput.shared.write(String(decoding: try enc.encode(r), as: UTF8.self) + "\n")
                return
            }
            var out = "\(r.directory): vocab \(r.vocabFingerprint) (\(r.vocabSize) ids, u\(r.tokenWidth * 8) tokens), "
            out += "\(r.frameTokens) tokens/frame\(r.complete ? "" : ", INCOMPLETE (re-run lmkit shard to finish)")\n"
            out += "file                   split      tokens   docs  frames        bytes  bytes/tok  ratio\n"
            func row(_ name: String, _ split: String, _ t: Int, _ d: Int, _ f: Int, _ b: Int, _ bpt: Double, _ ratio: Double) -> String {
                name.padding(toLength: 22, withPad: " ", startingAt: 0) + " " + split.padding(toLength: 5, withPad: " ", startingAt: 0)
                    + String(format: " %11d %6d %7d %12d %10.3f %6.2f\n", t, d, f, b, bpt, ratio)
            }
            for s in r.shards {
                out += row(s.file, s.split, s.tokens, s.documents, s.frames, s.bytesOnDisk, s.bytesPerToken, s.compressionRatio)
            }
            out += row("total", "", r.trainTokens + r.valTokens, r.documents, r.shards.reduce(0) { $0 + $1.frames },
                       r.bytesOnDisk, r.bytesPerToken, r.compressionRatio)
            out += "train \(r.trainTokens) tokens, val \(r.valTokens) tokens\n"
            StandardOutput.shared.write(out)
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every checksum and count; exit non-zero on any fault, naming shard and frame.")

        @Argument(help: "A shard directory (holding manifest.json).")
        var directory: String

        @OptionGroup var common: CommonOptions

        func run() throws {
            let m = try Manifest.read(directory: directory)
            let total = (m.train + m.val).reduce(0) { $0 + $1.tokens }
            let progress = ProgressReporter(label: "verify", total: Int64(total), unit: .tokens, quiet: common.quiet)
            let faults = try ShardInspection.verify(directory: directory, threads: common.resolvedThreads) {
                progress.advance(by: Int64($0))
            }
            progress.finish()
            if faults.isEmpty {
                print("\(directory): OK — \(m.train.count + m.val.count) shards, \(total) tokens, every checksum matches")
                return
            }
            for f in faults { printError(f) }
            throw LMError.badFormat(file: directory, "\(faults.count) fault(s) found (listed above)",
                                    fix: "re-run the lmkit shard command that made it: bad shards are re-made")
        }
    }

    struct Cat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the ids (one document per line), or the text with --decode --vocab (equal to the input text).")

        @Argument(help: "A shard directory (holding manifest.json).")
        var directory: String

        @Option(name: .long, help: "Which split to print: train, val, or all (both, in input order).")
        var split: String = "all"

        @Flag(name: .long, help: "Print text instead of ids (needs --vocab); documents are separated by <|endoftext|> lines.")
        var decode = false

        @Option(name: .long, help: "Vocabulary file for --decode (must match the shards' fingerprint).")
        var vocab: String?

        func validate() throws {
            guard split == "all" || Split(rawValue: split) != nil else {
                throw ValidationError("--split must be train, val or all (got \(split)).")
            }
            if decode && vocab == nil { throw ValidationError("--decode needs --vocab FILE.") }
        }

        func run() throws {
            let m = try Manifest.read(directory: directory)
            let decoder = decode ? try ShardTextDecoder.make(vocab: vocab!, manifest: m, directory: directory) : nil
            let docs = try ShardDocuments(directory: directory, split: Split(rawValue: split))
            var first = true
            while let doc = try docs.next() {
                if let decoder {
                    if !first { StandardOutput.shared.write(ShardTextDecoder.separator) }
                    StandardOutput.shared.write(try decoder(doc))
                } else {
                    StandardOutput.shared.write(doc.map(String.init).joined(separator: " ") + "\n")
                }
                first = false
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert llm.c .bin shards or nanoGPT raw uint16 .bin files into a shard directory.",
            discussion: "Files whose name contains \"val\" go to the validation split. Without --vocab the ids are taken as GPT-2 (50,257 ids; llm.c Llama 3 files: 128,256) and the fingerprint is 0 (unknown).")

        @Flag(name: .long, help: "Inputs are llm.c shards (256 × int32 header, magic 20240520 or 20240801).")
        var llmc = false

        @Flag(name: .long, help: "Inputs are nanoGPT raw uint16 .bin files.")
        var nanogpt = false

        @Argument(help: "Token files to convert, in order.")
        var files: [String]

        @Option(name: .long, help: "Output shard directory.")
        var output: String

        @Option(name: .long, help: "Vocabulary the ids belong to (sets vocab size, fingerprint and the end-of-text id).")
        var vocab: String?

        @Option(name: .long, help: "Tokens per shard.")
        var shardTokens: Int = 1 << 24

        @Option(name: .long, help: "zstd level (1-19; 1 is fastest, 3 ~5% smaller).")
        var level: Int = ShardFormat.defaultLevel

        @OptionGroup var common: CommonOptions

        func validate() throws {
            guard llmc != nanogpt else { throw ValidationError("pass exactly one of --llmc or --nanogpt.") }
            guard !files.isEmpty else { throw ValidationError("pass at least one token file.") }
            guard shardTokens >= 1 else { throw ValidationError("--shard-tokens must be at least 1.") }
            guard (1...19).contains(level) else { throw ValidationError("--level must be in 1...19 (got \(level)).") }
        }

        func run() throws {
            var p = TokenFileImport.Parameters(output: output, format: llmc ? .llmc : .nanogpt)
            p.shardTokens = shardTokens
            p.level = level
            p.threads = common.resolvedThreads
            p.quiet = common.quiet
            p.command = CommandLine.arguments.joined(separator: " ")
            if let vocab {
                let v = try VocabularyImport(input: vocab).run()
                p.vocabSize = v.idLimit
                p.vocabFingerprint = UInt64(v.fingerprint, radix: 16) ?? 0
                p.endOfTextID = v.specialID(endOfTextSeparator).map(UInt32.init)
            }
            let s = try TokenFileImport.run(files: files, p)
            print("\(output): \(s.shards) shards, train \(s.trainTokens) tokens, val \(s.valTokens) tokens, \(s.bytesOnDisk) bytes")
        }
    }
}
