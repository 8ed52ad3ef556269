import Foundation
import LMKernels
import LMModel
import LMSupport

/// Group `model`: GPT training-step throughput (forward + backward + an AdamW update), GFLOP/s and
/// MFU against the sgemm rate measured in the same run, a per-kernel profile of one step, KV-cache
/// sampling speed and peak RSS.
///
///     swift run -c release lmkit-bench model [--threads N] [--configs tiny,small,gpt2s] [--sample-only] [--json]
///
/// Configs (V = 65, Tiny Shakespeare characters, except GPT-2's 50257):
///   tiny   4 layers, 4 heads, 128 wide, context 128, batch 32
///   small  6 layers, 6 heads, 384 wide, context 256, batch 16 (nanoGPT Shakespeare-char)
///   gpt2s  12 layers, 12 heads, 768 wide, context 256, batch 4, V = 50257 (GPT-2 small shape)
enum ModelBench {
    struct Case {
        var name: String
        var config: GPTConfig
        var batch: Int
        var steps: Int
    }

    static let cases: [Case] = [
        Case(name: "tiny", config: .tiny(vocabSize: 65), batch: 32, steps: 10),
        Case(name: "small", config: .small(vocabSize: 65), batch: 16, steps: 5),
        Case(name: "gpt2s", config: GPTConfig(layers: 12, heads: 12, channels: 768, context: 256, vocabSize: 50257),
             batch: 4, steps: 3),
    ]

    static func option(_ args: [String], _ name: String) -> String? {
        guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
        return args[i + 1]
    }

    static func run(_ args: [String]) -> [BenchmarkResult] {
        let threads = Threads.resolve(option(args, "--threads").flatMap(Int.init))
        BLAS.setThreads(threads)
        let wanted = option(args, "--configs")?.split(separator: ",").map(String.init) ?? cases.map(\.name)
        var results: [BenchmarkResult] = []
        func add(_ name: String, _ value: Double, _ unit: String, _ repeats: Int) {
            results.append(BenchmarkResult(group: "model", name: name, median: value, unit: unit, repeats: repeats))
        }
        let peak = sgemmPeak()
        printError("model: OpenBLAS \(BLAS.configuration), \(threads) threads; sgemm \(String(format: "%.1f", peak)) GFLOP/s")
        add("sgemm_gflops", peak, "GFLOP/s", 5)
        add("threads", Double(threads), "threads", 1)
        let sampleOnly = args.contains("--sample-only")
        for c in cases where wanted.contains(c.name) {
            if sampleOnly {
                let sampling = sampleRate(c.config)
                add("\(c.name).sample_tokens_per_s", sampling, "tokens/s", 3)
                add("\(c.name).sample16_tokens_per_s", batchSampleRate(c.config, rows: 16), "tokens/s (16 sequences)", 3)
                continue
            }
            let r = trainStep(c, threads: threads)
            let flops = c.config.flopsPerToken(time: c.config.context)
            let gflops = r.tokensPerSecond * flops / 1e9
            add("\(c.name).tokens_per_s", r.tokensPerSecond, "tokens/s", c.steps)
            add("\(c.name).gflops", gflops, "GFLOP/s", c.steps)
            add("\(c.name).mfu_pct", 100 * gflops / peak, "% of sgemm", c.steps)
            add("\(c.name).step_ms", 1000 * r.stepSeconds, "ms", c.steps)
            // CPU seconds per step (all threads): on a busy machine wall time is inflated, this is not.
            add("\(c.name).cpu_s_per_step", r.cpuSecondsPerStep, "CPU s", c.steps)
            add("\(c.name).cpu_gflops_per_core", Double(n(c)) * flops / r.cpuSecondsPerStep / 1e9, "GFLOP/CPU-s", c.steps)
            printError(String(format: "model/%@: %.0f tokens/s, %.1f GFLOP/s, MFU %.1f%% (%.1f ms/step, %d params)",
                              c.name, r.tokensPerSecond, gflops, 100 * gflops / peak, 1000 * r.stepSeconds,
                              c.config.parameterCount))
            let total = r.profile.values.reduce(0, +)
            printError("  per-kernel time of one step (ms, share of the profiled step):")
            for (k, s) in r.profile.sorted(by: { $0.value > $1.value }) {
                printError(String(format: "    %-22@ %8.1f  %5.1f%%", k, 1000 * s, 100 * s / total))
                add("\(c.name).profile.\(k)", 1000 * s, "ms", 1)
            }
            let floor = sgemmFloor(r.calls)
            add("\(c.name).sgemm_calls", Double(r.calls.count), "calls", 1)
            add("\(c.name).sgemm_replay_gflops", floor.gflops, "GFLOP/s (1 thread)", 5)
            add("\(c.name).sgemm_floor_ms", 1000 * floor.seconds / Double(threads), "ms (replay ÷ threads)", 5)
            printError(String(format: "  sgemm floor: the step's %d sgemm calls replayed warm on one thread, %.1f ms (%.1f GFLOP/s), ÷ %d threads = %.1f ms",
                              r.calls.count, 1000 * floor.seconds, floor.gflops, threads, 1000 * floor.seconds / Double(threads)))
            let sampling = sampleRate(c.config)
            add("\(c.name).sample_tokens_per_s", sampling, "tokens/s", 1)
            let batched = batchSampleRate(c.config, rows: 16)
            add("\(c.name).sample16_tokens_per_s", batched, "tokens/s (16 sequences)", 1)
            printError(String(format: "  KV-cache sampling: %.0f tokens/s (1 sequence), %.0f tokens/s (16 sequences)", sampling, batched))
        }
        add("peak_rss_mb", peakRSSMegabytes(), "MB", 1)
        return results
    }

