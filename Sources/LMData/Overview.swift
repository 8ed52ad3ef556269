// LMData — tokens ⇄ disk: the .lmshard format, shard writer/reader, the sharder (which
// takes an `encode` closure and never imports the tokenizer), manifest, and DataLoader.
