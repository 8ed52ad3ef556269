// LMKernels — pure functions over float buffers: matmul (the only sgemm caller),
// layernorm, GELU, causal attention, softmax, cross-entropy, AdamW. Each fast kernel has a
// naive twin used by the tests.
