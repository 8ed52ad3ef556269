// LMCorpus — reading text corpora: files or directories, .txt/.jsonl/.json, plain or
// .zst/.gz compressed, streamed as documents without loading the whole corpus.
