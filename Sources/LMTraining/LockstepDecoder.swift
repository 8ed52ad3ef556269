import LMModel

/// Decodes several sequences together over a `BatchInferenceSession`: at every step each
/// unfinished row feeds one id (its prompt first, then its latest draw) and, once its prompt is
/// in, draws its next id from its logits. Rows are visited in index order at every step, so a
/// sampler shared by all rows sees a deterministic order. Used by `lmkit sample --samples` and by
/// PPO's rollouts.
enum LockstepDecoder {
    /// What a row does when its context is full before it has `maxTokens` ids.
    enum WhenFull {
        /// Stop the row there.
        case stop
        /// Keep the last half of the context, rebuild the row's cache from it and go on.
        case slide
    }

    /// One decoded row: the ids drawn after the prompt, and whether the last one is the stop id.
    struct Row {
        var generated: [Int32] = []
        var stopped = false
    }

    /// Decodes every prompt (each non-empty and at most the context long), `session.capacity`
    /// rows at a time, up to `maxTokens` ids each, ending a row early after `stopID` (when given).
    /// `draw(i, logits)` gives the next id of prompt i.
    static func decode(_ session: BatchInferenceSession, prompts: [[Int32]], maxTokens: Int, stopID: Int32?,
                       whenFull: WhenFull, draw: (_ prompt: Int, _ logits: [Float]) -> Int32) -> [Row] {
        precondition(prompts.allSatisfy { !$0.isEmpty }, "LockstepDecoder: every prompt needs at least one id")
        guard maxTokens > 0 else { return prompts.map { _ in Row() } }
        let context = session.model.config.context
        var out: [Row] = []
        var start = 0
        while start < prompts.count {
            let count = min(session.capacity, prompts.count - start)
            session.resetAll()
            var window = (0..<count).map { prompts[start + $0] }   // what each row's cache holds or will
            var pending = window                                   // ids each row still has to feed
            var rows = Array(repeating: Row(), count: count)
            var done = Array(repeating: false, count: count)
            while done.contains(false) {
                let active = done.indices.filter { !done[$0] }
                let logits = session.append(active.map { pending[$0][0] }, rows: active)
                for (i, r) in active.enumerated() {
                    pending[r].removeFirst()
                    if !pending[r].isEmpty { continue }   // still reading its prompt
                    let next = draw(start + r, logits[i])
                    rows[r].generated.append(next)
                    window[r].append(next)
                    if next == stopID { rows[r].stopped = true; done[r] = true; continue }
                    if rows[r].generated.count >= maxTokens { done[r] = true; continue }
                    if session.counts[r] < context {
                        pending[r] = [next]
                    } else if whenFull == .slide {
                        window[r] = Array(window[r].suffix(context / 2))
                        session.reset(row: r)
                        pending[r] = window[r]
                    } else {
                        done[r] = true
                    }
                }
            }
            out += rows
            start += count
        }
        return out
    }
}
