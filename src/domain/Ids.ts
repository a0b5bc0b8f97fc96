// Branded identifiers, so a confession id can never be passed where a comment id or a Telegram user id belongs.
import { Schema } from "effect"

const positiveSafeInt = Schema.Int.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(Number.MAX_SAFE_INTEGER))

export const UserId = positiveSafeInt.pipe(Schema.brand("UserId"))
export type UserId = typeof UserId.Type

export const ConfessionId = positiveSafeInt.pipe(Schema.brand("ConfessionId"))
export type ConfessionId = typeof ConfessionId.Type

export const CommentId = positiveSafeInt.pipe(Schema.brand("CommentId"))
export type CommentId = typeof CommentId.Type

export const FeedbackId = positiveSafeInt.pipe(Schema.brand("FeedbackId"))
export type FeedbackId = typeof FeedbackId.Type

export const UpdateId = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.brand("UpdateId"))
export type UpdateId = typeof UpdateId.Type
