import Foundation
import LMSupport

/// OpenAI GPT-2's original pair of files: `encoder.json` (mapped token string → id, including
/// `<|endoftext|>`) and `vocab.bpe` (`#version: 0.2` then one merge `A B` per line, in priority
/// order). Token strings use `ByteLevelMapping`.
///
/// Import rule: ids `0..<256+M` (M merges) are the mergeable ranks; entries with larger ids are
/// special tokens. Merge k must produce the token with id 256+k (true for GPT-2: tiktoken's
/// `data_gym_to_mergeable_bpe_ranks` asserts the same); otherwise the rank order and the merge
/// order would disagree and the import is refused.
public enum GPT2Files {
    /// Reads `encoder.json` + `vocab.bpe`. Throws `LMError.badFormat` naming the file at fault.
    public static func read(encoderJSON: String, vocabBPE: String, pattern: SplitPattern = .gpt2) throws -> Vocabulary {
        let encoder = try readJSONObject(encoderJSON)
        let bpeBytes = try FileIO.readBytes(vocabBPE)
        guard let bpeText = String(validating: bpeBytes, as: UTF8.self) else {
            throw LMError.badFormat(file: vocabBPE, "not UTF-8", fix: "pass GPT-2's vocab.bpe")
        }
        var merges: [(String, String)] = []
        for (i, line) in bpeText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || (i == 0 && line.hasPrefix("#version")) { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw LMError.badFormat(file: vocabBPE, "line \(i + 1): expected a merge `A B`", fix: "pass GPT-2's vocab.bpe")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        var byID: [Int: String] = [:]
        for (k, v) in encoder {
            guard let id = (v as? NSNumber)?.intValue, id >= 0 else {
                throw LMError.badFormat(file: encoderJSON, "value of \(k) is not a non-negative integer id",
                                        fix: "pass GPT-2's encoder.json (token → id)")
            }
            if byID[id] != nil { throw LMError.badFormat(file: encoderJSON, "id \(id) appears twice", fix: "check the file") }
            byID[id] = k
        }
        let n = 256 + merges.count
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(n)
        var idOfString: [String: Int] = [:]
        for id in 0..<n {
            guard let s = byID[id] else {
                throw LMError.badFormat(file: encoderJSON, "id \(id) is missing (\(merges.count) merges need ids 0..<\(n))",
                                        fix: "pass the encoder.json that belongs to this vocab.bpe")
            }
            guard let b = ByteLevelMapping.decode(s) else {
                throw LMError.badFormat(file: encoderJSON, "token \(s) (id \(id)) uses characters outside GPT-2's byte mapping",
                                        fix: "only byte-level BPE files can be imported")
            }
            tokens.append(b)
            idOfString[s] = id
        }
        for (k, (a, b)) in merges.enumerated() {
            guard idOfString[a + b] == 256 + k else {
                throw LMError.badFormat(file: vocabBPE, "merge \(k + 1) (\(a) \(b)) does not produce the token with id \(256 + k) in \(encoderJSON)",
                                        fix: "lmkit needs ids in merge order; pass matching GPT-2 files")
            }
        }
        let specials = byID.filter { $0.key >= n }.sorted { $0.key < $1.key }.map { SpecialToken($0.value, id: $0.key) }
        do {
            return try Vocabulary(pattern: pattern, tokens: tokens, specialTokens: specials)
        } catch let e as LMError {
            throw LMError.badFormat(file: encoderJSON, e.message, fix: e.fix)
        }
    }

    /// Parses a JSON file whose top level is an object. Throws `LMError.badFormat` naming the file.
    static func readJSONObject(_ path: String) throws -> [String: Any] {
        let bytes = try FileIO.readBytes(path)
        let obj: Any
        do {
            obj = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw LMError.badFormat(file: path, "not valid JSON (truncated or not a JSON file)",
                                    fix: "pass an intact JSON file")
        }
        guard let dict = obj as? [String: Any] else {
            throw LMError.badFormat(file: path, "top level is not a JSON object", fix: "pass an intact JSON file")
        }
        return dict
    }
}
