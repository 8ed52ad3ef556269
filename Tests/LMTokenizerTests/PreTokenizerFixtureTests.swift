import Foundation
import Testing
import LMTestSupport
@testable import LMTokenizer

/// The committed fixture `Fixtures/pretok_fixtures.json`, made by
/// `scripts/fixtures/make_pretok_fixtures.py` with Python `regex` running tiktoken's patterns.
/// (Decoded with `JSONDecoder`: `JSONSerialization` on Linux drops a raw U+FEFF inside strings.)
struct PreTokenizerFixture: Decodable {
    struct Case: Decodable {
        var name: String
        var text: String
        /// Pattern name → UTF-8 byte length of each piece.
        var pieces: [String: [Int]]
    }
    var patterns: [String: String]
    var classNames: [String]
    /// "hexStart:class" runs covering U+0000…U+10FFFF.
    var classRuns: String
    var cases: [Case]

    static let path = TestData.repoPath("Tests/LMTokenizerTests/Fixtures/pretok_fixtures.json")

    static func load() throws -> PreTokenizerFixture {
        try JSONDecoder().decode(PreTokenizerFixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static let patternsByName: [(String, SplitPattern)] = [("gpt2", .gpt2), ("cl100k", .cl100k), ("o200k", .o200k)]
}

@Suite struct PreTokenizerFixtureTests {
    @Test func fixturePatternsAreTheBuiltInOnes() throws {
        let fx = try PreTokenizerFixture.load()
        for (name, pattern) in PreTokenizerFixture.patternsByName {
            #expect(fx.patterns[name] == pattern.regex, "fixture pattern \(name)")
        }
    }

    /// Scanner == Python `regex`, piece for piece, on every fixture case and pattern.
    @Test(arguments: PreTokenizerFixture.patternsByName.map(\.0))
    func scannerMatchesPythonRegex(patternName: String) throws {
        let fx = try PreTokenizerFixture.load()
        #expect(fx.cases.count > 100)
        let pattern = SplitPattern(name: patternName)
        let pre = try PreTokenizer(pattern: pattern)
        var failures = 0
        for c in fx.cases {
            let expected = try #require(c.pieces[patternName])
            let bytes = Array(c.text.utf8)
            var got: [Int] = []
            bytes.withUnsafeBytes { raw in pre.forEachPiece(in: raw) { got.append($0.count) } }
            if got != expected {
                failures += 1
                #expect(got == expected, "\(patternName) \(c.name): \(firstDifference(bytes, got, expected))")
                if failures > 5 { break }
            }
        }
    }

    /// The planes the class table skips while it is built hold only class `other`, scalar by
    /// scalar, in the standard library's Unicode tables (fails if a future Unicode version
    /// assigns letters there).
    @Test func skippedPlanesAreAllOther() {
        var block = [UInt8](repeating: 0, count: 256)
        var wrong: [Int] = []
        for b in 0..<(0x110000 >> 8) where UnicodeClassTable.isAllOther(plane: b >> 8) {
            UnicodeClassTable.classify(block: b, into: &block)
            if block.contains(where: { $0 != CharClass.other }) { wrong.append(b) }
        }
        #expect(wrong.isEmpty, "blocks with non-other scalars: \(wrong.map { String(format: "U+%04X", $0 << 8) })")
        #expect(UnicodeClassTable.isAllOther(plane: 4) && !UnicodeClassTable.isAllOther(plane: 0)
                && !UnicodeClassTable.isAllOther(plane: 14))
    }

    /// The scanners' Unicode classes (from Swift's Unicode tables) against Python `regex`'s
    /// `\p{…}`/`\s` for every scalar. Any difference here is a Unicode-version difference between
    /// the two and is listed in the failure message.
    @Test func unicodeClassesMatchPythonRegex() throws {
        let fx = try PreTokenizerFixture.load()
        let bitOf: [String: UInt8] = [
            "other": CharClass.other, "upper": CharClass.upper, "lower": CharClass.lower,
            "caseless": CharClass.caseless, "mark": CharClass.mark, "number": CharClass.number,
            "space": CharClass.space, "newline": CharClass.newline,
        ]
        let bits = try fx.classNames.map { try #require(bitOf[$0]) }
        let runs = try fx.classRuns.split(separator: " ").map { run -> (UInt32, UInt8) in
            let parts = run.split(separator: ":")
            return (try #require(UInt32(parts[0], radix: 16)), bits[try #require(Int(parts[1]))])
        }
        #expect(runs.count > 1000 && runs.first?.0 == 0)
        // Differences, as ranges "U+lo-U+hi swift→python".
        var unexplained: [String] = []
        var newer: [String] = []
        var newerCount = 0
        let table = UnicodeClassTable.shared
        let names = Dictionary(uniqueKeysWithValues: zip(bits, fx.classNames))
        var open: (lo: UInt32, hi: UInt32, py: UInt8)? = nil
        func close() {
            guard let r = open else { return }
            newer.append(String(format: "U+%04X-U+%04X→", r.lo, r.hi) + (names[r.py] ?? "?"))
            open = nil
        }
        for (k, (start, cls)) in runs.enumerated() {
            let end = k + 1 < runs.count ? runs[k + 1].0 : 0x110000
            for cp in start..<end {
                let mine = table.classOf(cp)
                if mine == cls { close(); continue }
                let scalar = Unicode.Scalar(cp)
                if let scalar, scalar.properties.generalCategory == .unassigned {
                    // A scalar newer than Swift's Unicode tables: other for us, assigned in Python.
                    newerCount += 1
                    if let r = open, r.hi + 1 == cp, r.py == cls { open = (r.lo, cp, cls) } else { close(); open = (cp, cp, cls) }
                } else {
                    close()
                    unexplained.append(String(format: "U+%04X swift=", cp) + (names[mine] ?? "?") + " python=" + (names[cls] ?? "?"))
                }
            }
        }
        close()
        #expect(unexplained.count == 0, "\(unexplained.count) assigned scalars classified differently: \(unexplained.prefix(20))")
        // Known and documented (PreTokenizer.swift, "Unicode version"): Python `regex` 2026.11.19
        // has Unicode 18 tables, Swift 6.3 Unicode 17: 12,860 scalars new in 18 are `other` here.
        #expect(newerCount < 20_000, "\(newerCount) scalars newer than Swift's tables: \(newer.prefix(60))")
        // The ASCII fast path agrees with the full table.
        for b in 0..<128 { #expect(ASCIIClassTable.table[b] == table.classOf(UInt32(b)), "byte \(b)") }
    }
}

/// A readable description of where two piece-length lists first disagree.
func firstDifference(_ bytes: [UInt8], _ got: [Int], _ expected: [Int]) -> String {
    func pieces(_ lens: [Int]) -> [String] {
        var out: [String] = [], at = 0
        for l in lens {
            out.append(String(decoding: bytes[at..<min(at + l, bytes.count)], as: UTF8.self))
            at += l
        }
        return out
    }
    let g = pieces(got), e = pieces(expected)
    let k = zip(g, e).prefix { $0 == $1 }.count
    let lo = max(0, k - 2)
    return "first difference at piece \(k): got \(g[lo..<min(g.count, k + 3)].map { $0.debugDescription }) expected \(e[lo..<min(e.count, k + 3)].map { $0.debugDescription })"
}
