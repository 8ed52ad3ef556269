import Dispatch
import Foundation
import LMKernels
import LMSupport

/// The pretraining loop: AdamW with warmup + cosine, gradient accumulation and clipping,
/// periodic validation, atomic checkpoints, and exact resume.
///
/// One step (`accumulation` micro-batches of B×T tokens):
///
///     zero grads
///     for each micro-batch: loss_k = forward(x_k, y_k); backward()      // grads add up
///     loss = mean_k loss_k;  stop if not finite (last good checkpoint kept)
///     ‖g‖ = ‖Σ grads‖ / N;  scale = (1/N) · min(1, clip / ‖g‖)
///     AdamW(step t, lr(t), gradScale: scale)
///
/// Resume is bit-identical because everything a step depends on is restored exactly: fp32
/// weights (safetensors), both AdamW moments and the step (optimizer.bin), the loader position
/// and the schedule's step count (state.json); the schedule is a pure function of the step.
///
/// Run directory (`parameters.outputDirectory`): the model's weight files, `optimizer.bin`,
/// `state.json` (written last), `metrics.jsonl`, `loss.svg`.
public final class Trainer<Model: TrainableModel, Stream: BatchStream> {
    public typealias State = TrainState<Stream.Position, Model.Config>

    public let parameters: TrainerParameters
    public let model: Model
    let train: Stream
    let makeValidation: (() throws -> Stream)?

    /// Asked after every step (with the number of steps completed): true ⇒ checkpoint and stop.
    /// Defaults to the Ctrl-C flag.
    public var stopRequested: @Sendable (Int) -> Bool = { _ in InterruptFlag.shared.isSet }
    /// Called with every metrics record as it is logged.
    public var onRecord: ((MetricsRecord) -> Void)?
    /// The sgemm rate MFU is measured against (`parameters.peakFlops`, raised if measured again).
    private var peakFlops: Double?
    /// True once the sgemm rate was measured again because MFU read above 100%.
    private var reprobed = false

    /// - Parameters:
    ///   - train: the training stream (B×T as in `parameters`).
    ///   - validation: makes a fresh validation stream (the same windows every time), or nil.
    public init(parameters: TrainerParameters, model: Model, train: Stream,
                validation: (() throws -> Stream)?) {
        self.parameters = parameters
        self.model = model
        self.train = train
        self.makeValidation = validation
        peakFlops = parameters.peakFlops
    }

    var directory: String { parameters.outputDirectory }
    func path(_ name: String) -> String { directory + "/" + name }

