import Foundation
import LMSupport

/// Hugging Face `tokenizers` files (`tokenizer.json`) holding a byte-level BPE.
///
/// Import accepts `model.type == "BPE"` with byte-level token strings (`ByteLevelMapping`) and a
/// pre-tokenizer that is `ByteLevel(use_regex: true)` (→ the `gpt2` pattern, which HF's GPT-2
/// regex equals in effect), or a `Split` with a regex (→ `SplitPattern(name:)`, so tiktoken's
/// regexes map to `gpt2`/`gpt4`/`o200k` and others become custom), possibly inside a `Sequence`
/// with `ByteLevel(use_regex: false)`. `added_tokens` become special tokens; the remaining
/// vocab ids must be exactly `0..<N` and the merges must produce tokens in non-decreasing id
/// order (otherwise rank-order BPE would differ from HF's merge-order BPE and import is refused).
///
/// Export writes what transformers' `TikTokenConverter` writes for tiktoken vocabularies: every
/// split (a, b) of every token into two tokens as a merge, ordered by the merged token's rank,
/// then the ranks of a and b; `ignore_merges: true` (whole-word lookup first, like tiktoken);
/// a `Split` pre-tokenizer with lmkit's exact regex followed by `ByteLevel(use_regex: false)`;
/// specials as `added_tokens` with `special: true`. `tokenizers` then gives the same ids as lmkit
/// (checked by `scripts/check_tiktoken.py --hf`).
public enum HFTokenizerFile {
    /// Reads a `tokenizer.json`. Throws `LMError.badFormat` naming the file and the field.
    public static func read(_ path: String) throws -> Vocabulary {
        let root = try GPT2Files.readJSONObject(path)
        func bad(_ what: String, fix: String = "only byte-level BPE tokenizer.json files (GPT-2 style) can be imported") -> LMError {
            LMError.badFormat(file: path, what, fix: fix)
        }
        guard let model = root["model"] as? [String: Any] else { throw bad("no \"model\" object") }
        guard (model["type"] as? String) == "BPE" else {
            throw bad("model.type is \(model["type"] ?? "missing"), not BPE")
        }
        guard let vocab = model["vocab"] as? [String: Any] else { throw bad("no model.vocab object") }
        let pattern = try splitPattern(root["pre_tokenizer"], bad: bad)

        var specialIDs = Set<Int>()
        var specials: [SpecialToken] = []
        for t in (root["added_tokens"] as? [[String: Any]]) ?? [] {
            guard let id = (t["id"] as? NSNumber)?.intValue, let content = t["content"] as? String else {
                throw bad("an added_tokens entry lacks id or content")
            }
            specialIDs.insert(id)
            specials.append(SpecialToken(content, id: id))
        }
        var byID: [Int: String] = [:]
        for (k, v) in vocab {
            guard let id = (v as? NSNumber)?.intValue, id >= 0 else { throw bad("model.vocab[\(k)] is not an id") }
            if specialIDs.contains(id) { continue }
            byID[id] = k
        }
        let n = byID.count
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(n)
        var idOf: [String: Int] = [:]
        for id in 0..<n {
            guard let s = byID[id] else {
                throw bad("vocab ids are not 0..<\(n) without gaps (id \(id) is missing or an added token)",
                          fix: "lmkit needs ranks 0..<N with special tokens after them")
            }
            guard let b = ByteLevelMapping.decode(s) else {
                throw bad("token \(s) (id \(id)) is not a byte-level token string")
            }
            tokens.append(b)
            idOf[s] = id
        }
        let merges = (model["merges"] as? [Any]) ?? []
        var last = -1
        for (k, m) in merges.enumerated() {
            var pair: [String] = []
            if let s = m as? String {
                pair = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else if let a = m as? [String] {
                pair = a
            }
            guard pair.count == 2, let id = idOf[pair[0] + pair[1]], idOf[pair[0]] != nil, idOf[pair[1]] != nil else {
                throw bad("model.merges[\(k)] is not a pair of tokens whose concatenation is a token")
            }
            if id < last {
                throw bad("model.merges[\(k)] produces id \(id) after a merge produced \(last): merge order and ids disagree",
                          fix: "lmkit's rank-order BPE would encode differently; this tokenizer cannot be imported")
            }
            last = id
        }
        do {
            return try Vocabulary(pattern: pattern, tokens: tokens, specialTokens: specials.sorted { $0.id < $1.id })
        } catch let e as LMError {
            throw LMError.badFormat(file: path, e.message, fix: e.fix)
        }
    }

    /// Maps a pre_tokenizer object to a split pattern.
    private static func splitPattern(_ node: Any?, bad: (String, String) -> LMError) throws -> SplitPattern {
        let fix = "lmkit supports ByteLevel(use_regex) or Split(Regex) + ByteLevel pre-tokenizers"
        guard let obj = node as? [String: Any], let type = obj["type"] as? String else {
            throw bad("pre_tokenizer is missing", fix)
        }
        switch type {
        case "ByteLevel":
            if (obj["add_prefix_space"] as? Bool) == true { throw bad("ByteLevel add_prefix_space is not supported", fix) }
            if (obj["use_regex"] as? Bool) ?? true { return .gpt2 }
            throw bad("ByteLevel without a regex splits nothing", fix)
        case "Split":
            guard let p = obj["pattern"] as? [String: Any], let regex = p["Regex"] as? String else {
                throw bad("Split pre-tokenizer without a Regex pattern", fix)
            }
            if let b = obj["behavior"] as? String, b != "Isolated" { throw bad("Split behavior \(b) is not supported", fix) }
            if (obj["invert"] as? Bool) == true { throw bad("inverted Split is not supported", fix) }
            return SplitPattern(name: fromOnigurumaRegex(regex))
        case "Sequence":
            let items = (obj["pretokenizers"] as? [Any]) ?? []
            var found: SplitPattern?
            for item in items {
                guard let o = item as? [String: Any], let t = o["type"] as? String else { continue }
                if t == "ByteLevel" && (o["use_regex"] as? Bool) == false {
                    if (o["add_prefix_space"] as? Bool) == true { throw bad("ByteLevel add_prefix_space is not supported", fix) }
                    continue
                }
                if found != nil { throw bad("more than one splitting pre-tokenizer in the Sequence", fix) }
                found = try splitPattern(o, bad: bad)
            }
            guard let found else { throw bad("no splitting pre-tokenizer in the Sequence", fix) }
            return found
        default:
            throw bad("pre_tokenizer type \(type) is not supported", fix)
        }
    }

    /// The `tokenizer.json` bytes for `vocab` (see the type's documentation). O(total token bytes).
    public static func encode(_ vocab: Vocabulary) -> [UInt8] {
        let tables = RankTables(tokens: vocab.tokens)
        var out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        for (i, s) in vocab.specialTokens.enumerated() {
            out += i == 0 ? "\n" : ",\n"
            out += "    {\"id\": \(s.id), \"content\": \(json(s.text)), \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}"
        }
        out += vocab.specialTokens.isEmpty ? "],\n" : "\n  ],\n"
        out += "  \"normalizer\": null,\n"
        out += "  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \(json(onigurumaRegex(vocab.pattern.regex)))}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]},\n"
        out += "  \"post_processor\": null,\n"
        out += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n"
        out += "  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, \"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": true,\n"
        out += "    \"vocab\": {"
        let mapped = vocab.tokens.map { json(ByteLevelMapping.encode($0)) }
        for (r, s) in mapped.enumerated() {
            out += r == 0 ? "\n      " : ",\n      "
            out += "\(s): \(r)"
        }
        for s in vocab.specialTokens { out += ",\n      \(json(s.text)): \(s.id)" }
        out += "\n    },\n    \"merges\": ["
        var first = true
        for (r, t) in vocab.tokens.enumerated() where t.count >= 2 {
            var local: [(UInt32, UInt32)] = []
            t.withUnsafeBufferPointer { p in
                for k in 1..<t.count {
                    let a = tables.rank(of: p.baseAddress!, k), b = tables.rank(of: p.baseAddress! + k, t.count - k)
                    if a != RankTables.none && b != RankTables.none { local.append((a, b)) }
                }
            }
            local.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            for (a, b) in local {
                out += first ? "\n      " : ",\n      "
                first = false
                out += "[\(mapped[Int(a)]), \(mapped[Int(b)])]"
            }
            _ = r
        }
        out += "\n    ]\n  }\n}\n"
        return Array(out.utf8)
    }

    /// The split regex rewritten for Oniguruma (the engine of HF tokenizers): in its Ruby syntax
    /// `X{m,n}+` means `(X{m,n})+`, not a possessive interval as in tiktoken's fancy-regex, so
    /// cl100k's `\p{N}{1,3}+` would swallow whole digit runs. It becomes the atomic group
    /// `(?>\p{N}{1,3})`, which is what the possessive form means. (Other possessive forms,
    /// `?+ *+ ++`, mean the same in both engines.)
    static func onigurumaRegex(_ regex: String) -> String {
        regex.replacingOccurrences(of: #"\p{N}{1,3}+"#, with: #"(?>\p{N}{1,3})"#)
    }

    /// Reads back a regex written by `onigurumaRegex`.
    static func fromOnigurumaRegex(_ regex: String) -> String {
        regex.replacingOccurrences(of: #"(?>\p{N}{1,3})"#, with: #"\p{N}{1,3}+"#)
    }

    /// Writes a `tokenizer.json` atomically.
    public static func write(_ vocab: Vocabulary, to path: String) throws {
        try AtomicFileWriter.write(encode(vocab), to: path)
    }

    /// A JSON string literal.
    static func json(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
