// Feedback to the admins as every part of the program sees it.
import type { FeedbackId, UserId } from "./Ids.ts"

export interface FeedbackItem {
  readonly id: FeedbackId
  /** Who wrote it, so an admin's answer can reach them. Never shown to admins. */
  readonly authorId: UserId
  readonly text: string
  readonly status: "open" | "resolved"
  readonly resolvedBy: number | null
  readonly resolvedAt: Date | null
  /** The admins' latest answer, relayed to the sender. */
  readonly adminNote: string | null
  readonly createdAt: Date
}
