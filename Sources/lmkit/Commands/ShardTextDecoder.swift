import Foundation
import LMCorpus
import LMData
import LMSupport
import LMTokenizer

/// Turns one document's ids back into text for `lmkit shards cat --decode`: the document's bytes
/// without its trailing end-of-text id. `cat` writes `separator` between documents, so a directory
/// sharded from a `.txt` with `<|endoftext|>` lines prints exactly that text.
enum ShardTextDecoder {
    static let separator = Array("\(endOfTextSeparator)\n".utf8)

    static func make(vocab: String, manifest: Manifest, directory: String) throws -> ([UInt32]) throws -> [UInt8] {
        let vocabulary = try VocabularyImport(input: vocab).run()
        let fingerprint = UInt64(vocabulary.fingerprint, radix: 16) ?? 0
        guard manifest.vocabFingerprint == 0 || fingerprint == manifest.vocabFingerprint else {
            throw LMError.mismatch(file: vocab,
                "vocab fingerprint \(vocabulary.fingerprint) differs from the shards' \(HexFingerprint.hex(manifest.vocabFingerprint))",
                fix: "pass the vocabulary the directory was sharded with")
        }
        let tokenizer = try BPETokenizer(vocabulary)
        let eot = manifest.endOfTextID.map(UInt32.init)
        return { ids in
            var body = ids[...]
            if let eot, body.last == eot { body = body.dropLast() }
            return try tokenizer.decode(body)
        }
    }
}
