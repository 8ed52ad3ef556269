/// One-time tables the tokenizer otherwise builds lazily inside the first encode call.
///
/// `lmkit shard` calls `prepare()` on a background thread while it loads the vocabulary, so the
/// ~0.1 s Unicode class table (built the first time a non-ASCII scalar is classified) is ready
/// before the encoders start instead of stalling them.
public enum TokenizerWarmup {
    /// Builds the shared pre-tokenizer tables now (idempotent, thread-safe, cheap when done).
    public static func prepare() {
        _ = UnicodeClassTable.shared
    }
}
