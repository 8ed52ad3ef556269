import Foundation
import LMData
import LMSupport

/// Turns ids back into text for `lmkit shards cat --decode` (needs the vocabulary reader).
enum ShardTextDecoder {
    static func make(vocab: String, manifest: Manifest, directory: String) throws -> ([UInt32]) throws -> [UInt8] {
        throw LMError(.usage, file: vocab, "--decode is not available yet in this build", fix: "print ids without --decode")
    }
}
