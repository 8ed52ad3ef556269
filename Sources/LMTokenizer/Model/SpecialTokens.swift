import LMSupport

/// Which special tokens `BPETokenizer.encode` matches as specials (like tiktoken's `allowed_special`).
public enum SpecialTokenSet: Sendable, Equatable {
    /// None: every special token's text is subject to `DisallowedSpecialPolicy`.
    case none
    /// All special tokens of the vocabulary.
    case all
    /// Only these (by text); others are subject to `DisallowedSpecialPolicy`.
    case only(Set<String>)

    /// True if the special token with text `text` is allowed.
    public func contains(_ text: String) -> Bool {
        switch self {
        case .none: return false
        case .all: return true
        case .only(let s): return s.contains(text)
        }
    }
}

/// What `BPETokenizer.encode` does with the text of a special token that is not allowed.
public enum DisallowedSpecialPolicy: Sendable, Equatable {
    /// Throw an `LMError` naming the token and its byte offset (tiktoken's default,
    /// `disallowed_special="all"`): protects against prompt text that forges control tokens.
    case error
    /// Encode it as ordinary text (tiktoken's `disallowed_special=()`).
    case plainText
}

/// Finds special-token texts in UTF-8 bytes: the leftmost occurrence, longest text on ties.
///
/// Performance: one table lookup per byte (is it the first byte of some special?); only
/// candidate positions compare bytes. ~1 GB/s on text without `<`.
struct SpecialTokenMatcher: Sendable {
    struct Entry: Sendable {
        var bytes: [UInt8]
        var id: UInt32
        var text: String
    }
    /// Sorted by byte length, longest first.
    let entries: [Entry]
    private let firstByte: [Bool]

    init(_ specials: [SpecialToken]) {
        entries = specials.map { Entry(bytes: Array($0.text.utf8), id: UInt32($0.id), text: $0.text) }
            .sorted { $0.bytes.count > $1.bytes.count }
        var fb = [Bool](repeating: false, count: 256)
        for e in entries { fb[Int(e.bytes[0])] = true }
        firstByte = fb
    }

    var isEmpty: Bool { entries.isEmpty }

    /// The leftmost special at or after `from` in `p`: its start offset and index in `entries`.
    func nextMatch(in p: UnsafeRawBufferPointer, from: Int) -> (start: Int, entry: Int)? {
        if entries.isEmpty { return nil }
        let n = p.count
        var i = from
        return firstByte.withUnsafeBufferPointer { fb in
            while i < n {
                if fb[Int(p[i])] {
                    for (k, e) in entries.enumerated() where e.bytes.count <= n &- i {
                        var same = true
                        for j in 0..<e.bytes.count where p[i &+ j] != e.bytes[j] { same = false; break }
                        if same { return (i, k) }
                    }
                }
                i &+= 1
            }
            return nil
        }
    }
}
