// Comments as every reader sees them, and who gets the "author" tag. Pure; paging rules live in Paging.ts.
import type { Media } from "./Confession.ts"
import type { CommentId, ConfessionId, UserId } from "./Ids.ts"
import type { Page } from "./Paging.ts"

/** A comment as views show it: never who wrote it, only whether it was the confession's own author. */
export interface CommentRecord {
  readonly id: CommentId
  readonly confessionId: ConfessionId
  /** The top-level comment this one replies to; `null` for a top-level comment. */
  readonly parentId: CommentId | null
  /** Empty for a tombstone (see `isTombstone`); never empty otherwise. */
  readonly text: string
  /** Hidden by an admin after reports; hidden comments never appear in views or lists. */
  readonly hidden: boolean
  readonly likes: number
  readonly dislikes: number
  readonly reports: number
  /** Visible replies (top-level comments only; always 0 for a reply). */
  readonly replies: number
  /** Written by the author of the confession it belongs to. */
  readonly authorTag: boolean
  readonly createdAt: Date
}

/** The comments view: the confession and one page of its visible top-level comments, newest first. */
export interface CommentsPage extends Page<CommentRecord> {
  /** The confession: its text, or a photo's or voice note's caption with `media` saying which. */
  readonly confession: { readonly id: ConfessionId; readonly text: string; readonly media: Media | null }
}

/** The replies view: the comment replied to and one page of its visible replies, oldest first (reading order). */
export interface RepliesPage extends Page<CommentRecord> {
  readonly parent: CommentRecord
}

/**
 * A comment written by the confession's own author carries the "author" tag (and nothing else about them). `null` is a
 * forgotten person (/forget): nobody, so never the author of anything.
 */
export const isAuthorTag = (confessionAuthorId: UserId | null, commentAuthorId: UserId | null): boolean =>
  confessionAuthorId !== null && confessionAuthorId === commentAuthorId

/**
 * A tombstone: the writer erased their data (/forget) while other people's replies hung under the comment, so it stays
 * in place without author, text or reactions, and views show "deleted comment". Every other comment has a text.
 */
export const isTombstone = (comment: Pick<CommentRecord, "text">): boolean => comment.text === ""
