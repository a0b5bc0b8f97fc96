// What a confession is allowed to become, how its author is named under a channel post, and how long its text may be
// so that the post always shows it whole. Pure; the SQL in services/Moderation.ts enforces the same transitions with
// conditional updates.
import { Result, Schema } from "effect"
import type { ConfessionId } from "./Ids.ts"
import { type TextProblem, validateText } from "./Validation.ts"

export const Status = Schema.Literals(["pending", "approved", "rejected", "deleted"])
export type Status = typeof Status.Type

/**
 * pending → approved | rejected | deleted; approved → deleted; rejected → deleted; deleted is final. Nothing ever
 * returns to pending, which is why "decided exactly once" can be a single `where status = 'pending'` update.
 */
const next: { readonly [S in Status]: ReadonlyArray<Status> } = {
  pending: ["approved", "rejected", "deleted"],
  approved: ["deleted"],
  rejected: ["deleted"],
  deleted: []
}

export const canTransition = (from: Status, to: Status): boolean => next[from].includes(to)

/** Approved or rejected (or deleted): a moderator no longer needs to look at it. */
export const isDecided = (status: Status): boolean => status !== "pending"

export interface AuthorInfo {
  readonly anonymous: boolean
  readonly firstName: string
  readonly username: string | null | undefined
}

export const anonymousLine = "Anonymous"

/** A confession's photo or voice note, re-sent by its `file_id` (never forwarded: a forward names the sender). */
export const Media = Schema.Struct({
  kind: Schema.Literals(["photo", "voice"]),
  fileId: Schema.String,
  /** A voice note's length in seconds. */
  duration: Schema.optionalKey(Schema.Number)
})
export type Media = typeof Media.Type

/** The media columns of a stored confession, as one value (`null` for a text confession). */
export const mediaOf = (row: {
  readonly mediaKind: "photo" | "voice" | null
  readonly mediaFileId: string | null
  readonly mediaDuration: number | null
}): Media | null =>
  row.mediaKind === null || row.mediaFileId === null
    ? null
    : row.mediaDuration === null
      ? { kind: row.mediaKind, fileId: row.mediaFileId }
      : { kind: row.mediaKind, fileId: row.mediaFileId, duration: row.mediaDuration }

/** An approved confession with what its channel post needs: the author's names (shown only when not anonymous). */
export interface Published {
  readonly id: ConfessionId
  /** The text, or a media confession's caption ("" when it has none). */
  readonly text: string
  readonly media: Media | null
  readonly anonymous: boolean
  readonly authorFirstName: string
  readonly authorUsername: string | null
}

/**
 * "Anonymous" for an anonymous confession, otherwise "First @username", or just the first name when there is no
 * username. Plain text: the view escapes it. A named author without any name left (Telegram always sends a first name,
 * so only a stored empty one) is shown as "Anonymous" rather than as an empty line.
 */
export const authorLine = (author: AuthorInfo): string => {
  if (author.anonymous) return anonymousLine
  const name = author.firstName.trim()
  const username = (author.username ?? "").trim().replace(/^@+/, "")
  const parts = [name, username === "" ? "" : `@${username}`].filter((part) => part !== "")
  return parts.length === 0 ? anonymousLine : parts.join(" ")
}

/** An admin's optional note to the author of a rejected confession. */
export const rejectReasonMaxLength = 500

export const validateRejectReason = (text: string): Result.Result<string, TextProblem> =>
  validateText(text, rejectReasonMaxLength)

// ---- what was accepted is posted whole --------------------------------------------------------------------------
// All lengths below are UTF-16 code units of the text Telegram shows (tags count 0, `&amp;` counts 1), the unit of
// Telegram's limits and of `Validation.characterCount`.

/** Telegram's limit for a text message. */
export const messageLimit = 4096

/** Telegram's limit for a photo's or voice note's caption. */
export const captionLimit = 1024

/** Digits of the longest id a post can show: ids are positive safe integers. */
export const idMaxDigits = String(Number.MAX_SAFE_INTEGER).length

/** What is stored of a Telegram profile's first name and username (services/Users.ts and the `users` table). */
export const firstNameMaxLength = 256
export const usernameMaxLength = 64

/** The longest `authorLine`: first name, " @", username. */
export const authorLineMaxLength = firstNameMaxLength + " @".length + usernameMaxLength

/**
 * What a channel post adds around the confession's text at most: `#ID` and a blank line above it, a blank line, "— "
 * and the author line below it (views/ConfessionViews.ts `channelPost`; a media post's caption has the same frame).
 * A view that adds more must grow this number, and the tests that prove the longest text fits will say so.
 */
export const postFrameMaxLength = "#".length + idMaxDigits + "\n\n".length + "\n\n— ".length + authorLineMaxLength

/**
 * The longest text that always fits a post of `limit` units (`messageLimit` for a text post, `captionLimit` for a
 * media caption) with the longest header and author line the views can produce; 0 when nothing fits.
 */
export const longestPostText = (limit: number): number => Math.max(0, Math.floor(limit) - postFrameMaxLength)
