/// A small, fast, seedable random number generator (xoshiro256** seeded by SplitMix64).
///
/// Same seed ⇒ same sequence on every machine. Its whole state is four `UInt64`s, which
/// checkpoints save and restore (`state`) so that a resumed run draws the same numbers.
///
///     var rng = SeededRNG(seed: 42)
///     let x = rng.nextFloat()      // uniform in [0, 1)
///     let i = rng.next(below: 10)  // uniform in 0..<10
public struct SeededRNG: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The generator's complete state; restore it to continue the same sequence.
    public var state: [UInt64]

    /// Seeds the four state words from `seed` with SplitMix64 (never all zero).
    public init(seed: UInt64) {
        var sm = seed
        var s: [UInt64] = []
        for _ in 0..<4 { s.append(SeededRNG.splitMix64(&sm)) }
        state = s
    }

    /// Restores a saved state (4 words, not all zero).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "SeededRNG state must be 4 words, not all zero")
        self.state = state
    }

    /// SplitMix64 step: a good 64-bit mixer, also handy to derive sub-seeds.
    @inlinable
    public static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Derives an independent seed from `seed` and a stream number (e.g. epoch, rank).
    public static func derive(_ seed: UInt64, _ stream: UInt64) -> UInt64 {
        var x = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        return splitMix64(&x)
    }

    /// Next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform integer in `0..<bound` (Lemire's method, unbiased). `bound` > 0.
    public mutating func next(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next(upperBound: UInt64(bound)))
    }

    /// Uniform `Float` in [0, 1) with 24 random bits.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform `Double` in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Standard normal sample (Box–Muller).
    public mutating func nextGaussian() -> Float {
        let u1 = max(nextDouble(), 1e-300)
        let u2 = nextDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// Fisher–Yates shuffle of `array` in place; O(n).
    public mutating func shuffle<T>(_ array: inout [T]) {
        var i = array.count - 1
        while i > 0 {
            let j = next(below: i + 1)
            array.swapAt(i, j)
            i -= 1
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
