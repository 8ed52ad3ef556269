import LMData

/// lmkit's shard loader as the train loop's batch stream.
extension DataLoader: BatchStream {
    public var batchRows: Int { batchSize }
    public var batchTime: Int { context }
    public func nextBatch() throws -> TrainingBatch {
        let b = try next()
        return TrainingBatch(inputs: b.inputs, targets: b.targets)
    }
    public var streamPosition: LoaderPosition { position }
    public func restoreStream(_ position: LoaderPosition) throws { restore(position) }
}
