import Foundation
import LMSupport

// Performance notes (release, 2-core AMD EPYC dev machine shared with other jobs; thread-CPU
// MB/s from `lmkit-bench encode`; tiktoken 0.14 encode_ordinary runs ~12 MB/s CPU here)
// - Per piece: (1) single byte → its rank; (2) whole-piece lookup in the token table — resolves
//   ~90% of English pieces (Tiny Shakespeare: 30% single bytes, 61% whole tokens, 9% need
//   merges); (3) the per-thread piece cache; (4) the merge (RankTables.mergePiece), stored in
//   the cache. The piece's prefix and hash are computed once and shared by (2) and (3).
// - Memory-bound: perf shows the first load of a token-table probe and of a cache slot as the
//   hot spots. Pieces are therefore processed in batches of 128 in three passes (hash + load
//   the table slot; resolve hits + load the cache slot of the rest; emit), so the misses of a
//   batch overlap instead of serialising. bpe-only: ~90 MB/s per piece with separate arrays →
//   ~140 with one-line entries → ~150 batched with the denser table; single-thread total ~75 →
//   ~95 MB/s (pre-tokenizer alone ~285 MB/s). Piece cache 8k → 32k slots: +15–25%.
// - No `String` and no `[UInt8]` per piece: pieces are pointer ranges into the caller's UTF-8
//   (native Swift strings give their storage without a copy); ids go to a per-thread buffer and
//   are appended to the caller's array once per batch.
// - Workspaces (scratch, cache, batch buffers) are per thread, found through the thread
//   dictionary once per call, not per piece; batch encoding reuses the Dispatch worker threads'.
// - Session 7 (callgrind instruction/miss counts, since wall and CPU time were too noisy on the
//   shared machine): the token table's home slot is a whole 64-byte line of 4 entries plus an
//   overflow bit per line, so pass 2 settles hits in slots 2-4 and most non-tokens without a
//   probe walk; a second cache level (LongPieceCache) for pieces of > 22 bytes or > 8 ids;
//   `encodePiece` kept out of line (inlined, the batch loop around it ran ~7% more
//   instructions on Tiny Shakespeare). UDHR stays merge-bound: 36-37% of its bytes are first
//   occurrences of multi-token pieces (tiktoken's split, one pass), which no cache can avoid.
// - Session 10 (perf sampling, cpu-clock): the batch passes "touched" the slots with plain
//   loads whose values fed a running sum, and 37% of the batch loop's samples sat on those adds
//   (each waits for its load before it can retire, which caps the misses in flight). Real
//   prefetches (`lmkit_prefetch`, CPrefetch) never wait: pass 1 prefetches the home line, pass 2
//   the piece-cache slot of every unresolved piece and, for a > 8-byte prefix match, the arena
//   bytes its compare reads; a piece of ≤ 8 bytes no longer probes the long cache (it has ≤ 8
//   ids, so it can only be in the first level). Encode stage of `lmkit shard --threads 1` on
//   16 MB of Gutenberg, median of 12 interleaved runs: 1.19× (r50k), 1.16× (cl100k), ids
//   unchanged (scripts/check_tiktoken.py). A 4× piece cache then gained 1.07× here but lost on
//   small batch inputs; not kept (see PieceCache).
// - Tried and dropped: `Dictionary<[UInt8], Int>` ranks (a key allocation per probe, ~10× slower);
//   a per-piece thread-dictionary lookup (~1 µs: 4 MB/s).

