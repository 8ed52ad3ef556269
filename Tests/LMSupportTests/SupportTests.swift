import Foundation
import Testing
@testable import LMSupport
import LMTestSupport

@Suite struct SeededRNGTests {
    @Test func sameSeedSameSequence() {
        var a = SeededRNG(seed: 7), b = SeededRNG(seed: 7), c = SeededRNG(seed: 8)
        let xa = (0..<5).map { _ in a.next() }
        let xb = (0..<5).map { _ in b.next() }
        let xc = (0..<5).map { _ in c.next() }
        #expect(xa == xb)
        #expect(xa != xc)
    }

    @Test func stateRoundTripContinuesSequence() {
        var a = SeededRNG(seed: 1)
        _ = a.next()
        var b = SeededRNG(state: a.state)
        #expect(a.next() == b.next())
    }

    @Test func boundedAndUnitRanges() {
        var r = SeededRNG(seed: 3)
        for _ in 0..<1000 {
            let i = r.next(below: 7)
            #expect(i >= 0 && i < 7)
            let f = r.nextFloat()
            #expect(f >= 0 && f < 1)
        }
    }
}

@Suite struct AtomicFileTests {
    @Test func commitMovesIntoPlaceAndAbortLeavesNothing() throws {
        let dir = TestData.temporaryDirectory()
        let path = dir + "/a.txt"
        let w = try AtomicFileWriter(path: path)
        try w.write("hello")
        #expect(!FileManager.default.fileExists(atPath: path))
        try w.commit()
        #expect(try FileIO.readText(path) == "hello")

        let w2 = try AtomicFileWriter(path: dir + "/b.txt")
        try w2.write("partial")
        w2.abort()
        let left = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(left == ["a.txt"])
    }

    @Test func missingDirectoryIsOneClearError() {
        #expect(throws: LMError.self) { try AtomicFileWriter(path: "/nonexistent-dir-lmkit/x") }
    }
}

@Suite struct UTF8ValidationTests {
    @Test func findsFirstInvalidByte() {
        #expect(UTF8Validation.firstInvalidOffset(Array("héllo €😀".utf8)) == nil)
        #expect(UTF8Validation.firstInvalidOffset([0x61, 0xFF, 0x62]) == 1)
        #expect(UTF8Validation.firstInvalidOffset([0x61, 0xE2, 0x82]) == 1)      // truncated
        #expect(UTF8Validation.firstInvalidOffset([0xC0, 0x80]) == 0)            // overlong
        #expect(UTF8Validation.firstInvalidOffset([0xED, 0xA0, 0x80]) == 0)      // surrogate
    }

    @Test func findsInvalidBytesAfterAndInsideLongASCIIRuns() {
        // The 16-bytes-at-a-time ASCII skip must stop at the right byte wherever it lands.
        for run in [0, 1, 15, 16, 17, 31, 32, 33, 100] {
            let ascii = [UInt8](repeating: UInt8(ascii: "a"), count: run)
            #expect(UTF8Validation.firstInvalidOffset(ascii) == nil)
            #expect(UTF8Validation.firstInvalidOffset(ascii + [0xFF] + ascii) == run)
            #expect(UTF8Validation.firstInvalidOffset(ascii + Array("é".utf8) + ascii + [0xE2, 0x82]) == 2 * run + 2)
            #expect(UTF8Validation.firstInvalidOffset(ascii + Array("€😀".utf8) + ascii) == nil)
        }
    }
}

@Suite struct ByteBufferTests {
    @Test func littleEndianRoundTrip() {
        var w = ByteWriter()
        w.writeBytes(Array("LM".utf8))
        w.writeInteger(UInt32(0x0102_0304))
        w.writeInteger(UInt16(7))
        w.setInteger(UInt16(9), at: 6)
        #expect(w.bytes == [0x4C, 0x4D, 4, 3, 2, 1, 9, 0])
        var r = ByteReader(w.bytes)
        #expect(r.readBytes(2).map(Array.init) == [0x4C, 0x4D])
        #expect(r.readInteger(as: UInt32.self) == 0x0102_0304)
        #expect(r.readInteger(as: UInt16.self) == 9)
        #expect(r.readInteger(as: UInt8.self) == nil)
    }

    @Test func fnvKnownValue() {
        var h = FNV1a64()
        h.update(Array("abc".utf8))
        #expect(h.hex == "e71fa2190541574b")
    }
}

@Suite struct HugePagesTests {
    /// Whole 2 MB pages, 2 MB aligned, zero-filled and writable; odd sizes round up.
    @Test(arguments: [2, 100_000, 2 << 20, (4 << 20) + 1])
    func alignedZeroedAndWritable(bytes: Int) {
        let p = HugePages.allocate(byteCount: bytes)
        defer { HugePages.deallocate(p, byteCount: bytes) }
        #expect(UInt(bitPattern: p) % UInt(HugePages.pageBytes) == 0)
        let b = p.bindMemory(to: UInt8.self, capacity: bytes)
        #expect(b[0] == 0 && b[bytes - 1] == 0 && b[bytes / 2] == 0)
        b[0] = 1; b[bytes - 1] = 2
        #expect(b[0] == 1 && b[bytes - 1] == 2)
    }
}
