import Foundation
import LMSupport

/// Output-directory bookkeeping for `Sharder` and the importers: create it, refuse a directory
/// made with another vocab or config, keep verified shards of an interrupted run, remove stale
/// temporary files and shards that failed their check.
enum ShardDirectory {
    /// Returns the manifest to continue from (empty entries for a fresh directory).
    static func prepare(_ p: Sharder.Parameters) throws -> Manifest {
        let fresh = Manifest(vocabFingerprint: p.vocabFingerprint, vocabSize: p.vocabSize,
                             endOfTextID: Int(p.endOfTextID), frameTokens: p.frameTokens, complete: false,
                             config: p.fullConfig, command: p.command)
        return try prepare(directory: p.output, fresh: fresh, quiet: p.quiet)
    }

    static func prepare(directory dir: String, fresh: Manifest, quiet: Bool) throws -> Manifest {
        let fm = FileManager.default
        if FileIO.exists(dir) && !FileIO.isDirectory(dir) {
            throw LMError.io(file: dir, "exists and is not a directory", fix: "choose another --output")
        }
        if !FileIO.exists(dir) {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw LMError.io(file: dir, "cannot create the output directory", fix: "check the path and permissions")
            }
        }
        guard access(dir, W_OK) == 0 else {
            throw LMError.io(file: dir, "the output directory is not writable", fix: "choose another --output")
        }
        let names = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
        // Temporary files of an interrupted run (AtomicFileWriter names them ".<name>.tmp-…").
        for n in names where n.hasPrefix(".") && n.contains(".tmp-") { unlink((dir as NSString).appendingPathComponent(n)) }
        guard FileIO.exists(Manifest.path(directory: dir)) else {
            if names.contains(where: { $0.hasSuffix("." + ShardFormat.fileExtension) }) {
                throw LMError.mismatch(file: dir, "holds .lmshard files but no manifest.json",
                                       fix: "choose an empty --output directory")
            }
            return fresh
        }
        let old = try Manifest.read(directory: dir)
        var differences: [String] = []
        if old.vocabFingerprint != fresh.vocabFingerprint || old.vocabSize != fresh.vocabSize {
            differences.append("vocab (fingerprint \(HexFingerprint.hex(old.vocabFingerprint)), now \(HexFingerprint.hex(fresh.vocabFingerprint)))")
        }
        for key in Set(old.config.keys).union(fresh.config.keys).sorted() where old.config[key] != fresh.config[key] {
            differences.append("\(key) (\(old.config[key] ?? "unset"), now \(fresh.config[key] ?? "unset"))")
        }
        if old.frameTokens != fresh.frameTokens { differences.append("frame size") }
        if !differences.isEmpty {
            throw LMError.mismatch(file: dir, "was made with a different " + differences.joined(separator: ", "),
                                   fix: "choose another --output or delete the directory to re-shard")
        }
        // Keep each split's shards up to the first one that fails its check.
        var kept = old
        kept.command = fresh.command
        for s in Split.allCases {
            var good: [Manifest.Entry] = []
            var bad = false
            for e in old.entries(s) {
                let path = (dir as NSString).appendingPathComponent(e.file)
                if !bad {
                    do {
                        let r = try ShardReader(path: path)
                        try r.verify()
                        if r.header.tokenCount == e.tokens && r.header.documentCount == e.documents
                            && r.header.vocabFingerprint == fresh.vocabFingerprint {
                            good.append(e)
                            continue
                        }
                        if !quiet { printError("shard: \(path): counts differ from manifest.json; re-making it") }
                    } catch {
                        if !quiet { printError("shard: \(error); re-making it") }
                    }
                    bad = true
                }
                unlink(path)
            }
            if s == .train { kept.train = good } else { kept.val = good }
            if bad { kept.complete = false }
        }
        if !quiet && !kept.complete && kept.train.count + kept.val.count > 0 {
            printError("shard: resuming \(dir): keeping \(kept.train.count + kept.val.count) verified shards")
        }
        return kept
    }
}