/// A byte-level BPE tokenizer: text ⇄ token ids with one `Vocabulary`, exactly like tiktoken.
///
/// Encoding = pre-tokenizer (split pattern) → per piece, byte-pair merges in rank order
/// (lowest rank first, leftmost on ties) → ids (= ranks). Special tokens are matched only when
/// allowed (see `encode(_:allowedSpecial:disallowedSpecial:)`).
///
///     let tok = try BPETokenizer(try VocabularyFile.read("Vocab/gpt2.vocab"))
///     let ids = tok.encodeOrdinary("hello world")     // [31373, 995]
///     try tok.decode(ids)                             // Array("hello world".utf8)
///
/// Hand-worked merge (minbpe style): tokens 256 bytes + "ab" (rank 256) + "abc" (257) and the
/// piece "abcab": bytes a b c a b → merge the lowest-ranked adjacent pair "ab" (256) at the
/// leftmost place → [ab] c a b → "ab" again → [ab] c [ab] → then "abc" (257) = [ab]+c →
/// [abc] [ab] = ids [257, 256].
///
/// Invalid UTF-8: `encodeOrdinary(bytes:)` accepts any bytes. Each byte that does not start a
/// valid UTF-8 sequence becomes a piece of its own (its single-byte token); the valid runs
/// between such bytes are pre-tokenized independently. `decode` returns the exact input bytes,
/// so every byte string round-trips. (tiktoken accepts only `str`, so it has no such case; the
/// CLI refuses invalid UTF-8 files with the byte offset instead.)
///
/// Thread-safe: share one instance between threads.
public struct BPETokenizer: Sendable {
    /// The vocabulary this tokenizer runs.
    public let vocabulary: Vocabulary
    /// The pre-tokenizer of the vocabulary's split pattern.
    public let preTokenizer: PreTokenizer
    let tables: RankTables
    let specials: SpecialTokenMatcher
    /// Bytes of each special token by id.
    private let specialBytes: [UInt32: [UInt8]]

    /// Builds the lookup tables (O(total token bytes); ~50 ms for cl100k). Throws `LMError` if the
    /// vocabulary's custom split pattern does not compile or it has more than 2,097,151 ranks.
    public init(_ vocabulary: Vocabulary) throws {
        if vocabulary.tokens.count > RankTables.maxRanks {
            throw LMError.badInput("the vocabulary has \(vocabulary.tokens.count) ranks; lmkit's encoder supports up to \(RankTables.maxRanks)",
                                   fix: "use a smaller vocabulary")
        }
        self.vocabulary = vocabulary
        preTokenizer = try PreTokenizer(pattern: vocabulary.pattern)
        tables = RankTables(tokens: vocabulary.tokens)
        specials = SpecialTokenMatcher(vocabulary.specialTokens)
        var sb: [UInt32: [UInt8]] = [:]
        for s in vocabulary.specialTokens { sb[UInt32(s.id)] = Array(s.text.utf8) }
        specialBytes = sb
    }

    // MARK: Encoding

    /// Ids of `text` with special tokens treated as ordinary text (tiktoken's `encode_ordinary`).
    /// O(n) in the text length (O(k log k) per piece of k bytes in the worst case).
    public func encodeOrdinary(_ text: String) -> [UInt32] {
        var out: [UInt32] = []
        var s = text
        s.withUTF8 { u in
            out.reserveCapacity(u.count / 3 + 16)
            encodeValidUTF8(UnsafeRawBufferPointer(u), appendingTo: &out)
        }
        return out
    }

    /// Ids of arbitrary bytes, specials as ordinary text. Invalid UTF-8 bytes become single-byte
    /// pieces (see the type's documentation), so `decode(encodeOrdinary(bytes: b)) == b` for every `b`.
    public func encodeOrdinary(bytes: [UInt8]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(bytes.count / 3 + 16)
        bytes.withUnsafeBytes { encodeOrdinary($0, appendingTo: &out) }
        return out
    }

