import Foundation
import LMSupport

/// PPO prompts from a chat data file (`SFTData`'s formats: `{"messages": [...]}` JSONL or JSON,
/// Alpaca records). Each record gives one prompt: its messages up to and including the last
/// user message (a trailing assistant answer, as in SFT data, is dropped; the policy writes its
/// own).
public enum PPOPrompts {
    /// The prompts of `path`, in file order. Throws one `LMError.badInput` naming the file and
    /// record for a bad record or a record without a user message.
    public static func load(_ path: String) throws -> [[ChatMessage]] {
        try SFTData.load(path, requireAssistant: false).map { record in
            guard let last = record.messages.lastIndex(where: { $0.role == .user }) else {
                throw LMError.badInput(file: path, "\(record.location): no user message to answer",
                                       fix: "give every record a {\"role\": \"user\", …} message")
            }
            return Array(record.messages[...last])
        }
    }
}

/// The reward `lmkit ppo` uses: a reward model (`lmkit reward train`) scoring each prompt and
/// response as one dialogue text.
public enum PPOReward {
    /// The text a reward model scores for `prompt` and `response`: Anthropic HH-RLHF's dialogue
    /// format, the format of the shipped preference data — each message as "\n\nHuman: …"
    /// (user), "\n\nAssistant: …" (assistant) or "\n\nSystem: …" (system), then
    /// "\n\nAssistant: " + response.
    public static func dialogueText(_ prompt: [ChatMessage], response: String) -> String {
        var s = ""
        for m in prompt {
            switch m.role {
            case .user: s += "\n\nHuman: " + m.content
            case .assistant: s += "\n\nAssistant: " + m.content
            case .system: s += "\n\nSystem: " + m.content
            }
        }
        return s + "\n\nAssistant: " + response
    }

    /// A reward function scoring `dialogueText` with `scorer`.
    public static func model(_ scorer: RewardScorer) -> PPORewardFunction {
        { prompts, responses in
            try scorer.score(zip(prompts, responses).map { dialogueText($0, response: $1) })
        }
    }
}
