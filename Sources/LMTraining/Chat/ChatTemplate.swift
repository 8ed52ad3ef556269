import LMSupport
import LMTokenizer

/// Who speaks a chat message.
public enum ChatRole: String, Sendable, Codable, CaseIterable {
    case system, user, assistant

    /// The special token that opens a message of this role.
    public var token: String {
        switch self {
        case .system: return ChatTemplate.systemToken
        case .user: return ChatTemplate.userToken
        case .assistant: return ChatTemplate.assistantToken
        }
    }
}

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: ChatRole
    public var content: String
    public init(_ role: ChatRole, _ content: String) { self.role = role; self.content = content }
}

/// A conversation rendered for training: `ids[i]` with `mask[i]` = 1 when the model is trained to
/// produce that token (the assistant's tokens and the `<|end|>` that closes each assistant message).
public struct RenderedConversation: Sendable, Equatable {
    /// Token ids, length n.
    public var ids: [Int32]
    /// Loss mask, length n: 1 = the loss counts predicting this token, 0 = context only.
    public var mask: [UInt8]
    /// Tokens with mask 1.
    public var trainedCount: Int { mask.reduce(0) { $0 + Int($1) } }
}

/// lmkit's chat template: how a conversation becomes token ids and a loss mask.
///
///     <|bos|> ( <|ROLE|> content <|end|> )*
///
/// one `<|bos|>`, then each message as its role token (`<|system|>`, `<|user|>`,
/// `<|assistant|>`), its content encoded as ordinary text, and `<|end|>`. No newlines or other
/// glue are added. Special-token text inside a content (e.g. a user typing "<|end|>") is encoded as
/// ordinary bytes, so a message can never forge the structure.
///
/// Loss mask: 1 on every token of an assistant message's content **and its closing `<|end|>`**
/// (so the model learns to stop), 0 on everything else (`<|bos|>`, role tokens including
/// `<|assistant|>` itself, system and user messages). To ask the model for a reply, render the
/// conversation so far and append `<|assistant|>` (`promptIDs`); generation stops at `<|end|>`.
///
/// Hand-worked example, byte-level vocab (ids 0–255 = bytes) with `<|endoftext|>` = 256 and the
/// chat tokens added by `lmkit vocab add-special` as 257 `<|bos|>`, 258 `<|system|>`, 259 `<|user|>`,
/// 260 `<|assistant|>`, 261 `<|end|>`; conversation system "Be", user "Hi", assistant "Yo":
///
///     token  <|bos|> <|system|> B  e  <|end|> <|user|> H  i   <|end|> <|assistant|> Y  o   <|end|>
///     id     257     258        66 101 261    259      72 105 261     260           89 111 261
///     mask   0       0          0  0   0      0        0  0   0       0             1  1   1
///
/// For training, position i's input is `ids[i]` and its target `ids[i+1]` when `mask[i+1]` = 1,
/// else −1 (ignored): here the targets are −1 except 89 (at `<|assistant|>`), 111, 261.
public struct ChatTemplate: Sendable {
    public static let bosToken = "<|bos|>"
    public static let systemToken = "<|system|>"
    public static let userToken = "<|user|>"
    public static let assistantToken = "<|assistant|>"
    public static let endToken = "<|end|>"
    /// The chat tokens, in the order `lmkit vocab add-special` adds them by default.
    public static let specialTokens = [bosToken, systemToken, userToken, assistantToken, endToken]

    public let tokenizer: BPETokenizer
    public let bosID: Int32
    public let endID: Int32
    let roleIDs: [ChatRole: Int32]

    /// Throws `LMError.badInput` (naming `file`) when the vocab lacks any chat token.
    public init(tokenizer: BPETokenizer, file: String? = nil) throws {
        let v = tokenizer.vocabulary
        let missing = ChatTemplate.specialTokens.filter { v.specialID($0) == nil }
        if !missing.isEmpty {
            throw LMError.badInput(file: file, "the vocab has no chat tokens (\(missing.joined(separator: " ")) missing)",
                                   fix: "add them with `lmkit vocab add-special --vocab \(file ?? "V") --output chat.vocab` and pass --vocab chat.vocab")
        }
        self.tokenizer = tokenizer
        bosID = Int32(v.specialID(ChatTemplate.bosToken)!)
        endID = Int32(v.specialID(ChatTemplate.endToken)!)
        var roles: [ChatRole: Int32] = [:]
        for r in ChatRole.allCases { roles[r] = Int32(v.specialID(r.token)!) }
        roleIDs = roles
    }

    /// The id of the token opening a `role` message.
    public func roleID(_ role: ChatRole) -> Int32 { roleIDs[role]! }

    /// Ids and loss mask of a whole conversation (see the type's doc comment).
    public func render(_ messages: [ChatMessage]) -> RenderedConversation {
        var ids: [Int32] = [bosID]
        var mask: [UInt8] = [0]
        for m in messages {
            ids.append(roleID(m.role)); mask.append(0)
            let trained: UInt8 = m.role == .assistant ? 1 : 0
            for t in tokenizer.encodeOrdinary(m.content) { ids.append(Int32(t)); mask.append(trained) }
            ids.append(endID); mask.append(trained)
        }
        return RenderedConversation(ids: ids, mask: mask)
    }

    /// The ids that ask for the next assistant message: `render(messages).ids + [<|assistant|>]`.
    public func promptIDs(_ messages: [ChatMessage]) -> [Int32] {
        render(messages).ids + [roleID(.assistant)]
    }
}
