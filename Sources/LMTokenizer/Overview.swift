// LMTokenizer — text ⇄ token ids. Stages (as in Hugging Face tokenizers):
// pre-tokenizer (split patterns) → byte-level BPE model → special tokens; plus the trainer
// and the vocab file formats.
