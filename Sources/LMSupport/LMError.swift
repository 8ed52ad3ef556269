/// The one error type every lmkit library throws for bad input or failed I/O.
///
/// Its `description` is a single line a person can act on: what is wrong, where
/// (file, line, field, shard, frame), and what to do. The CLI prints exactly that line
/// on stderr and exits non-zero.
///
///     throw LMError.badInput(file: "corpus.jsonl", "line 12: field \"text\" is missing",
///                            fix: "pass --text-field with the field that holds the text")
///     // corpus.jsonl: line 12: field "text" is missing — pass --text-field with the field that holds the text
public struct LMError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Broad class of the failure; scripts may branch on it, people read `description`.
    public enum Kind: String, Sendable, Equatable {
        case badInput, badFormat, io, usage, mismatch, numeric, interrupted
    }

    public let kind: Kind
    /// The file (or directory) the problem is in, if any.
    public let file: String?
    /// What is wrong, without the file name.
    public let message: String
    /// What the user should do about it, if there is something to say.
    public let fix: String?

    public init(_ kind: Kind, file: String? = nil, _ message: String, fix: String? = nil) {
        self.kind = kind
        self.file = file
        self.message = message
        self.fix = fix
    }

    public var description: String {
        var line = ""
        if let file { line += "\(file): " }
        line += message
        if let fix { line += " — \(fix)" }
        return line
    }

    /// Invalid user-supplied data (corpus, JSONL record, option value).
    public static func badInput(file: String? = nil, _ message: String, fix: String? = nil) -> LMError {
        LMError(.badInput, file: file, message, fix: fix)
    }

    /// A file lmkit (or another tool) wrote is malformed, truncated or of an unknown version.
    public static func badFormat(file: String? = nil, _ message: String, fix: String? = nil) -> LMError {
        LMError(.badFormat, file: file, message, fix: fix)
    }

    /// The operating system refused a read or write.
    public static func io(file: String? = nil, _ message: String, fix: String? = nil) -> LMError {
        LMError(.io, file: file, message, fix: fix)
    }

    /// Two things that must agree do not (vocab vs shards, checkpoint vs config).
    public static func mismatch(file: String? = nil, _ message: String, fix: String? = nil) -> LMError {
        LMError(.mismatch, file: file, message, fix: fix)
    }
}