    /// Runs to the end of the schedule, the time budget, or a stop request. Throws `LMError`
    /// on bad input (mismatched checkpoint) and `LMError(.numeric)` when the loss stops being finite.
    public func run() throws -> TrainResult {
        let p = parameters
        try p.validate()
        if train.batchRows != p.batchSize || train.batchTime != p.context {
            throw LMError.mismatch("the data stream gives \(train.batchRows)×\(train.batchTime) batches, the run expects \(p.batchSize)×\(p.context)")
        }
        if p.context > model.maxContext {
            throw LMError.badInput("--context \(p.context) is longer than the model's context \(model.maxContext)",
                                   fix: "lower --context or build a model with a longer one")
        }
        var (state, optimizer) = try prepare()
        let log = try MetricsLog(path: path(MetricsLog.fileName), keepThrough: p.resume ? state.step : nil)

        let hyperBase = AdamWHyperparameters(learningRate: 0, beta1: Float(p.beta1), beta2: Float(p.beta2),
                                             weightDecay: Float(p.weightDecay))
        let decayRanges = model.decayRanges
        let tokensPerStep = p.batchSize * p.context * p.accumulation
        let sessionStart = now()
        let elapsedBefore = state.elapsedSeconds
        var lastPrint = -1e9
        var stepTimes: [Double] = []
        var lastTrain: Float? = log.records.last?.trainLoss
        var lastVal: Float? = state.lastValLoss.map(Float.init)
        var stopReason = TrainStopReason.completed
        let startStep = state.step
        let budgetLeft = p.timeBudgetSeconds.map { $0 - elapsedBefore }
        if let left = budgetLeft, left <= 0, state.totalSteps == nil { state.totalSteps = state.step }
        let provisionalTotal = 1 << 40
        var calibratedThisSession = false

        if !p.quiet {
            printError("\(p.logLabel): \(model.parameterCount) parameters, \(tokensPerStep) tokens/step" +
                       (p.resume ? ", resuming at step \(state.step)" : "") +
                       (state.totalSteps.map { ", \($0) steps" } ?? ", steps fixed after timing the first ones"))
        }

        while state.step < (state.totalSteps ?? provisionalTotal) {
            let stepIndex = state.step
            let total = state.totalSteps ?? provisionalTotal
            let schedule = LearningRateSchedule(peak: p.learningRate, floor: p.resolvedMinLearningRate,
                                                warmupSteps: p.warmupSteps, totalSteps: total)
            let lr = schedule.learningRate(at: stepIndex)
            let t0 = now()

            // 1. Forward/backward over the micro-batches; gradients accumulate.
            model.zeroGradients()
            var lossSum: Float = 0
            for _ in 0..<p.accumulation {
                let batch = try train.nextBatch()
                let loss = try model.forward(inputs: batch.inputs, targets: batch.targets,
                                             batch: p.batchSize, time: p.context, segmentStarts: batch.segmentStarts)
                lossSum += loss
                if !loss.isFinite { break }
                try model.backward()
            }
            let loss = lossSum / Float(p.accumulation)
            guard loss.isFinite else { throw numericError("loss is \(loss)", step: stepIndex + 1, state: state) }

            // 2. Clip and update.
            let scale = 1 / Double(p.accumulation)
            let norm = model.withParametersAndGradients { _, g in
                GradientClipping.globalNorm(g, threads: p.threads) } * scale
            guard norm.isFinite else { throw numericError("gradient norm is \(norm)", step: stepIndex + 1, state: state) }
            let gradScale = Float(scale * GradientClipping.scale(norm: norm, maxNorm: p.gradClip))
            var hyper = hyperBase
            hyper.learningRate = Float(lr)
            model.withParametersAndGradients { params, grads in
                optimizer.apply(parameters: params, gradients: grads, decayRanges: decayRanges,
                                hyper: hyper, gradScale: gradScale, threads: p.threads)
            }
            state.step += 1
            state.tokensSeen += tokensPerStep
            state.loader = train.streamPosition
            let stepSeconds = now() - t0
            stepTimes.append(stepSeconds)

            // 3. Fix the step count of a --time run once the speed is known (after 3 steps of
            //    this session, the first being warm-up), counting evaluation time.
            //    It is measured again at the end of warmup (if that is ≥ 10 steps into this
            //    session): the first steps are often slower, and until warmup ends the learning
            //    rate does not depend on the step count, so the schedule stays one cosine.
            let recalibrate = budgetLeft != nil && calibratedThisSession && state.step == p.warmupSteps
                && state.step - startStep >= 10 && p.steps == nil
            if (state.totalSteps == nil || recalibrate), let left = budgetLeft, state.step - startStep >= 3 {
                calibratedThisSession = true
                let timed = stepTimes.dropFirst().sorted()
                let perStep = recalibrate ? timed[timed.count / 2] : timed.reduce(0, +) / Double(timed.count)
                // One evaluation ≈ evalBatches forward passes ≈ 0.4 of a micro-batch step each.
                let oneEval = makeValidation == nil ? 0 : perStep / Double(p.accumulation) * 0.4 * Double(p.evalBatches)
                let evalCost = p.evalEvery > 0 ? oneEval / Double(p.evalEvery) : 0
                let spent = now() - sessionStart
                let more = Int(max(0, left - spent - oneEval) / (perStep + evalCost))
                state.totalSteps = state.step + more
                if !p.quiet {
                    printError("\(p.logLabel): \(String(format: "%.3f", perStep)) s/step ⇒ \(state.totalSteps!) steps in the time budget" +
                               (recalibrate ? " (measured again after warmup)" : ""))
                }
            }
            let scheduledTotal = state.totalSteps ?? provisionalTotal

            // 4. Validation, metrics, chart, progress. The step that uses up the time budget is
            //    the last one too (so it gets a validation and a chart).
            let outOfTime = p.timeBudgetSeconds.map { elapsedBefore + (now() - sessionStart) >= $0 } ?? false
            let isLast = state.step >= scheduledTotal || outOfTime
            var val: Float?
            if (p.evalEvery > 0 && state.step % p.evalEvery == 0) || isLast {
                val = try evaluate()
                if let v = val {
                    guard v.isFinite else { throw numericError("validation loss is \(v)", step: state.step, state: state) }
                    lastVal = v
                    state.lastValLoss = Double(v)
                }
            }
            let elapsed = elapsedBefore + (now() - sessionStart)
            let record = MetricsRecord(step: state.step, trainLoss: loss, learningRate: lr,
                                       tokensPerSecond: Double(tokensPerStep) / stepSeconds,
                                       elapsedSeconds: elapsed, valLoss: val, gradNorm: norm)
            try log.append(record)
            onRecord?(record)
            lastTrain = loss
            if val != nil || isLast { try LossChart.write(records: log.records, title: p.chartTitle, to: path(LossChart.fileName)) }
            if !p.quiet && (now() - lastPrint >= 2 || val != nil || isLast || state.step == startStep + 1) {
                lastPrint = now()
                printError(progressLine(record, total: state.totalSteps, recent: stepTimes))
            }

            // 5. Checkpoint / stop.
            state.elapsedSeconds = elapsed
            if outOfTime && state.step < scheduledTotal {
                stopReason = .timeBudget
                break
            }
            if isLast { break }
            if stopRequested(state.step) {
                stopReason = .interrupted
                break
            }
            if p.checkpointEvery > 0 && state.step % p.checkpointEvery == 0 {
                try checkpoint(&state, optimizer)
            }
        }
        state.elapsedSeconds = elapsedBefore + (now() - sessionStart)
        if state.totalSteps == nil { state.totalSteps = state.step }
        if !log.records.isEmpty {
            try LossChart.write(records: log.records, title: p.chartTitle, to: path(LossChart.fileName))
        }
        try checkpoint(&state, optimizer)
        if !p.quiet {
            let what = stopReason == .interrupted ? "interrupted; resume with --resume" : stopReason == .timeBudget ? "time budget used" : "done"
            printError("\(p.logLabel): \(what) — step \(state.step), checkpoint in \(directory)" +
                       (lastVal.map { ", val loss \(String(format: "%.4f", $0))" } ?? ""))
        }
        let sorted = stepTimes.sorted()
        let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        return TrainResult(steps: state.step, stopReason: stopReason, finalTrainLoss: lastTrain,
                           finalValLoss: lastVal, tokensPerSecond: median > 0 ? Double(tokensPerStep) / median : 0,
                           elapsedSeconds: state.elapsedSeconds)
    }

