/// Documents to shard, in a fixed order: the sharder's only view of the input corpus.
///
/// LMData never reads corpora itself; the CLI adapts `LMCorpus` to this protocol, tests use
/// `DocumentArray`. The order must be the same on every run (resume relies on document indexes).
public protocol DocumentSource {
    /// Total input bytes if known (for the ETA), else nil.
    var totalBytes: Int64? { get }
    /// Calls `body` with each document's UTF-8 bytes, in order. `body` may throw to stop.
    func forEachDocument(_ body: ([UInt8]) throws -> Void) throws
}

/// Documents held in memory.
public struct DocumentArray: DocumentSource {
    public var documents: [[UInt8]]
    public init(_ documents: [[UInt8]]) { self.documents = documents }
    /// Documents from strings (UTF-8).
    public init(strings: [String]) { documents = strings.map { Array($0.utf8) } }
    public var totalBytes: Int64? { Int64(documents.reduce(0) { $0 + $1.count }) }
    public func forEachDocument(_ body: ([UInt8]) throws -> Void) throws {
        for d in documents { try body(d) }
    }
}
