import Foundation
import LMSupport

/// Trains a byte-level BPE vocabulary (GPT-2/GPT-4 style) from text, like rustbpe, Hugging Face
/// `tokenizers` and minbpe.
///
/// The stages, in order:
/// 1. **Count** (`BPETrainer+Counting.swift`): each text chunk is cut into pieces by the split
///    pattern (`PreTokenizer.forEachPiece`) on all threads; each thread counts its distinct pieces
///    (piece bytes → 64-bit count) and the per-thread tables are merged. Special-token texts are
///    cut out of the text first and never counted. Memory: O(distinct pieces), never O(corpus).
/// 2. **Words**: every distinct piece of two or more bytes becomes a word — its bytes as symbol
///    ids 0…255 — with its count.
/// 3. **Merge** (`BPETrainer+Merging.swift`): count every adjacent symbol pair (weighted by word
///    counts), put the pairs in a max-heap, and repeatedly merge the most frequent pair into a
///    new token, updating only the pair counts of the words that contain it.
///
/// Ties (equal counts) go to the smallest pair `(left id, right id)`, as in rustbpe. If a merge
/// produces bytes that are already a token (e.g. `ab`+`c` and `a`+`bc`), the existing id is reused
/// and no rank is spent, as in Hugging Face `tokenizers`. Training stops early when no pair is
/// left (a tiny corpus), giving fewer ranks than asked.
///
/// Output: ranks 0…255 are the single bytes in byte order, rank 256+k is the k-th new token;
/// special tokens get the ids right after the last rank, in the order given.
///
///     // minbpe's example; 3 merges. Worked by hand in BPETrainer+Merging.swift.
///     let trainer = try BPETrainer(.init(vocabSize: 259))
///     let v = try trainer.train(texts: ["aaabdaaabac"]).vocabulary
///     v.tokens[256...].map { String(decoding: $0, as: UTF8.self) }   // ["aa", "ab", "aaab"]
public struct BPETrainer: Sendable {
    /// A block of training text: valid UTF-8, possibly several documents. Pre-tokenization
    /// restarts at each document start and at the chunk's ends, so no piece crosses them.
    public struct TextChunk: Sendable {
        public var bytes: [UInt8]
        /// Offsets in `bytes` where a new document starts (increasing, inside `1..<bytes.count`).
        public var documentStarts: [Int]
        public init(_ bytes: [UInt8], documentStarts: [Int] = []) {
            self.bytes = bytes
            self.documentStarts = documentStarts
        }
    }

    /// What to train. `vocabSize` counts every id: 256 bytes + merges + special tokens.
    public struct Parameters: Sendable {
        /// Total ids wanted (ranks + special tokens); at least 256 + `specialTokens.count`.
        public var vocabSize: Int
        /// Split pattern applied before BPE (default GPT-4 / cl100k).
        public var pattern: SplitPattern
        /// Special-token texts; they get ids after the ranks, in this order.
        public var specialTokens: [String]
        /// Threads for counting (merging is sequential). Does not change the result.
        public var threads: Int
        /// No progress lines on stderr.
        public var quiet: Bool

        public init(vocabSize: Int, pattern: SplitPattern = .cl100k, specialTokens: [String] = [],
                    threads: Int = Threads.available, quiet: Bool = true) {
            self.vocabSize = vocabSize
            self.pattern = pattern
            self.specialTokens = specialTokens
            self.threads = max(1, threads)
            self.quiet = quiet
        }
    }

    /// Figures about one training run (for progress summaries, `--json` and benchmarks).
    public struct Statistics: Sendable, Codable, Equatable {
        /// Bytes of text counted.
        public var inputBytes: Int64 = 0
        /// Pieces produced by the pre-tokenizer (with repeats).
        public var pieces: Int64 = 0
        /// Distinct pieces (the size of the counting table).
        public var uniquePieces: Int = 0
        /// Distinct pieces of ≥ 2 bytes (the words BPE merges in).
        public var words: Int = 0
        /// Merges done (= ranks − 256).
        public var merges: Int = 0
        /// Wall seconds of stage 1 (reading + pre-tokenizing + counting).
        public var countingSeconds: Double = 0
        /// Wall seconds of stages 2–3.
        public var mergingSeconds: Double = 0
        /// Counting throughput, bytes per second.
        public var bytesPerSecond: Double { countingSeconds > 0 ? Double(inputBytes) / countingSeconds : 0 }
        /// Merge throughput, merges per second.
        public var mergesPerSecond: Double { mergingSeconds > 0 ? Double(merges) / mergingSeconds : 0 }
    }

