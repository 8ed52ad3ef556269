import Foundation
import LMSupport

/// One input file of a corpus: where it is, how its text is laid out, how it is compressed.
///
/// The format comes from the name: `.txt`, `.jsonl`, `.json`, each optionally followed by
/// `.zst` or `.gz` (`books.jsonl.zst`). A file named explicitly on the command line with any
/// other extension is read as plain text; inside directories only the known extensions are
/// picked up (other files, and names starting with `.`, are skipped).
public struct CorpusFile: Sendable, Equatable {
    /// How documents are laid out in the (decompressed) file.
    public enum Format: String, Sendable, Equatable {
        /// Plain UTF-8 text: the whole file is one document, or documents are separated by lines
        /// holding only `<|endoftext|>` (`CorpusOptions.splitAtEndOfText`).
        case text
        /// One JSON object per line; the document is the string in `CorpusOptions.textField`.
        case jsonl
        /// One JSON array of objects (or strings); read whole, one file at a time.
        case json
    }

    /// How the file is compressed.
    public enum Compression: String, Sendable, Equatable { case none, zstd, gzip }

    public var path: String
    public var format: Format
    public var compression: Compression
    /// Size on disk in bytes.
    public var sizeOnDisk: Int64

    /// Classifies `path` by its extensions; nil if unknown (`explicit` files default to text).
    public static func classify(_ path: String, explicit: Bool) -> (Format, Compression)? {
        var name = (path as NSString).lastPathComponent.lowercased()
        var compression = Compression.none
        if name.hasSuffix(".zst") { compression = .zstd; name.removeLast(4) }
        else if name.hasSuffix(".zstd") { compression = .zstd; name.removeLast(5) }
        else if name.hasSuffix(".gz") { compression = .gzip; name.removeLast(3) }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") { return (.jsonl, compression) }
        if name.hasSuffix(".json") { return (.json, compression) }
        if name.hasSuffix(".txt") || name.hasSuffix(".text") || name.hasSuffix(".md") { return (.text, compression) }
        return explicit ? (.text, compression) : nil
    }
}

/// Where and how to read a corpus.
public struct CorpusOptions: Sendable {
    /// JSON field holding the text in `.jsonl`/`.json` records (default `text`).
    public var textField: String
    /// In `.txt` files, a line holding only `<|endoftext|>` ends a document (and is dropped).
    /// Off by default: each `.txt` file is one document.
    public var splitAtEndOfText: Bool
    /// Target size of the chunks `CorpusChunkReader` returns, in bytes (default 1 MiB).
    public var chunkSize: Int

    public init(textField: String = "text", splitAtEndOfText: Bool = false, chunkSize: Int = 1 << 20) {
        self.textField = textField
        self.splitAtEndOfText = splitAtEndOfText
        self.chunkSize = max(1024, chunkSize)
    }
}

/// The line that separates documents in `.txt` corpora when `splitAtEndOfText` is on.
public let endOfTextSeparator = "<|endoftext|>"

/// Resolves command-line inputs (files and directories) to the sorted list of corpus files.
public enum CorpusInputs {
    /// Expands `inputs` in the order given; each directory is walked recursively and its files
    /// sorted by path (byte order), so the same tree always gives the same order.
    ///
    /// Throws `LMError.io` naming a path that does not exist, and `LMError.badInput` when no
    /// usable file is found.
    public static func resolve(_ inputs: [String]) throws -> [CorpusFile] {
        if inputs.isEmpty {
            throw LMError.badInput("no input given", fix: "pass --input with a file or directory")
        }
        var files: [CorpusFile] = []
        for input in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
                throw LMError.io(file: input, "no such file or directory", fix: "check the --input path")
            }
            if isDir.boolValue {
                let found = try walk(input)
                if found.isEmpty {
                    throw LMError.badInput(file: input, "directory holds no .txt, .jsonl or .json files (plain, .zst or .gz)",
                                           fix: "point --input at the corpus files")
                }
                files += found
            } else {
                let (format, compression) = CorpusFile.classify(input, explicit: true)!
                files.append(CorpusFile(path: input, format: format, compression: compression, sizeOnDisk: size(of: input)))
            }
        }
        return files
    }

    private static func walk(_ dir: String) throws -> [CorpusFile] {
        guard let e = FileManager.default.enumerator(atPath: dir) else {
            throw LMError.io(file: dir, "cannot list the directory", fix: "check its permissions")
        }
        var paths: [String] = []
        while let rel = e.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            if name.hasPrefix(".") { continue }
            let full = dir.hasSuffix("/") ? dir + rel : dir + "/" + rel
            if FileIO.isDirectory(full) { continue }
            if CorpusFile.classify(full, explicit: false) != nil { paths.append(full) }
        }
        paths.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return paths.map {
            let (f, c) = CorpusFile.classify($0, explicit: false)!
            return CorpusFile(path: $0, format: f, compression: c, sizeOnDisk: size(of: $0))
        }
    }

    static func size(of path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}
