import LMModel
import LMSupport

extension GPT {
    /// A copy of this model with room for `newVocabSize` ≥ V tokens (e.g. after
    /// `lmkit vocab add-special`): every existing weight is kept; token-embedding rows V..<V'
    /// (which are also the tied output head's rows) are set to the mean of the V existing rows
    /// plus normal(0, 0.02) noise from `SeededRNG(seed)` (deterministic; the noise makes the new
    /// tokens distinguishable as inputs). The padded size Vp' = V' rounded up to 64: when
    /// Vp' = Vp (e.g. 257 → 262 tokens, both padded to 320) the buffer layout is unchanged and only
    /// the former zero padding rows are filled; otherwise everything after wte moves by
    /// (Vp' − Vp)·C floats.
    public func growingVocabulary(to newVocabSize: Int, seed: UInt64) -> GPT {
        precondition(newVocabSize >= config.vocabSize)
        var newConfig = config
        newConfig.vocabSize = newVocabSize
        let c = config.channels, v = config.vocabSize
        let oldLayout = parameterLayout
        let newLayout = ParameterLayout(config: newConfig)
        var out = [Float](repeating: 0, count: newLayout.count)
        parameters.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // Existing token rows, then everything after wte (wpe … ln_f) as one block.
                for i in 0 ..< v &* c { dst[newLayout.wte &+ i] = src[oldLayout.wte &+ i] }
                let tail = oldLayout.count &- oldLayout.wpe
                for i in 0 ..< tail { dst[newLayout.wpe &+ i] = src[oldLayout.wpe &+ i] }
                // New rows: mean row + noise.
                var mean = [Double](repeating: 0, count: c)
                for r in 0 ..< v { for j in 0 ..< c { mean[j] += Double(src[oldLayout.wte &+ r &* c &+ j]) } }
                var rng = SeededRNG(seed: seed)
                for r in v ..< newVocabSize {
                    for j in 0 ..< c {
                        dst[newLayout.wte &+ r &* c &+ j] = Float(mean[j] / Double(max(1, v))) + 0.02 * rng.nextGaussian()
                    }
                }
            }
        }
        let grown = GPT(config: newConfig, parameters: out)
        grown.threads = threads
        return grown
    }
}
