import LMSupport

/// An SFT data file rendered with the chat template and split into train / validation.
public struct SFTDataset: Sendable {
    public var train: [SFTExample]
    public var val: [SFTExample]
    /// The held-out records, for generating replies to held-out prompts: those of `val` and,
    /// with `skipLong`, also the held-out conversations too long to train or score on (their
    /// prompt alone may fit).
    public var valRecords: [SFTRecord]
    /// Records dropped because they do not fit the context (only with `skipLong`).
    public var skipped: Int

    /// Loads `path` (see `SFTData`), renders every record and splits it with
    /// `SFTData.isValidation(valFraction, splitSeed)`. A conversation of more than `context` + 1
    /// tokens (more than `context` positions) throws `LMError.badInput` naming its line or record,
    /// unless `skipLong` (then it is dropped and counted).
    public static func load(_ path: String, template: ChatTemplate, context: Int, valFraction: Double,
                            splitSeed: UInt64, skipLong: Bool) throws -> SFTDataset {
        let records = try SFTData.load(path)
        var out = SFTDataset(train: [], val: [], valRecords: [], skipped: 0)
        for r in records {
            let ex = SFTExample(template.render(r.messages))
            let held = SFTData.isValidation(r.messages, valFraction: valFraction, seed: splitSeed)
            if ex.count > context {
                if skipLong {
                    // Never trained on; a held-out one still gives a prompt to answer.
                    out.skipped += 1
                    if held { out.valRecords.append(r) }
                    continue
                }
                throw LMError.badInput(file: path, "\(r.location): the conversation is \(ex.count + 1) tokens, longer than the model's context of \(context) allows (\(context + 1) tokens = \(context) positions)",
                                       fix: "shorten it, or pass --skip-long to leave such conversations out")
            }
            if held {
                out.val.append(ex); out.valRecords.append(r)
            } else {
                out.train.append(ex)
            }
        }
        if out.train.isEmpty {
            throw LMError.badInput(file: path, "no conversation is left for training (\(records.count) records, \(out.skipped) too long, \(out.val.count) held out)",
                                   fix: skipLong ? "use a model with a longer context or shorter conversations" : "lower --val-fraction")
        }
        return out
    }
}
