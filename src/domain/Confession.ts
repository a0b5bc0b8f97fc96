// What a confession is allowed to become, and how its author is named under a channel post. Pure; the SQL in
// services/Moderation.ts enforces the same transitions with conditional updates.
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

/** An approved confession with what its channel post needs: the author's names (shown only when not anonymous). */
export interface Published {
  readonly id: ConfessionId
  readonly text: string
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
