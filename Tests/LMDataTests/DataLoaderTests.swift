import Foundation
import LMData
import LMSupport
import LMTestSupport
import Testing

@Suite struct DataLoaderTests {
    /// Token i of shard s is s*10_000 + i, so a window's tokens tell where it came from.
    static func labelled(_ sizes: [Int]) -> [[UInt32]] {
        sizes.enumerated().map { s, n in (0..<n).map { UInt32(s * 10_000 + $0) } }
    }

    @Test func batchesAreShiftedWindowsOfTheShards() throws {
        let dir = try TestShards.directory(train: Self.labelled([1000, 517]), vocab: 30_000, frameTokens: 100)
        let loader = try DataLoader(directory: dir, split: .train, batchSize: 4, context: 16, seed: 3)
        #expect(loader.windowsPerEpoch == 999 / 16 + 516 / 16)
        let b = try loader.next()
        #expect(b.inputs.count == 4 * 16 && b.targets.count == 4 * 16)
        for row in 0..<4 {
            let x = b.inputs[row * 16..<(row + 1) * 16]
            let y = b.targets[row * 16..<(row + 1) * 16]
            #expect(Array(x.dropFirst()) == Array(y.dropLast()))
            #expect(y.last! == x.last! + 1)                  // consecutive tokens of one shard
            #expect((x.first! % 10_000) % 16 == 0)           // windows start at multiples of T
        }
    }

    @Test func everyWindowOncePerEpochAndOrderDependsOnSeedAndEpoch() throws {
        let dir = try TestShards.directory(train: Self.labelled([2000, 1500, 333]), vocab: 30_000, frameTokens: 128)
        let loader = try DataLoader(directory: dir, split: .train, batchSize: 1, context: 8, seed: 11)
        let w = loader.windowsPerEpoch
        func epoch(_ l: DataLoader) throws -> [Int32] { try (0..<w).map { _ in try l.next().inputs[0] } }
        let e0 = try epoch(loader)
        let e1 = try epoch(loader)
        #expect(Set(e0).count == w && Set(e0) == Set(e1))
        #expect(e0 != e1)
        let again = try DataLoader(directory: dir, split: .train, batchSize: 1, context: 8, seed: 11)
        #expect(try epoch(again) == e0)
        let other = try DataLoader(directory: dir, split: .train, batchSize: 1, context: 8, seed: 12)
        #expect(try epoch(other) != e0)
    }
}
