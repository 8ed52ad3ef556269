import Foundation
import LMSupport
import LMTokenizer

/// The checks and files every training command (`pretrain`, `finetune`, `reward train`) shares
/// around its run directory.
enum RunDirectory {
    /// The saved state of the run in `run` when resuming, nil for a new run. Refuses to start over
    /// an existing run (without `resume`) and to resume where there is none, naming the directory.
    static func savedState<P: Codable & Sendable, C: Codable & Equatable & Sendable>(
        in run: String, resume: Bool, as _: TrainState<P, C>.Type) throws -> TrainState<P, C>? {
        let statePath = run + "/" + TrainState<P, C>.fileName
        if !resume && FileIO.exists(statePath) {
            throw LMError.badInput(file: run, "already holds a training run (state.json)",
                                   fix: "pass --resume to continue it, or choose another --out")
        }
        if resume && !FileIO.exists(statePath) {
            throw LMError.badInput(file: run, "has no checkpoint to resume (state.json is missing)",
                                   fix: "start the run without --resume")
        }
        return resume ? try TrainState<P, C>.read(from: statePath) : nil
    }

    /// Checks that every file of a checkpoint still has the FNV-1a 64 hash its state file
    /// `stateFile` recorded (`hashes`: path relative to `run` → hex); one error line naming the first
    /// file that does not.
    static func verify(_ hashes: [String: String], in run: String, stateFile: String) throws {
        for (name, hash) in hashes.sorted(by: { $0.key < $1.key }) {
            let file = run + "/" + name
            guard FNV1a64.fileHex(file) == hash else {
                throw LMError.badFormat(file: file, "does not match \(stateFile) (the checkpoint is incomplete or was modified)",
                                        fix: "restore the run directory or start a new run")
            }
        }
    }

    /// Creates `run` (and its parents); one error line if it cannot.
    static func create(_ run: String) throws {
        do { try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true) } catch {
            throw LMError.io(file: run, "cannot create the run directory", fix: "check the --out path and permissions")
        }
    }

    /// Writes `vocab` (read from `file`) to RUN/vocab.vocab, unless `file` is that copy already.
    static func storeVocab(_ vocab: Vocabulary, from file: String, in run: String) throws {
        let copy = run + "/" + Pretrain.vocabFileName
        if (file as NSString).standardizingPath != (copy as NSString).standardizingPath {
            try VocabularyFile.write(vocab, to: copy)
        }
    }
}