    /// Mean validation loss over `evalBatches` batches of a fresh validation stream, or nil.
    public func evaluate() throws -> Float? {
        guard parameters.evalBatches > 0, let make = makeValidation else { return nil }
        let val = try make()
        var sum: Double = 0
        for _ in 0..<parameters.evalBatches {
            let b = try val.nextBatch()
            sum += Double(try model.forward(inputs: b.inputs, targets: b.targets,
                                            batch: val.batchRows, time: val.batchTime, segmentStarts: b.segmentStarts))
        }
        return Float(sum / Double(parameters.evalBatches))
    }

    // MARK: - Checkpoints

    /// Fresh state, or the saved one with weights, moments and loader restored (`--resume`).
    func prepare() throws -> (State, OptimizerState) {
        let p = parameters
        let statePath = path(State.fileName)
        if !p.resume {
            if FileIO.exists(statePath) {
                throw LMError.badInput(file: directory, "already holds a training run (state.json)",
                                       fix: "pass --resume to continue it, or choose another --out")
            }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let rng = SeededRNG(seed: SeededRNG.derive(p.seed, 0x7472_6169_6E))
            let state = State(step: 0, totalSteps: p.steps, elapsedSeconds: 0, tokensSeen: 0,
                              loader: train.streamPosition, rng: rng.state, config: model.trainingConfig,
                              hyper: p.hyper, dataFingerprint: p.dataFingerprint, fileHashes: [:], lastValLoss: nil)
            return (state, OptimizerState(count: model.parameterCount))
        }
        guard FileIO.exists(statePath) else {
            throw LMError.badInput(file: directory, "has no checkpoint to resume (state.json is missing)",
                                   fix: "start the run without --resume")
        }
        var state = try State.read(from: statePath)
        if state.totalSteps == nil && p.steps == nil && p.timeBudgetSeconds == nil {
            throw LMError.badInput(file: statePath, "the run was stopped before its --time budget fixed a step count",
                                   fix: "resume with --time MINUTES or --steps N")
        }
        if state.config != model.trainingConfig {
            throw LMError.mismatch(file: statePath, "the checkpoint is a model of another shape than the one requested",
                                   fix: "resume with the same --preset/--layers/--heads/--dim/--context, or start a new --out")
        }
        if state.hyper != p.hyper {
            throw LMError.mismatch(file: statePath, "the run was started with other training settings (\(diff(state.hyper, p.hyper)))",
                                   fix: "resume with the options the run was started with")
        }
        if state.dataFingerprint != p.dataFingerprint {
            throw LMError.mismatch(file: statePath, "the run was trained on other data (fingerprint \(state.dataFingerprint), now \(p.dataFingerprint))",
                                   fix: "resume with the same --data directory")
        }
        if p.timeBudgetSeconds != nil && p.steps == nil && state.totalSteps != nil && state.step >= state.totalSteps! {
            throw LMError.badInput(file: directory, "the run already finished its \(state.totalSteps!) steps",
                                   fix: "pass --steps N (more than \(state.step)) to train further")
        }
        if let steps = p.steps, state.totalSteps != nil, steps != state.totalSteps, p.timeBudgetSeconds == nil {
            if steps < state.step {
                throw LMError.badInput("--steps \(steps) is fewer than the \(state.step) steps already done",
                                       fix: "pass --steps \(state.totalSteps!) (the run's schedule) or more")
            }
            // A longer run stretches the cosine from here on; the curve is then no longer the
            // uninterrupted one of the original schedule, so say so.
            if !p.quiet { printError("\(p.logLabel): schedule changed from \(state.totalSteps!) to \(steps) steps") }
            state.totalSteps = steps
        }
        try RunDirectory.verify(state.fileHashes, in: directory, stateFile: State.fileName)
        try model.restoreWeights(from: directory)
        let optimizer = try OptimizerState.read(from: path(OptimizerState.fileName), expectedCount: model.parameterCount)
        if optimizer.step != state.step {
            throw LMError.mismatch(file: path(OptimizerState.fileName), "optimizer state is at step \(optimizer.step), state.json at \(state.step)",
                                   fix: "the checkpoint is incomplete; start a new run")
        }
        try train.restoreStream(state.loader)
        return (state, optimizer)
    }

