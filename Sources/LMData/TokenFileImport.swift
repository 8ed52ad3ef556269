import Foundation
import LMSupport

/// Converts existing token files to a shard directory: llm.c `.bin` shards and nanoGPT's raw
/// `.bin` files. Reads in pieces of one shard (never the whole file).
///
/// - llm.c (`karpathy/llm.c`, `dev/data/data_common.py`): a header of 256 little-endian int32
///   (`[0]` magic 20240520 → u16 tokens (GPT-2) or 20240801 → u32 tokens (Llama 3), `[1]` version,
///   `[2]` token count), then the tokens. The file size must be 1024 + count × width.
/// - nanoGPT (`karpathy/nanoGPT`, `data/*/prepare.py`): raw little-endian u16 tokens, no header.
///
/// Files whose name contains "val" go to the validation split, the others to train. Shards are cut
/// every `shardTokens` tokens; document ends are recorded after each end-of-text id (if one is
/// given) and at the end of each shard.
public enum TokenFileImport {
    public enum Format: String, Sendable { case llmc, nanogpt }

    public struct Parameters: Sendable {
        public var output: String
        public var format: Format
        /// Ids of the vocabulary; nil = 50,257 (GPT-2), or 128,256 for llm.c Llama 3 files.
        public var vocabSize: Int?
        /// 0 when unknown (no --vocab given).
        public var vocabFingerprint: UInt64 = 0
        /// Document separator id; nil = 50,256 for GPT-2 vocabularies, none otherwise.
        public var endOfTextID: UInt32?
        public var shardTokens: Int = 1 << 24
        public var frameTokens: Int = ShardFormat.defaultFrameTokens
        public var level: Int = ShardFormat.defaultLevel
        public var threads: Int = Threads.available
        public var quiet: Bool = true
        public var command: String = ""

        public init(output: String, format: Format) {
            self.output = output
            self.format = format
        }
    }

    /// Tokens per split written.
    public struct Summary: Sendable {
        public var trainTokens = 0
        public var valTokens = 0
        public var shards = 0
        public var bytesOnDisk = 0
    }

    struct Layout { var headerBytes: Int; var width: Int; var tokens: Int; var defaultVocab: Int }

