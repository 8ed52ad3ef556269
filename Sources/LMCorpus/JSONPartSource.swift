import Foundation
import LMSupport

/// Documents of a `.jsonl` file: one JSON object per line, the text in field `textField`.
/// Blank lines are skipped. A line that is not a JSON object, lacks the field, or holds a
/// non-string there is an `LMError.badInput` naming the file and the line number (1-based);
/// invalid UTF-8 names the line and the byte offset.
///
/// Performance notes: lines are cut with `memchr` over decompressed blocks; each line is parsed
/// with `JSONSerialization` (~40–80 MB/s here); the line carry is at most one record.
final class JSONLPartSource: DocumentPartSource {
    private let reader: DecompressedFileReader
    private let field: String
    private var carry: [UInt8] = []
    private var carryOffset: Int64 = 0
    private var line = 0
    private var queue: [DocumentPart] = []
    private var queueHead = 0
    private var finished = false

    init(_ file: CorpusFile, textField: String) throws {
        reader = try DecompressedFileReader(file)
        field = textField
    }

    var path: String { reader.file.path }

    func nextPart() throws -> DocumentPart? {
        while queueHead >= queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
            if finished { return nil }
            if let block = try reader.nextBlock() {
                var data = carry
                data.append(contentsOf: block)
                carry = []
                var start = 0
                let n = data.count
                while start < n {
                    let nl: Int? = data.withUnsafeBytes { d in
                        memchr(d.baseAddress! + start, 10, n - start).map { d.baseAddress!.distance(to: UnsafeRawPointer($0)) }
                    }
                    guard let end = nl else { break }
                    try parseLine(data, start, end)
                    start = end + 1
                }
                carry = Array(data[start..<n])
                carryOffset += Int64(start)
            } else {
                finished = true
                if !carry.isEmpty { try parseLine(carry, 0, carry.count) }
            }
        }
        defer { queueHead += 1 }
        return queue[queueHead]
    }

    private func parseLine(_ data: [UInt8], _ lo: Int, _ hi: Int) throws {
        line += 1
        var end = hi
        if end > lo && data[end - 1] == 13 { end -= 1 }
        var blank = true
        for i in lo..<end where data[i] != 32 && data[i] != 9 { blank = false; break }
        if blank { return }
        let bytes = Array(data[lo..<end])
        try UTF8Cut.validate(bytes, file: path, fileOffset: carryOffset + Int64(lo), what: "line \(line): ")
        let text = try JSONRecords.text(of: bytes, field: field, file: path, where: "line \(line)")
        queue.append(DocumentPart(bytes: text, endsDocument: true))
    }
}

/// Documents of a `.json` file: an array whose elements are objects (text in `textField`) or
/// strings. The file is read whole (one file at a time), so keep large corpora in `.jsonl`.
final class JSONArrayPartSource: DocumentPartSource {
    private var documents: [[UInt8]] = []
    private var next = 0

    init(_ file: CorpusFile, textField: String) throws {
        let reader = try DecompressedFileReader(file)
        var all: [UInt8] = []
        while let b = try reader.nextBlock() { all.append(contentsOf: b) }
        try UTF8Cut.validate(all, file: file.path, fileOffset: 0)
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(all), options: [.fragmentsAllowed])
        } catch {
            throw LMError.badInput(file: file.path, "not valid JSON",
                                   fix: "a .json corpus must be one array of objects; use .jsonl for one object per line")
        }
        guard let array = parsed as? [Any] else {
            throw LMError.badInput(file: file.path, "the top level is not a JSON array",
                                   fix: "a .json corpus must be an array of objects with a \"\(textField)\" field")
        }
        for (i, element) in array.enumerated() {
            if let s = element as? String { documents.append(Array(s.utf8)); continue }
            documents.append(try JSONRecords.text(of: element, field: textField, file: file.path, where: "element \(i)"))
        }
    }

    func nextPart() throws -> DocumentPart? {
        guard next < documents.count else { return nil }
        defer { documents[next] = []; next += 1 }
        return DocumentPart(bytes: documents[next], endsDocument: true)
    }
}

/// Extracting the text field from one JSON record.
enum JSONRecords {
    static func text(of line: [UInt8], field: String, file: String, where place: String) throws -> [UInt8] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line), options: [])
        } catch {
            throw LMError.badInput(file: file, "\(place): not a valid JSON object",
                                   fix: "fix or remove that line (each line of a .jsonl file is one JSON object)")
        }
        return try text(of: object, field: field, file: file, where: place)
    }

    static func text(of object: Any, field: String, file: String, where place: String) throws -> [UInt8] {
        guard let dict = object as? [String: Any] else {
            throw LMError.badInput(file: file, "\(place): not a JSON object",
                                   fix: "each record must be an object like {\"\(field)\": \"...\"}")
        }
        guard let value = dict[field] else {
            let fields = dict.keys.sorted().prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
            throw LMError.badInput(file: file, "\(place): no field \"\(field)\" (fields: \(fields.isEmpty ? "none" : fields))",
                                   fix: "pass --text-field with the field that holds the text")
        }
        guard let s = value as? String else {
            throw LMError.badInput(file: file, "\(place): field \"\(field)\" is not a string",
                                   fix: "pass --text-field with a field that holds text")
        }
        return Array(s.utf8)
    }
}