    /// Writes weights, optimizer.bin, then state.json (each atomically; state last).
    func checkpoint(_ state: inout State, _ optimizer: OptimizerState) throws {
        try model.saveWeights(to: directory)
        var hashes: [String: String] = [:]
        for name in model.weightFileNames { hashes[name] = FNV1a64.fileHex(path(name)) }
        try optimizer.write(to: path(OptimizerState.fileName))
        hashes[OptimizerState.fileName] = FNV1a64.fileHex(path(OptimizerState.fileName))
        state.fileHashes = hashes
        try state.write(to: path(State.fileName))
    }

    func numericError(_ what: String, step: Int, state: State) -> LMError {
        let kept = FileIO.exists(path(State.fileName))
            ? "the last good checkpoint in \(directory) is kept"
            : "no checkpoint had been written yet"
        return LMError(.numeric, file: nil, "training diverged at step \(step): \(what); \(kept)",
                       fix: "lower --lr (now \(parameters.learningRate)), raise --warmup or check the data")
    }

    func diff(_ a: TrainHyperparameters, _ b: TrainHyperparameters) -> String { Self.describeDifference(a, b) }

    /// "it used --lr 0.002 --warmup 50": the saved settings that differ from the requested ones.
    static func describeDifference(_ a: TrainHyperparameters, _ b: TrainHyperparameters) -> String {
        var out: [String] = []
        if a.batchSize != b.batchSize { out.append("--batch \(a.batchSize)") }
        if a.context != b.context { out.append("--context \(a.context)") }
        if a.accumulation != b.accumulation { out.append("--accum \(a.accumulation)") }
        if a.learningRate != b.learningRate { out.append("--lr \(a.learningRate)") }
        if a.minLearningRate != b.minLearningRate { out.append("--min-lr \(a.minLearningRate)") }
        if a.warmupSteps != b.warmupSteps { out.append("--warmup \(a.warmupSteps)") }
        if a.weightDecay != b.weightDecay { out.append("--weight-decay \(a.weightDecay)") }
        if a.beta1 != b.beta1 || a.beta2 != b.beta2 { out.append("--beta1 \(a.beta1) --beta2 \(a.beta2)") }
        if a.gradClip != b.gradClip { out.append("--clip \(a.gradClip)") }
        if a.seed != b.seed { out.append("--seed \(a.seed)") }
        if a.evalEvery != b.evalEvery { out.append("--eval-every \(a.evalEvery)") }
        if a.evalBatches != b.evalBatches { out.append("--eval-batches \(a.evalBatches)") }
        return "it used " + out.joined(separator: " ")
    }