    /// Median seconds of one training step and a per-kernel profile of one extra step.
    static func trainStep(_ c: Case, threads: Int)
        -> (tokensPerSecond: Double, stepSeconds: Double, cpuSecondsPerStep: Double, profile: [String: Double],
            calls: [GemmLog.Call]) {
        let model = GPT(config: c.config, seed: 1)
        model.threads = threads
        let t = c.config.context, n = c.batch * t
        var rng = SeededRNG(seed: 2)
        let inputs = (0..<n).map { _ in Int32(rng.next(below: c.config.vocabSize)) }
        let targets = (0..<n).map { _ in Int32(rng.next(below: c.config.vocabSize)) }
        let opt = BenchAdamW(count: model.parameterCount)
        func step() {
            model.forward(inputs: inputs, targets: targets, batch: c.batch, time: t)
            model.zeroGradients()
            model.backward()
            opt.update(model, threads: threads)
        }
        step()  // warm-up: allocates activations, starts the BLAS threads
        let cpu0 = cpuSeconds()
        let seconds = medianSeconds(repeats: c.steps, step)
        let cpuPerStep = (cpuSeconds() - cpu0) / Double(c.steps)
        let profile = StepProfile()
        model.profile = profile
        let t0 = DispatchTime.now().uptimeNanoseconds
        model.forward(inputs: inputs, targets: targets, batch: c.batch, time: t)
        model.zeroGradients()
        model.backward()
        let t1 = DispatchTime.now().uptimeNanoseconds
        opt.update(model, threads: threads)
        let t2 = DispatchTime.now().uptimeNanoseconds
        model.profile = nil
        var p = profile.seconds
        p["adamw (bench loop)"] = Double(t2 - t1) / 1e9
        let kernels = p.values.reduce(0, +) - p["adamw (bench loop)"]!
        p["other (zero grads, glue)"] = max(0, Double(t1 - t0) / 1e9 - kernels)
        GemmLog.start()
        step()
        let calls = GemmLog.stop()
        return (Double(n) / seconds, seconds, cpuPerStep, p, calls)
    }

    /// User + system CPU seconds of the whole process so far (all threads).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    static func n(_ c: Case) -> Int { c.batch * c.config.context }

    /// Tokens/s of `InferenceSession.append` over the first min(256, context) positions.
    static func sampleRate(_ config: GPTConfig) -> Double {
        let model = GPT(config: config, seed: 3)
        let session = InferenceSession(model)
        let n = min(256, config.context)
        let s = medianSeconds(repeats: 3) {
            session.reset()
            var tok: Int32 = 1
            for _ in 0..<n {
                let logits = session.append(tok)
                tok = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
            }
        }
        return Double(n) / s
    }

