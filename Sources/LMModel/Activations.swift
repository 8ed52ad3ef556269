/// Activation memory of one (batch, time) shape; see `GPT+Forward.swift`.
final class Activations {
    let batch: Int
    let time: Int
    init(batch: Int, time: Int) {
        self.batch = batch
        self.time = time
    }
}