    // MARK: - Progress

    func progressLine(_ r: MetricsRecord, total: Int?, recent: [Double]) -> String {
        var s = "step \(r.step)" + (total.map { "/\($0)" } ?? "")
        s += String(format: "  loss %.4f", r.trainLoss)
        if let v = r.valLoss { s += String(format: "  val %.4f", v) }
        s += String(format: "  lr %.2e", r.learningRate)
        let window = recent.suffix(20)
        let avg = window.reduce(0, +) / Double(max(1, window.count))
        let tps = Double(parameters.batchSize * parameters.context * parameters.accumulation) / max(avg, 1e-9)
        s += "  \(ProgressReporter.count(tps)) tok/s"
        if var peak = peakFlops, peak > 0 {
            var mfu = tps * model.trainingFlopsPerToken / peak
            if mfu > 1 && !reprobed {
                // The probe at the start ran while the machine was busier than now (MFU read 150%
                // in a quick start next to a build): measure once more and keep the faster rate.
                reprobed = true
                peak = max(peak, SgemmProbe.measure())
                peakFlops = peak
                mfu = tps * model.trainingFlopsPerToken / peak
            }
            s += mfu > 1 ? "  MFU >100% (the sgemm probe ran slow)" : String(format: "  MFU %.0f%%", 100 * mfu)
        }
        if let total {
            s += "  ETA \(ProgressReporter.duration(Double(max(0, total - r.step)) * avg))"
        }
        return s
    }

    func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