    /// A trained vocabulary, the merges that built it and run statistics.
    public struct Result: Sendable {
        public var vocabulary: Vocabulary
        /// Merge k made rank 256+k from `(left, right)` (ids). Same order as the ranks.
        public var merges: [(left: Int, right: Int)]
        public var statistics: Statistics
    }

    public let parameters: Parameters
    let preTokenizer: PreTokenizer

    /// Checks the parameters. Throws `LMError.badInput` if the vocab size cannot hold the 256
    /// bytes and the special tokens, or a special token is empty or repeated.
    public init(_ parameters: Parameters) throws {
        let minimum = 256 + parameters.specialTokens.count
        if parameters.vocabSize < minimum {
            let specials = parameters.specialTokens.isEmpty ? "" : " + \(parameters.specialTokens.count) special tokens"
            throw LMError.badInput("vocab size \(parameters.vocabSize) is below the 256 byte tokens\(specials)",
                                   fix: "choose a vocab size of at least \(minimum)")
        }
        if parameters.vocabSize > Int(Int32.max) {
            throw LMError.badInput("vocab size \(parameters.vocabSize) is too large", fix: "choose at most \(Int32.max)")
        }
        var seen = Set<String>()
        for s in parameters.specialTokens {
            if s.isEmpty { throw LMError.badInput("a special token is empty", fix: "give each --special a text") }
            if !seen.insert(s).inserted {
                throw LMError.badInput("special token \(s) is given twice", fix: "list each special token once")
            }
        }
        self.parameters = parameters
        self.preTokenizer = try PreTokenizer(pattern: parameters.pattern)
    }

    /// Trains on the chunks `nextChunk` returns until it returns nil.
    ///
    ///     var reader = …   // e.g. LMCorpus.CorpusChunkReader, connected by the CLI
    ///     let result = try trainer.train(totalBytes: size) { try reader.next().map { .init($0.bytes, documentStarts: $0.documentStarts) } }
    ///
    /// - Parameters:
    ///   - totalBytes: total size of all chunks if known (progress percentage and ETA only).
    ///   - nextChunk: called on the calling thread, never concurrently; each chunk is valid UTF-8
    ///     text (invalid UTF-8 is an `LMError.badInput` naming the chunk and byte offset) and is
    ///     pre-tokenized on its own, so cut chunks where the split pattern always splits (the
    ///     corpus reader cuts after a newline followed by an ASCII letter).
    /// - Returns: the vocabulary (`vocabSize` ids unless the text runs out of pairs), merges, statistics.
    /// - Complexity: counting O(corpus bytes) spread over `threads`; merging about
    ///   O(distinct-piece bytes × log pairs) in total, sequential.
    public func train(totalBytes: Int64? = nil, nextChunk: () throws -> TextChunk?) throws -> Result {
        var stats = Statistics()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let counter = try countPieces(totalBytes: totalBytes, nextChunk: nextChunk, stats: &stats)
        let t1 = DispatchTime.now().uptimeNanoseconds
        stats.countingSeconds = Double(t1 - t0) / 1e9
        stats.uniquePieces = counter.uniqueCount
        let rankTarget = parameters.vocabSize - parameters.specialTokens.count
        var merger = Merger(counter: counter)
        stats.words = merger.wordCount
        let merges = merger.run(rankTarget: rankTarget, quiet: parameters.quiet)
        let t2 = DispatchTime.now().uptimeNanoseconds
        stats.mergingSeconds = Double(t2 - t1) / 1e9
        stats.merges = merges.count
        let tokens = merger.tokens
        let specials = parameters.specialTokens.enumerated().map { SpecialToken($0.element, id: tokens.count + $0.offset) }
        let vocabulary = try Vocabulary(pattern: parameters.pattern, tokens: tokens, specialTokens: specials)
        return Result(vocabulary: vocabulary, merges: merges, statistics: stats)
    }

    /// Convenience: trains on in-memory texts (each text is one chunk).
    public func train(texts: [String]) throws -> Result {
        var i = 0
        let total = texts.reduce(Int64(0)) { $0 + Int64($1.utf8.count) }
        return try train(totalBytes: total) {
            guard i < texts.count else { return nil }
            defer { i += 1 }
            return TextChunk(Array(texts[i].utf8))
        }
    }
}
