// What /mydata hands a person: everything the bot stores about them, and nothing about anyone else. Their own rows
// only (profile, settings, confessions in every state, comments hidden ones included, the reactions and reports they
// gave, their feedback with the admins' answers); never another person's id or name, never which admin decided, never
// who reacted to their comments (only the counts, which everyone sees). Pure: the data as the service reads it, and
// the document as the file shows it.
import { Schema } from "effect"
import { Status } from "./Confession.ts"
import { Kind } from "./Reaction.ts"

const Id = Schema.Number
const Time = Schema.DateFromString

export const ProfileData = Schema.Struct({
  telegramId: Id,
  firstName: Schema.String,
  lastName: Schema.NullOr(Schema.String),
  username: Schema.NullOr(Schema.String),
  anonymousDefault: Schema.Boolean,
  blocked: Schema.Boolean,
  inactive: Schema.Boolean,
  createdAt: Time,
  lastSeenAt: Time
})
export type ProfileData = typeof ProfileData.Type

export const ConfessionData = Schema.Struct({
  id: Id,
  status: Status,
  /** The text, or a photo's or voice note's caption. */
  text: Schema.String,
  mediaKind: Schema.NullOr(Schema.Literals(["photo", "voice"])),
  /** Telegram's id of their photo or voice note, by which the bot re-sends it. */
  mediaFileId: Schema.NullOr(Schema.String),
  mediaDuration: Schema.NullOr(Schema.Number),
  anonymous: Schema.Boolean,
  /** The channel post's message id once it went out. */
  channelMessageId: Schema.NullOr(Id),
  rejectReason: Schema.NullOr(Schema.String),
  createdAt: Time,
  decidedAt: Schema.NullOr(Time)
})
export type ConfessionData = typeof ConfessionData.Type

export const CommentData = Schema.Struct({
  id: Id,
  confessionId: Id,
  /** The comment this one replies to. */
  parentId: Schema.NullOr(Id),
  text: Schema.String,
  hidden: Schema.Boolean,
  likes: Schema.Number,
  dislikes: Schema.Number,
  reports: Schema.Number,
  replies: Schema.Number,
  createdAt: Time
})
export type CommentData = typeof CommentData.Type

export const ReactionData = Schema.Struct({ commentId: Id, kind: Kind, createdAt: Time })
export type ReactionData = typeof ReactionData.Type

export const ReportData = Schema.Struct({ commentId: Id, createdAt: Time })
export type ReportData = typeof ReportData.Type

export const FeedbackData = Schema.Struct({
  id: Id,
  text: Schema.String,
  status: Schema.Literals(["open", "resolved"]),
  /** The admins' latest answer (never which admin). */
  adminNote: Schema.NullOr(Schema.String),
  resolvedAt: Schema.NullOr(Time),
  createdAt: Time
})
export type FeedbackData = typeof FeedbackData.Type

/** Everything stored about one person, as read in one statement. */
export const PersonalExport = Schema.Struct({
  profile: ProfileData,
  confessions: Schema.Array(ConfessionData),
  comments: Schema.Array(CommentData),
  reactions: Schema.Array(ReactionData),
  reports: Schema.Array(ReportData),
  feedback: Schema.Array(FeedbackData)
})
export type PersonalExport = typeof PersonalExport.Type

/** The JSON document: plain values only (times as ISO 8601 in UTC), keys in reading order. */
export const toDocument = (data: PersonalExport, exportedAt: Date) => ({
  exportedAt: iso(exportedAt),
  profile: {
    telegramId: data.profile.telegramId,
    firstName: data.profile.firstName,
    lastName: data.profile.lastName,
    username: data.profile.username,
    registeredAt: iso(data.profile.createdAt),
    lastSeenAt: iso(data.profile.lastSeenAt)
  },
  settings: {
    anonymousByDefault: data.profile.anonymousDefault,
    blocked: data.profile.blocked,
    inactive: data.profile.inactive
  },
  confessions: data.confessions.map((c) => ({
    id: c.id,
    status: c.status,
    text: c.text,
    media:
      c.mediaKind === null
        ? null
        : { kind: c.mediaKind, fileId: c.mediaFileId, durationSeconds: c.mediaDuration },
    anonymous: c.anonymous,
    createdAt: iso(c.createdAt),
    decidedAt: c.decidedAt === null ? null : iso(c.decidedAt),
    rejectReason: c.rejectReason,
    channelMessageId: c.channelMessageId
  })),
  comments: data.comments.map((c) => ({
    id: c.id,
    confessionId: c.confessionId,
    replyTo: c.parentId,
    text: c.text,
    hidden: c.hidden,
    likes: c.likes,
    dislikes: c.dislikes,
    reports: c.reports,
    replies: c.replies,
    createdAt: iso(c.createdAt)
  })),
  reactions: data.reactions.map((r) => ({ commentId: r.commentId, kind: r.kind, createdAt: iso(r.createdAt) })),
  reports: data.reports.map((r) => ({ commentId: r.commentId, createdAt: iso(r.createdAt) })),
  feedback: data.feedback.map((f) => ({
    id: f.id,
    text: f.text,
    status: f.status,
    adminAnswer: f.adminNote,
    resolvedAt: f.resolvedAt === null ? null : iso(f.resolvedAt),
    createdAt: iso(f.createdAt)
  }))
})
export type Document = ReturnType<typeof toDocument>

const iso = (date: Date): string => date.toISOString()

/** What /forget does with the person's published confessions. */
export const PostsChoice = Schema.Literals(["keep", "delete"])
export type PostsChoice = typeof PostsChoice.Type
