// The flows a user can be in between two messages: what the bot is waiting for and the context it needs when the
// next message arrives. A tagged union with a Schema, so a shared store (Redis) can keep it as JSON.
import { Schema } from "effect"
import { Media } from "./Confession.ts"
import { CommentId, ConfessionId, FeedbackId } from "./Ids.ts"

export const Conversation = Schema.TaggedUnion({
  /** `/confess` was pressed; the next text is the confession. */
  AwaitingConfession: {},
  /**
   * The text (or a photo or voice note with its caption in `text`) was accepted and a preview with Submit / Anonymous
   * / Cancel is shown.
   */
  ConfessionPreview: { text: Schema.String, anonymous: Schema.Boolean, media: Schema.optionalKey(Media) },
  /** ➕ Add comment was pressed under a confession. */
  AwaitingComment: { confessionId: ConfessionId },
  /** 💬 was pressed under a comment; the next text is a reply to it. */
  AwaitingReply: { confessionId: ConfessionId, commentId: CommentId },
  /**
   * A comment (or, with `commentId`, a reply) whose text the privacy check flagged, waiting for ✏️ Edit or ✅ Post
   * anyway.
   */
  CommentPreview: {
    confessionId: ConfessionId,
    commentId: Schema.optionalKey(CommentId),
    text: Schema.String
  },
  /** `/feedback` was sent. */
  AwaitingFeedback: {},
  /** An admin pressed ❌ Reject; the next text is the optional reason passed on to the author. */
  AwaitingRejectReason: { confessionId: ConfessionId },
  /** An admin pressed ↩️ Reply on feedback; the next text is relayed to its sender. */
  AwaitingFeedbackReply: { feedbackId: FeedbackId }
})
export type Conversation = typeof Conversation.Type

export type AwaitingConfession = typeof Conversation.cases.AwaitingConfession.Type
export type ConfessionPreview = typeof Conversation.cases.ConfessionPreview.Type
export type AwaitingComment = typeof Conversation.cases.AwaitingComment.Type
export type AwaitingReply = typeof Conversation.cases.AwaitingReply.Type
export type CommentPreview = typeof Conversation.cases.CommentPreview.Type
export type AwaitingFeedback = typeof Conversation.cases.AwaitingFeedback.Type
export type AwaitingRejectReason = typeof Conversation.cases.AwaitingRejectReason.Type
export type AwaitingFeedbackReply = typeof Conversation.cases.AwaitingFeedbackReply.Type

/** The states without fields are values: one shared instance each, so a thousand waiting users cost no objects. */
export const awaitingConfession: AwaitingConfession = Conversation.cases.AwaitingConfession.make({})
export const awaitingFeedback: AwaitingFeedback = Conversation.cases.AwaitingFeedback.make({})

export const confessionPreview = (text: string, anonymous: boolean, media?: Media | null): ConfessionPreview =>
  Conversation.cases.ConfessionPreview.make(
    media === undefined || media === null ? { text, anonymous } : { text, anonymous, media }
  )

export const awaitingComment = (confessionId: ConfessionId): AwaitingComment =>
  Conversation.cases.AwaitingComment.make({ confessionId })

export const awaitingReply = (confessionId: ConfessionId, commentId: CommentId): AwaitingReply =>
  Conversation.cases.AwaitingReply.make({ confessionId, commentId })

export const commentPreview = (confessionId: ConfessionId, commentId: CommentId | undefined, text: string): CommentPreview =>
  Conversation.cases.CommentPreview.make(commentId === undefined ? { confessionId, text } : { confessionId, commentId, text })

export const awaitingRejectReason = (confessionId: ConfessionId): AwaitingRejectReason =>
  Conversation.cases.AwaitingRejectReason.make({ confessionId })

export const awaitingFeedbackReply = (feedbackId: FeedbackId): AwaitingFeedbackReply =>
  Conversation.cases.AwaitingFeedbackReply.make({ feedbackId })

/** The JSON form, e.g. `{"_tag":"AwaitingReply","confessionId":7,"commentId":12}`, for an external store. */
export const ConversationFromJson = Schema.fromJsonString(Conversation)

export const toJson: (conversation: Conversation) => string = Schema.encodeSync(ConversationFromJson)

/** Decodes stored JSON; fails with a `SchemaError` on junk, unknown tags or ids that are not positive integers. */
export const fromJson = Schema.decodeUnknownEffect(ConversationFromJson)