    /// Tokens/s (all rows together) of `BatchInferenceSession.append` with `rows` sequences over the
    /// first min(256, context) positions.
    static func batchSampleRate(_ config: GPTConfig, rows: Int) -> Double {
        let model = GPT(config: config, seed: 3)
        let session = BatchInferenceSession(model, capacity: rows)
        let n = min(256, config.context)
        let all = Array(0..<rows)
        let s = medianSeconds(repeats: 3) {
            session.resetAll()
            var toks = (0..<rows).map { Int32($0 + 1) }
            for _ in 0..<n {
                let logits = session.append(toks, rows: all)
                toks = logits.map { l in Int32(l.indices.max { l[$0] < l[$1] }!) }
            }
        }
        return Double(n * rows) / s
    }

    /// Single-thread seconds of replaying `calls` (one training step's sgemm calls) warm: each
    /// distinct shape runs on scratch operands of its size, median of 5 after one warm-up, times
    /// its count. The step's products cannot take less than this ÷ threads with OpenBLAS; in the
    /// step their operands come from L3 or memory, not from L1/L2 as here.
    static func sgemmFloor(_ calls: [GemmLog.Call]) -> (seconds: Double, gflops: Double) {
        var counts: [GemmLog.Call: Int] = [:]
        for c in calls { counts[c, default: 0] += 1 }
        var seconds = 0.0, flops = 0.0
        for (c, count) in counts.sorted(by: { $0.key.flops > $1.key.flops }) {
            let a = [Float](repeating: 0.5, count: c.aFloats), b = [Float](repeating: 0.25, count: c.bFloats)
            var out = [Float](repeating: 0, count: c.cFloats)
            let s = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        BLAS.singleThreaded {
                            func call() {
                                Matmul.gemm(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, a: pa.baseAddress!,
                                            lda: c.lda, b: pb.baseAddress!, ldb: c.ldb, beta: c.beta, c: pc.baseAddress!, ldc: c.ldc)
                            }
                            call()
                            return medianSeconds(repeats: 5, call)
                        }
                    }
                }
            }
            seconds += Double(count) * s
            flops += Double(count) * c.flops
        }
        return (seconds, seconds > 0 ? flops / seconds / 1e9 : 0)
    }

    /// The best median GFLOP/s of square sgemm at 1024 and 2048 (the machine's practical peak).
    static func sgemmPeak() -> Double {
        var best = 0.0
        for n in [1024, 2048] {
            let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
            var c = [Float](repeating: 0, count: n * n)
            let s = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        medianSeconds(repeats: 5) {
                            Matmul.parallelGemm(transA: false, transB: false, m: n, n: n, k: n, a: pa.baseAddress!, lda: n,
                                        b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                        }
                    }
                }
            }
            best = max(best, 2 * Double(n * n * n) / s / 1e9)
        }
        return best
    }

    static func peakRSSMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux: kilobytes
    }
}

/// A plain AdamW update (lr 1e-3, β 0.9/0.95, wd 0.1 on every weight) so that the benchmark's step
/// includes an optimizer pass like PyTorch's; the real optimizer is LMKernels/AdamW.swift.
final class BenchAdamW {
    var m: [Float], v: [Float]
    var t = 0
    init(count: Int) {
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    func update(_ model: GPT, threads: Int) {
        t += 1
        let lr: Float = 1e-3, b1: Float = 0.9, b2: Float = 0.95, eps: Float = 1e-8, wd: Float = 0.1
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(t))), c2 = 1 - Float(Foundation.pow(Double(b2), Double(t)))
        let n = model.parameterCount
        model.withParameters { p in
            model.withGradients { g in
                m.withUnsafeMutableBufferPointer { mb in
                    v.withUnsafeMutableBufferPointer { vb in
                        let pp = SendablePointer(p.baseAddress!), gp = SendablePointer(g.baseAddress!)
                        let mp = SendablePointer(mb.baseAddress!), vp = SendablePointer(vb.baseAddress!)
                        Parallel.forRanges(n, parts: threads) { r in
                            for i in r {
                                let gi = gp[i]
                                let mi = b1 * mp[i] + (1 - b1) * gi
                                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                                mp[i] = mi
                                vp[i] = vi
                                pp[i] -= lr * ((mi / c1) / ((vi / c2).squareRoot() + eps) + wd * pp[i])
                            }
                        }
                    }
                }
            }
        }
    }
}
