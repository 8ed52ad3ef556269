import Foundation
import LMCompression
import LMSupport
import LMTestSupport
import Testing

private let fixtures = TestData.repoPath("Tests/LMCompressionTests/Fixtures")
private let shakespeare200k = Array(try! FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))[0..<200_000])

/// Feeds `data` to `decode` in slices of `slice` bytes and returns everything it produced.
private func feed(_ data: [UInt8], slice: Int,
                  _ decode: (UnsafeRawBufferPointer, (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < data.count {
        let j = min(data.count, i + slice)
        try data[i..<j].withUnsafeBytes { p in try decode(p) { out.append(contentsOf: $0) } }
        i = j
    }
    return out
}

@Suite struct ZstdStreamDecoderTests {
    @Test(arguments: [1, 7, 4096, 1 << 20])
    func decodesFixtureInAnySlices(slice: Int) throws {
        let data = try FileIO.readBytes(fixtures + "/shakespeare-200k.txt.zst")
        let z = try ZstdStreamDecoder(name: "s.zst")
        let out = try feed(data, slice: slice) { try z.decompress($0, $1) }
        try z.finish()
        #expect(out == shakespeare200k)
        #expect(z.producedBytes == 200_000)
    }

    @Test func concatenatedFrames() throws {
        let data = try FileIO.readBytes(fixtures + "/two-frames.txt.zst")
        let z = try ZstdStreamDecoder(name: "two.zst")
        let out = try feed(data, slice: 5) { try z.decompress($0, $1) }
        try z.finish()
        #expect(String(decoding: out, as: UTF8.self) == "hello world\n")
    }

    @Test func frameContentSizeFromHeader() throws {
        let data = try FileIO.readBytes(fixtures + "/shakespeare-200k.txt.zst")
        #expect(Array(data[0..<18]).withUnsafeBytes { ZstdStreamDecoder.frameContentSize(header: $0) } == 200_000)
        #expect([UInt8](repeating: 0, count: 18).withUnsafeBytes { ZstdStreamDecoder.frameContentSize(header: $0) } == nil)
    }

    @Test func truncatedInputIsAnErrorNamingTheFile() throws {
        let data = try FileIO.readBytes(fixtures + "/shakespeare-200k.txt.zst")
        let z = try ZstdStreamDecoder(name: "cut.zst")
        _ = try feed(Array(data[0..<(data.count / 2)]), slice: 4096) { try z.decompress($0, $1) }
        #expect { try z.finish() } throws: { error in
            let e = error as? LMError
            return e?.file == "cut.zst" && e?.message.contains("truncated") == true
        }
    }

    @Test func corruptInputIsAnErrorNamingTheFile() throws {
        var data = try FileIO.readBytes(fixtures + "/shakespeare-200k.txt.zst")
        for i in 100..<200 { data[i] ^= 0x5A }
        let z = try ZstdStreamDecoder(name: "bad.zst")
        #expect {
            _ = try feed(data, slice: 1 << 16) { try z.decompress($0, $1) }
            try z.finish()
        } throws: { error in (error as? LMError)?.file == "bad.zst" }
    }

    @Test func notZstdIsAnError() throws {
        let z = try ZstdStreamDecoder(name: "plain.zst")
        #expect(throws: LMError.self) {
            _ = try feed(Array("just text, not zstd".utf8), slice: 100) { try z.decompress($0, $1) }
        }
    }

    @Test func emptyInputIsAnError() throws {
        let z = try ZstdStreamDecoder(name: "empty.zst")
        #expect(throws: LMError.self) { try z.finish() }
    }
}

@Suite struct GzipStreamDecoderTests {
    @Test(arguments: [1, 13, 4096, 1 << 20])
    func decodesFixtureInAnySlices(slice: Int) throws {
        let data = try FileIO.readBytes(fixtures + "/shakespeare-200k.txt.gz")
        let g = try GzipStreamDecoder(name: "s.gz")
        let out = try feed(data, slice: slice) { try g.decompress($0, $1) }
        try g.finish()
        #expect(out == shakespeare200k)
    }

    @Test func concatenatedMembers() throws {
        let data = try FileIO.readBytes(fixtures + "/two-members.txt.gz")
        let g = try GzipStreamDecoder(name: "two.gz")
        let out = try feed(data, slice: 3) { try g.decompress($0, $1) }
        try g.finish()
        #expect(String(decoding: out, as: UTF8.self) == "hello world\n")
    }

    @Test func truncatedInputIsAnErrorNamingTheFile() throws {
        let data = try FileIO.readBytes(fixtures + "/shakespeare-200k.txt.gz")
        let g = try GzipStreamDecoder(name: "cut.gz")
        _ = try feed(Array(data[0..<(data.count - 10)]), slice: 4096) { try g.decompress($0, $1) }
        #expect { try g.finish() } throws: { error in
            let e = error as? LMError
            return e?.file == "cut.gz" && e?.message.contains("truncated") == true
        }
    }

    @Test func corruptInputIsAnErrorNamingTheFile() throws {
        var data = try FileIO.readBytes(fixtures + "/shakespeare-200k.txt.gz")
        for i in 50..<90 { data[i] ^= 0xA5 }
        let g = try GzipStreamDecoder(name: "bad.gz")
        #expect {
            _ = try feed(data, slice: 1 << 16) { try g.decompress($0, $1) }
            try g.finish()
        } throws: { error in (error as? LMError)?.file == "bad.gz" }
    }

    @Test func notGzipIsAnError() throws {
        let g = try GzipStreamDecoder(name: "plain.gz")
        #expect(throws: LMError.self) {
            _ = try feed(Array("just text, not gzip".utf8), slice: 100) { try g.decompress($0, $1) }
        }
    }
}
