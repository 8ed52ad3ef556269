import Foundation
import LMSupport

/// The interactive loop of `lmkit chat`: one line = one user message, the reply streamed to
/// `output` token by token and closed with a newline. Commands: `/reset` (forget the
/// conversation), `/exit` or `/quit` (stop; so does the end of input). Notes (prompts, dropped
/// turns, errors such as a message that cannot fit) go to `info`, so `output` holds replies only.
public struct ChatREPL {
    public let session: ChatSession
    /// Next input line without its newline, nil at end of input.
    public var readLine: () -> String?
    /// Reply bytes (stdout).
    public var output: ([UInt8]) -> Void
    /// Notes for a person (stderr).
    public var info: (String) -> Void
    /// Print the "you> " prompt before reading (when stdin is a terminal).
    public var showPrompt: Bool

    public init(session: ChatSession, readLine: @escaping () -> String?, output: @escaping ([UInt8]) -> Void,
                info: @escaping (String) -> Void, showPrompt: Bool) {
        self.session = session
        self.readLine = readLine
        self.output = output
        self.info = info
        self.showPrompt = showPrompt
    }

    /// Runs until `/exit` or end of input; returns the number of replies given.
    @discardableResult
    public func run() -> Int {
        var replies = 0
        if showPrompt { info("lmkit chat — /reset clears the conversation, /exit quits") }
        while true {
            if showPrompt { info("you> ") }
            guard let raw = readLine() else { break }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line == "/exit" || line == "/quit" { break }
            if line == "/reset" {
                session.reset()
                info("(conversation cleared)")
                continue
            }
            if line.hasPrefix("/") {
                info("unknown command \(line) — use /reset or /exit")
                continue
            }
            do {
                let reply = try session.send(raw, emit: output)
                output(Array("\n".utf8))
                replies += 1
                if reply.droppedMessages > 0 { info("(dropped the \(reply.droppedMessages) oldest messages to fit the context)") }
                if reply.stop != .end { info("(reply cut at \(reply.stop == .context ? "the context limit" : "--max-tokens"))") }
            } catch {
                info("\(error)")
            }
        }
        return replies
    }
}
