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

@Suite struct DataLoaderResumeAndRankTests {
    static let dir: String = try! TestShards.directory(
        train: DataLoaderTests.labelled([3000, 1200, 2500]), val: [(0..<900).map { UInt32(20_000 + $0) }],
        vocab: 30_000, frameTokens: 256)

    @Test(arguments: [0, 1, 7, 40, 63])
    func restoringAPositionGivesExactlyTheNextBatches(stop: Int) throws {
        let a = try DataLoader(directory: Self.dir, split: .train, batchSize: 3, context: 32, seed: 5)
        var reference: [[Int32]] = []
        var saved = LoaderPosition()
        for k in 0..<(stop + 20) {                     // runs across an epoch boundary for large stops
            if k == stop { saved = a.position }
            reference.append(try a.next().targets)
        }
        let b = try DataLoader(directory: Self.dir, split: .train, batchSize: 3, context: 32, seed: 5)
        b.restore(saved)
        #expect(b.position == saved)
        for k in stop..<(stop + 20) { #expect(try b.next().targets == reference[k]) }
        // Restoring the same loader backwards works too (prefetched batches are discarded).
        a.position = saved
        #expect(try a.next().targets == reference[stop])
        let json = try JSONEncoder().encode(saved)
        #expect(try JSONDecoder().decode(LoaderPosition.self, from: json) == saved)
    }

    @Test(arguments: [2, 3, 4])
    func rankSlicesAreDisjointAndCoverTheEpoch(worldSize: Int) throws {
        let single = try DataLoader(directory: Self.dir, split: .train, batchSize: 1, context: 32, seed: 8)
        let all = Set(try (0..<single.windowsPerEpoch).map { _ in try single.next().inputs[0] })
        #expect(all.count == single.windowsPerEpoch)
        var union: [Int32] = []
        for r in 0..<worldSize {
            let l = try DataLoader(directory: Self.dir, split: .train, batchSize: 1, context: 32, seed: 8,
                                   rank: r, worldSize: worldSize)
            union += try (0..<l.windowsPerRank).map { _ in try l.next().inputs[0] }
        }
        #expect(union.count == all.count && Set(union) == all)
    }

    @Test func validationStreamReadsOnlyTheValSplit() throws {
        let v = try DataLoader(directory: Self.dir, split: .val, batchSize: 4, context: 32, seed: 0)
        #expect(v.windowsPerEpoch == 899 / 32)
        for _ in 0..<10 {
            let b = try v.next()
            #expect(b.inputs.allSatisfy { $0 >= 20_000 && $0 < 20_900 })   // val ids; train ids are < 3000
        }
    }

    @Test func badArgumentsAreRefused() throws {
        #expect(throws: LMError.self) { try DataLoader(directory: Self.dir, split: .train, batchSize: 0, context: 8, seed: 0) }
        #expect(throws: LMError.self) { try DataLoader(directory: Self.dir, split: .train, batchSize: 1, context: 8, seed: 0, rank: 2, worldSize: 2) }
        #expect(throws: LMError.self) { try DataLoader(directory: Self.dir, split: .val, batchSize: 1, context: 5000, seed: 0) }
        #expect(throws: LMError.self) { try DataLoader(directory: "/nonexistent", split: .train, batchSize: 1, context: 8, seed: 0) }
    }
}
