import Foundation
import LMSupport

extension GPT {
    /// Writes `model.safetensors` (Hugging Face GPT-2 names, fp32, wte with V rows) and
    /// `config.json` (accepted by `transformers.GPT2LMHeadModel.from_pretrained`) into
    /// `directory`, each atomically. See docs/CHECKPOINT_FORMAT.md.
    public func save(to directory: String) throws {
        throw LMError.io(file: directory, "GPT.save: not implemented yet")
    }

    /// Reads a directory written by `save(to:)` or by transformers' `save_pretrained`
    /// (safetensors). Throws `LMError` naming the file and tensor for missing or mis-shaped
    /// tensors, truncated files or an unsupported config.
    public static func load(from directory: String) throws -> GPT {
        throw LMError.io(file: directory, "GPT.load: not implemented yet")
    }
}
