// LMModel — the GPT-2 style decoder: config, one flat parameter buffer and its layout,
// forward/backward, KV-cache sampling, safetensors checkpoints.
