import Foundation
import LMSupport

/// One document of a corpus: its UTF-8 bytes and where it came from.
public struct CorpusDocument: Sendable {
    /// The text, valid UTF-8, never empty (empty documents are skipped).
    public var bytes: [UInt8]
    /// The file it was read from.
    public var file: String
    /// Its position among the non-empty documents of that file (0-based).
    public var indexInFile: Int
}

/// The parts of all documents of all files, in order; shared by the document and chunk readers.
final class CorpusPartStream {
    let files: [CorpusFile]
    let options: CorpusOptions
    private var fileIndex = -1
    private var source: DocumentPartSource?
    /// Non-empty text bytes delivered so far.
    private(set) var textBytes: Int64 = 0

    init(files: [CorpusFile], options: CorpusOptions) {
        self.files = files
        self.options = options
    }

    /// The next part and the index of its file; nil at the end. Throws `LMError.badInput` at the
    /// end if the whole corpus held no text.
    func next() throws -> (DocumentPart, Int)? {
        while true {
            if let s = source, let part = try s.nextPart() {
                textBytes += Int64(part.bytes.count)
                return (part, fileIndex)
            }
            source = nil
            fileIndex += 1
            if fileIndex >= files.count {
                if textBytes == 0 { throw emptyCorpus() }
                return nil
            }
            let f = files[fileIndex]
            switch f.format {
            case .text: source = try TextPartSource(f, splitAtEndOfText: options.splitAtEndOfText)
            case .jsonl: source = try JSONLPartSource(f, textField: options.textField)
            case .json: source = try JSONArrayPartSource(f, textField: options.textField)
            }
        }
    }

    private func emptyCorpus() -> LMError {
        if files.count == 1 {
            return LMError.badInput(file: files[0].path, "the corpus is empty (no text in it)",
                                    fix: "pass a file with some text in it")
        }
        let names = files.prefix(3).map(\.path).joined(separator: ", ") + (files.count > 3 ? ", …" : "")
        return LMError.badInput("the corpus is empty: no text in \(files.count) files (\(names))",
                                fix: "pass files with some text in them")
    }
}

/// Reads a corpus (files and directories of `.txt`/`.jsonl`/`.json`, plain or `.zst`/`.gz`)
/// document by document, streaming: memory is one decompressed block plus the current document.
///
///     let r = try CorpusDocumentReader(inputs: ["data/"], options: .init(splitAtEndOfText: true))
///     while let doc = try r.next() { use(doc.bytes) }
///
/// Errors are `LMError`s naming the file: missing path, corrupt compression, invalid UTF-8 (byte
/// offset), bad JSONL line (line number), missing text field, empty corpus.
public final class CorpusDocumentReader {
    private let parts: CorpusPartStream
    private var perFile: [Int: Int] = [:]

    /// Resolves `inputs` (see `CorpusInputs.resolve`); nothing is read yet.
    public convenience init(inputs: [String], options: CorpusOptions = CorpusOptions()) throws {
        self.init(files: try CorpusInputs.resolve(inputs), options: options)
    }

    public init(files: [CorpusFile], options: CorpusOptions = CorpusOptions()) {
        parts = CorpusPartStream(files: files, options: options)
    }

    /// The files in reading order.
    public var files: [CorpusFile] { parts.files }

    /// Decompressed text size of all files if it can be known up front (progress only), else nil.
    public var totalInputBytes: Int64? { CorpusSize.estimate(parts.files) }

    /// Text bytes read so far.
    public var bytesRead: Int64 { parts.textBytes }

    /// The next non-empty document, or nil at the end of the corpus.
    public func next() throws -> CorpusDocument? {
        var bytes: [UInt8] = []
        while let (part, file) = try parts.next() {
            if bytes.isEmpty { bytes = part.bytes } else { bytes.append(contentsOf: part.bytes) }
            if part.endsDocument {
                if bytes.isEmpty { continue }
                let k = perFile[file, default: 0]
                perFile[file] = k + 1
                return CorpusDocument(bytes: bytes, file: parts.files[file].path, indexInFile: k)
            }
        }
        return nil
    }
}

extension CorpusDocumentReader {
    /// Calls `body` with every remaining document, in order (what LMData's `DocumentSource`
    /// adapter needs: `try reader.forEach { try body($0.bytes) }`).
    public func forEach(_ body: (CorpusDocument) throws -> Void) throws {
        while let d = try next() { try body(d) }
    }
}

/// Up-front size estimates for progress bars.
public enum CorpusSize {
    /// Sum of the files' decompressed sizes (exact for plain files, from headers/trailers for
    /// `.zst`/`.gz`); nil if any is unknown.
    public static func estimate(_ files: [CorpusFile]) -> Int64? {
        var total: Int64 = 0
        for f in files {
            guard let s = DecompressedFileReader.estimatedSize(of: f) else { return nil }
            total += s
        }
        return total
    }
}
