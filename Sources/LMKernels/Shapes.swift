// Dimension letters, defined once for every kernel in LMKernels and for LMModel:
//
//   B   batch size (sequences per step)
//   T   time: tokens per sequence (≤ context)
//   C   channels: width of the residual stream
//   OC  output channels of a matmul
//   NH  attention heads; hs = C / NH channels per head
//   V   real vocabulary size; Vp = V rounded up to a multiple of 64 (padded logits)
//   N   rows of a row-wise kernel, usually B·T
//
// Every tensor is a contiguous row-major fp32 buffer: "(B, T, C)" means element [b, t, c] is at
// (b·T + t)·C + c. Kernels take raw pointers and never allocate; each `forward`/`backward` pair
// has a naive twin (plain loops over `[Double]`) used by the tests, named `forwardNaive`/
// `backwardNaive`.
//
// Gradient convention: gradients of *parameters* (weights, biases, embeddings) are always added
// (`+=`) so that micro-batches accumulate; gradients of *inputs* are overwritten (`=`) unless the
// kernel says it accumulates (LayerNorm does, which is how the residual stream's gradient flows).
