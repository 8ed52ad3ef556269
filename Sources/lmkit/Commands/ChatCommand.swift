import ArgumentParser
import Foundation
import LMSupport
import LMTraining

/// `lmkit chat`: talk to a fine-tuned model.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a fine-tuned model: interactive (replies stream token by token) or one answer for scripts.",
        discussion: """
            Interactive: each line you type is a user message; /reset clears the conversation, /exit
            (or end of input) quits. The oldest turns are dropped when the conversation outgrows
            the context. Scriptable:
              lmkit chat --checkpoint sft/ --message "Write a Python function that adds two numbers." --json
              echo '{"messages":[{"role":"user","content":"Hi"}]}' | lmkit chat --checkpoint sft/ --conversation -
            """)

    @Option(help: "Run directory of lmkit finetune.") var checkpoint: String
    @Option(help: "Vocab file (default: CHECKPOINT/vocab.vocab).") var vocab: String?
    @Option(help: "Answer this one user message and exit.") var message: String?
    @Option(help: "Answer the conversation in this JSON file ({\"messages\": [...]}, last message the user's; - = stdin) and exit.")
    var conversation: String?
    @Option(help: "System message at the start of the conversation.") var system: String?
    @Flag(help: "With --message/--conversation: print one JSON object (reply, tokens, stop).") var json = false
    @Option(name: .customLong("max-tokens"), help: "Token limit per reply.") var maxTokens: Int = 256
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if message != nil && conversation != nil { throw ValidationError("pass --message or --conversation, not both.") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1 (got \(maxTokens)).") }
    }

    func run() throws {
        var p = ChatParameters(checkpoint: checkpoint)
        p.vocabPath = vocab
        p.maxTokens = maxTokens
        p.system = system
        p.sampling = sampling.parameters
        p.threads = common.resolvedThreads
        let session = try Chat.open(p)
        let out = StandardOutput.shared
        let stream: ([UInt8]) -> Void = json ? { _ in } : { out.write($0); out.flush() }

        if message != nil || conversation != nil {
            let reply: ChatReply
            if let message {
                reply = try session.send(message, emit: stream)
            } else {
                let (text, name) = try readConversation(conversation!)
                session.load(try Chat.parseConversation(text, file: name))
                reply = try session.respond(emit: stream)
            }
            if json {
                let obj: [String: Any] = ["reply": reply.text, "tokens": reply.ids.count, "stop": reply.stop.rawValue,
                                          "prompt_tokens": reply.promptTokens, "dropped_messages": reply.droppedMessages]
                out.write(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            }
            out.write("\n")
            out.flush()
            return
        }
        let repl = ChatREPL(session: session, readLine: { Swift.readLine(strippingNewline: true) }, output: { out.write($0); out.flush() },
                            info: { s in out.flush(); FileHandle.standardError.write(Data((s.hasSuffix("> ") ? s : s + "\n").utf8)) },
                            showPrompt: isatty(STDIN_FILENO) != 0 && !common.quiet)
        repl.run()
        out.flush()
    }

    func readConversation(_ path: String) throws -> (String, String) {
        if path == "-" {
            let data = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
            guard let s = String(validating: data, as: UTF8.self) else {
                throw LMError.badInput(file: "stdin", "invalid UTF-8", fix: "pass UTF-8 JSON")
            }
            return (s, "stdin")
        }
        return (try FileIO.readText(path), path)
    }
}