    /// Appends the ids of arbitrary bytes to `out` (specials as ordinary text; invalid UTF-8 as above).
    public func encodeOrdinary(_ bytes: UnsafeRawBufferPointer, appendingTo out: inout [UInt32]) {
        var start = 0
        let n = bytes.count
        while start < n {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start..<n])
            guard let bad = UTF8Validation.firstInvalidOffset(rest) else {
                encodeValidUTF8(rest, appendingTo: &out)
                return
            }
            if bad > 0 { encodeValidUTF8(UnsafeRawBufferPointer(rebasing: rest[0..<bad]), appendingTo: &out) }
            out.append(tables.byteRank[Int(rest[bad])])
            start += bad + 1
        }
    }

    /// Appends the ids of valid UTF-8 `text` to `out` (no validation; specials as ordinary text).
    /// This is the hot path every other encode calls.
    public func encodeValidUTF8(_ text: UnsafeRawBufferPointer, appendingTo out: inout [UInt32]) {
        guard text.count > 0, let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let ws = BPEWorkspace.current
        let t = tables
        ws.useCaches(for: t.serial)
        let count = text.count
        // Pieces are collected in batches; each batch is processed in two passes so that the
        // token-table loads of all its pieces are in flight at once (see processBatch).
        let starts = ws.batchStarts, ends = ws.batchEnds
        var k = 0
        preTokenizer.forEachPiece(in: text) { r in
            starts[k] = r.lowerBound
            ends[k] = r.upperBound
            k &+= 1
            if k == BPEWorkspace.batchSize {
                processBatch(base, count, pieces: k, tables: t, workspace: ws, into: &out)
                k = 0
            }
        }
        if k > 0 { processBatch(base, count, pieces: k, tables: t, workspace: ws, into: &out) }
    }

    /// Encodes the `k` pieces `ws.batchStarts[i] ..< ws.batchEnds[i]` (non-empty, within `count`).
    ///
    /// The encoder is memory-bound: most pieces cost one cache miss in the token table, and
    /// pieces of several tokens one more in the piece cache. Done piece by piece those misses
    /// serialise; here each pass only issues independent prefetches, so the CPU overlaps them:
    /// pass 1 hashes every piece and prefetches its token-table home line; pass 2 resolves the
    /// hits and, for the rest, prefetches their piece-cache slot; pass 3 emits ids in order,
    /// finishing the unresolved pieces (further probes, cache, merge).
    @inline(__always)
    private func processBatch(_ base: UnsafePointer<UInt8>, _ count: Int, pieces k: Int, tables t: RankTables,
                              workspace ws: BPEWorkspace, into out: inout [UInt32]) {
        let starts = ws.batchStarts, ends = ws.batchEnds
        let pres = ws.batchPrefix, hashes = ws.batchHash, resolved = ws.batchResolved
        let cache = ws.cache
        for i in 0..<k {
            let s = starts[i]
            let n = ends[i] &- s
            if n == 1 { continue }   // resolved from byteRank in pass 2, no table load
            let p = base + s
            let pre = RankTables.prefix(p, n, available: count &- s)
            let h = RankTables.hash(prefix: pre, p, n)
            pres[i] = pre
            hashes[i] = h
            t.prefetchHome(h)
        }
        for i in 0..<k {
            let s = starts[i]
            let n = ends[i] &- s
            if n == 1 { resolved[i] = t.byteRank[Int(base[s])]; continue }
            let r = n <= t.maxTokenLength ? t.homeBucketRank(prefix: pres[i], length: n, hash: hashes[i]) : RankTables.none
            resolved[i] = r
            // Not a token (or perhaps not): bring its cache slot in now, for pass 3.
            if r >= RankTables.undecided { cache.prefetch(hashes[i]) }
        }
        // At most one id per byte.
        var bytes = 0
        for i in 0..<k { bytes &+= ends[i] &- starts[i] }
        ws.reserveOutput(bytes)
        let dst = ws.output
        var m = 0
        for i in 0..<k {
            let r = resolved[i]
            if r < RankTables.undecided { dst[m] = r; m &+= 1; continue }
            let s = starts[i]
            m &+= encodePiece(base + s, ends[i] &- s, prefix: pres[i], hash: hashes[i], maybeToken: r == RankTables.undecided,
                              tables: t, workspace: ws, to: dst + m)
        }
        out.append(contentsOf: UnsafeBufferPointer(start: dst, count: m))
    }

    /// Appends the ids of pieces that were cut beforehand (`pieces` are byte ranges of `text`, any
    /// bytes): the BPE stage alone, for callers that split text themselves (and for benchmarks).
    public func encodePieces(_ text: UnsafeRawBufferPointer, pieces: [Range<Int>], appendingTo out: inout [UInt32]) {
        guard let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let t = tables
        let ws = BPEWorkspace.current
        ws.useCaches(for: t.serial)
        let starts = ws.batchStarts, ends = ws.batchEnds
        var k = 0
        for r in pieces where !r.isEmpty {
            precondition(r.lowerBound >= 0 && r.upperBound <= text.count, "piece outside the text")
            starts[k] = r.lowerBound
            ends[k] = r.upperBound
            k &+= 1
            if k == BPEWorkspace.batchSize {
                processBatch(base, text.count, pieces: k, tables: t, workspace: ws, into: &out)
                k = 0
            }
        }
        if k > 0 { processBatch(base, text.count, pieces: k, tables: t, workspace: ws, into: &out) }
    }

    /// A piece of ≥ 2 bytes: whole-token lookup (unless the home line already ruled it out:
    /// `maybeToken` false), cache, merge. Writes its ids to `dst` (room for n) and returns their number.
    @inline(never)   // the slow path; inlined, it made the batch loop around it slower (callgrind)
    private func encodePiece(_ p: UnsafePointer<UInt8>, _ n: Int, prefix pre: UInt64, hash h: UInt64, maybeToken: Bool,
                             tables t: RankTables, workspace ws: BPEWorkspace, to dst: UnsafeMutablePointer<UInt32>) -> Int {
        if maybeToken && n <= t.maxTokenLength {
            let whole = t.rank(of: p, n, prefix: pre, hash: h)
            if whole != RankTables.none { dst[0] = whole; return 1 }
        }
        let short = n <= PieceCache.maxPieceBytes
        if short {
            let hit = ws.cache.lookup(p, n, prefix: pre, hash: h, to: dst)
            if hit > 0 { return hit }
        }
        // Pieces of ≤ 22 bytes with > 8 ids are never in the first level: try the second. A piece
        // of ≤ 8 bytes has ≤ 8 ids, so it is always in the first level if cached at all.
        let long = n <= LongPieceCache.maxPieceBytes
        if long && n > PieceCache.maxIDs {
            let hit = ws.longCache.lookup(p, n, hash: h, to: dst)
            if hit > 0 { return hit }
        }
        let m = t.mergePiece(p, n, ws, to: dst)
        if short && m <= PieceCache.maxIDs {
            ws.cache.store(p, n, hash: h, ids: dst, count: m)
        } else if long {
            ws.longCache.store(p, n, hash: h, ids: dst, count: m)
        }
        return m
    }

    /// Ids of `text` with an explicit special-token policy (tiktoken's `encode`).
    ///
    /// Special tokens in `allowedSpecial` are matched as specials (leftmost first, longest on
    /// ties) and the text between them is encoded ordinarily. The text of any other special token
    /// is handled by `disallowedSpecial`: `.error` (default, as in tiktoken) throws an
    /// `LMError.badInput` naming the token and its byte offset; `.plainText` encodes it as text.
    ///
    ///     try tok.encode("a<|endoftext|>b", allowedSpecial: .all)   // [64, 50256, 65] with gpt2
    ///     try tok.encode("a<|endoftext|>b")                         // throws: special token not allowed
    ///     try tok.encode("a<|endoftext|>b", disallowedSpecial: .plainText)  // encodeOrdinary
    public func encode(_ text: String, allowedSpecial: SpecialTokenSet = .none,
                       disallowedSpecial: DisallowedSpecialPolicy = .error) throws -> [UInt32] {
        var out: [UInt32] = []
        var s = text
        var failure: LMError?
        s.withUTF8 { u in
            out.reserveCapacity(u.count / 3 + 16)
            do { try encode(UnsafeRawBufferPointer(u), validUTF8: true, allowedSpecial: allowedSpecial,
                            disallowedSpecial: disallowedSpecial, appendingTo: &out) } catch let e as LMError { failure = e } catch {}
        }
        if let failure { throw failure }
        return out
    }

    /// `encode` over bytes (invalid UTF-8 handled as in `encodeOrdinary(bytes:)`); appends to `out`.
    public func encode(_ bytes: UnsafeRawBufferPointer, validUTF8: Bool = false, allowedSpecial: SpecialTokenSet,
                       disallowedSpecial: DisallowedSpecialPolicy, appendingTo out: inout [UInt32]) throws {
        let ordinary: (UnsafeRawBufferPointer, inout [UInt32]) -> Void = { seg, o in
            if validUTF8 { self.encodeValidUTF8(seg, appendingTo: &o) } else { self.encodeOrdinary(seg, appendingTo: &o) }
        }
        if specials.isEmpty || (allowedSpecial == .none && disallowedSpecial == .plainText) {
            ordinary(bytes, &out)
            return
        }
        var segmentStart = 0
        var searchFrom = 0
        while let (start, k) = specials.nextMatch(in: bytes, from: searchFrom) {
            let e = specials.entries[k]
            if allowedSpecial.contains(e.text) {
                if start > segmentStart {
                    ordinary(UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<start]), &out)
                }
                out.append(e.id)
                segmentStart = start + e.bytes.count
                searchFrom = segmentStart
            } else if disallowedSpecial == .error {
                throw LMError.badInput(
                    "the text contains the special token \(e.text) at byte offset \(start), which is not allowed",
                    fix: "allow it (--allow-special \(e.text)) to encode it as a special token, or encode specials as plain text (--special-as-text)")
            } else {
                searchFrom = start + 1
            }
        }
        if segmentStart < bytes.count {
            ordinary(UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<bytes.count]), &out)
        }
    }

    /// `encodeOrdinary` of many texts on up to `threads` threads (default: all cores); result i
    /// belongs to text i. Each thread keeps its own workspace and cache.
    public func encodeOrdinaryBatch(_ texts: [String], threads: Int = Threads.available) -> [[UInt32]] {
        let slots = ResultSlots<[UInt32]>(count: texts.count)
        let tok = self
        Parallel.forEach(texts.count, threads: threads) { i in slots[i] = tok.encodeOrdinary(texts[i]) }
        return slots.values
    }

    /// `encode` of many texts in parallel with one special-token policy; throws the first error (lowest index).
    public func encodeBatch(_ texts: [String], allowedSpecial: SpecialTokenSet = .none,
                            disallowedSpecial: DisallowedSpecialPolicy = .error,
                            threads: Int = Threads.available) throws -> [[UInt32]] {
        let slots = ResultSlots<Result<[UInt32], LMError>>(count: texts.count)
        let tok = self
        Parallel.forEach(texts.count, threads: threads) { i in
            do { slots[i] = .success(try tok.encode(texts[i], allowedSpecial: allowedSpecial,
                                                    disallowedSpecial: disallowedSpecial)) }
            catch let e as LMError { slots[i] = .failure(e) } catch { slots[i] = .failure(LMError.badInput("\(error)")) }
        }
        return try slots.values.map { try $0.get() }
    }

    // MARK: Decoding

    /// The exact bytes of `ids` (ranks and special tokens). Throws `LMError.badInput` for an id
    /// that is neither a rank nor a special token of this vocabulary. O(output bytes).
    public func decode<C: Collection>(_ ids: C) throws -> [UInt8] where C.Element: BinaryInteger {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        let t = tables
        let n = t.rankCount
        for (i, id) in ids.enumerated() {
            if id >= 0 && id < n {
                let r = Int(id)
                let o = t.offsets[r], e = t.offsets[r + 1]
                out.append(contentsOf: UnsafeBufferPointer(start: t.arena + o, count: e - o))
            } else if let u = UInt32(exactly: id), let s = specialBytes[u] {
                out.append(contentsOf: s)
            } else {
                throw LMError.badInput("token id \(id) (position \(i)) is not in the vocabulary (ranks 0..<\(n)\(specialBytes.isEmpty ? "" : ", \(specialBytes.count) special tokens"))",
                                       fix: "decode with the vocabulary the ids were made with")
            }
        }
        return out
    }

    /// The bytes of one token id, or nil if the id is unknown.
    public func tokenBytes(_ id: UInt32) -> [UInt8]? {
        if Int(id) < tables.rankCount {
            let o = tables.offsets[Int(id)], e = tables.offsets[Int(id) + 1]
            return Array(UnsafeBufferPointer(start: tables.arena + o, count: e - o))
        }
        return specialBytes[id]
    }

    /// True if `id` is a special token of this vocabulary.
    public func isSpecial(_ id: UInt32) -> Bool { specialBytes[id] != nil }

    /// Empties the calling thread's piece cache, so that the next encode on this thread starts
    /// cold (benchmarks: first-pass speed, without pieces remembered from earlier calls).
    /// Never changes ids; other threads' caches are untouched.
    public static func discardThreadCache() {
        // Cleared now, not inside the next encode (8 MB of zeros); empty caches are valid for
        // whichever tables own them, so the owner stays.
        let ws = BPEWorkspace.current
        ws.cache.clear()
        ws.longCache.clear()
    }
}

extension BPEWorkspace {
    private static let key = "lmkit.BPEWorkspace"

    /// This thread's workspace (created on first use, kept for the thread's lifetime).
    static var current: BPEWorkspace {
        let dict = Thread.current.threadDictionary
        if let ws = dict[key] as? BPEWorkspace { return ws }
        let ws = BPEWorkspace()
        dict[key] = ws
        return ws
    }
}