    /// Reads and checks the header of one input file.
    static func layout(_ path: String, format: Format) throws -> Layout {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attrs[.size] as? NSNumber)?.intValue, !FileIO.isDirectory(path) else {
            throw LMError.io(file: path, "no such file", fix: "check the path")
        }
        switch format {
        case .nanogpt:
            guard size % 2 == 0, size > 0 else {
                throw LMError.badInput(file: path, "size \(size) is not a positive multiple of 2 (raw uint16 tokens)",
                                       fix: "pass a nanoGPT train.bin/val.bin, or --llmc for llm.c shards")
            }
            return Layout(headerBytes: 0, width: 2, tokens: size / 2, defaultVocab: 50_257)
        case .llmc:
            guard size >= 1024, let h = FileHandle(forReadingAtPath: path),
                  let head = try? h.read(upToCount: 12), head.count == 12 else {
                throw LMError.badInput(file: path, "shorter than the 1024-byte llm.c header",
                                       fix: "pass an llm.c .bin shard, or --nanogpt for raw uint16 files")
            }
            let r = ByteReader([UInt8](head))
            let magic: Int32 = r.getInteger(at: 0)!, version: Int32 = r.getInteger(at: 4)!
            let count = Int(r.getInteger(at: 8, as: Int32.self)!)
            let width: Int, vocab: Int
            switch magic {
            case 20_240_520: (width, vocab) = (2, 50_257)
            case 20_240_801: (width, vocab) = (4, 128_256)
            default:
                throw LMError.badInput(file: path, "llm.c magic is \(magic), expected 20240520 or 20240801",
                                       fix: "pass an llm.c .bin shard, or --nanogpt for raw uint16 files")
            }
            guard count >= 1, size == 1024 + count * width else {
                throw LMError.badInput(file: path,
                    "llm.c header (version \(version)) says \(count) tokens, but the file holds \((size - 1024) / width)",
                    fix: "the file is truncated; re-create it")
            }
            return Layout(headerBytes: 1024, width: width, tokens: count, defaultVocab: vocab)
        }
    }

    /// Converts `files` into `p.output` (a fresh directory or one made by the same import).
    @discardableResult
    public static func run(files: [String], _ p: Parameters) throws -> Summary {
        guard !files.isEmpty else { throw LMError.badInput("no input files", fix: "pass one or more .bin files") }
        let layouts = try files.map { try layout($0, format: p.format) }
        let vocab = p.vocabSize ?? layouts.map(\.defaultVocab).max()!
        let eot = p.endOfTextID ?? (vocab == 50_257 ? 50_256 : nil)
        var config = ["import": p.format.rawValue, "inputs": files.joined(separator: "\n"),
                      "shardTokens": String(p.shardTokens), "level": String(p.level)]
        config["endOfTextID"] = eot.map(String.init) ?? "none"
        let fresh = Manifest(vocabFingerprint: p.vocabFingerprint, vocabSize: vocab, endOfTextID: eot.map(Int.init),
                             frameTokens: p.frameTokens, complete: false, config: config, command: p.command)
        var manifest = try ShardDirectory.prepare(directory: p.output, fresh: fresh, quiet: p.quiet)
        var summary = Summary()
        if manifest.complete { return summary }
        for e in manifest.train + manifest.val { unlink((p.output as NSString).appendingPathComponent(e.file)) }
        manifest.train = []
        manifest.val = []
        try manifest.write(directory: p.output)
        let options = ShardWriter.Options(vocabSize: vocab, vocabFingerprint: p.vocabFingerprint,
                                          frameTokens: p.frameTokens, level: p.level, threads: p.threads)
        let total = layouts.reduce(0) { $0 + $1.tokens }
        let progress = ProgressReporter(label: "import", total: Int64(total), unit: .tokens, quiet: p.quiet)
        var documents = 0
        for (file, lay) in zip(files, layouts) {
            let split: Split = (file as NSString).lastPathComponent.lowercased().contains("val") ? .val : .train
            guard let h = FileHandle(forReadingAtPath: file) else {
                throw LMError.io(file: file, "cannot open", fix: "check permissions")
            }
            defer { try? h.close() }
            try h.seek(toOffset: UInt64(lay.headerBytes))
            var left = lay.tokens
            while left > 0 {
                let n = min(left, max(1, p.shardTokens))
                guard let data = try h.read(upToCount: n * lay.width), data.count == n * lay.width else {
                    throw LMError.badInput(file: file, "ended early", fix: "the file is truncated")
                }
                var tokens = [UInt32](repeating: 0, count: n)
                var maxID: UInt32 = 0
                data.withUnsafeBytes { raw in
                    tokens.withUnsafeMutableBufferPointer { t in
                        for i in 0..<n {
                            let v = lay.width == 2 ? UInt32(raw.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self).littleEndian)
                                                   : raw.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self).littleEndian
                            t[i] = v
                            maxID = max(maxID, v)
                        }
                    }
                }
                guard maxID < UInt32(vocab) else {
                    throw LMError.badInput(file: file, "token id \(maxID) is outside the vocabulary (size \(vocab))",
                                           fix: "pass --vocab with the vocabulary the ids came from")
                }
                var ends: [Int] = []
                if let eot { for i in 0..<n where tokens[i] == eot { ends.append(i + 1) } }
                if ends.last != n { ends.append(n) }
                let list = split == .train ? manifest.train : manifest.val
                let name = "\(split.rawValue)-\(String(format: "%05d", list.count)).\(ShardFormat.fileExtension)"
                let w = try ShardWriter.write(tokens: tokens, documentEnds: ends,
                                              to: (p.output as NSString).appendingPathComponent(name), options: options)
                let entry = Manifest.Entry(file: name, tokens: n, documents: ends.count, frames: w.frames, bytes: w.bytes,
                                           firstDocument: documents, endDocument: documents + ends.count)
                documents += ends.count
                if split == .train { manifest.train.append(entry); summary.trainTokens += n }
                else { manifest.val.append(entry); summary.valTokens += n }
                summary.shards += 1
                summary.bytesOnDisk += w.bytes
                try manifest.write(directory: p.output)
                progress.advance(by: Int64(n))
                left -= n
            }
        }
        manifest.complete = true
        try manifest.write(directory: p.output)
        progress.finish()
        return summary
    }
}
