// The two derived numbers of a user's profile, from the raw counts one statistics query returns. Pure: no clock,
// no I/O, so the rules PRODUCT.md states are checked here and nowhere else.

/** Raw counts for one user, as one statistics query returns them. */
export interface ProfileCounts {
  readonly approvedConfessions: number
  readonly commentsWritten: number
  readonly likesReceived: number
  readonly dislikesReceived: number
}

/** What the profile shows: the counts and the user's anonymity default. */
export interface ProfileStats extends ProfileCounts {
  readonly anonymousDefault: boolean
}

/** Shown instead of a percentage while nobody has reacted to the user's comments. */
export const noAcceptanceScore = "—"

/** Approved confessions × 10 + comments × 2 + likes received − dislikes received, never below 0. */
export const impactPoints = (counts: ProfileCounts): number =>
  Math.max(
    0,
    counts.approvedConfessions * 10 + counts.commentsWritten * 2 + counts.likesReceived - counts.dislikesReceived
  )

/** Likes ÷ (likes + dislikes) on the user's comments as a rounded percentage ("67%"), or "—" without reactions. */
export const acceptanceScore = (counts: Pick<ProfileCounts, "likesReceived" | "dislikesReceived">): string => {
  const reactions = counts.likesReceived + counts.dislikesReceived
  return reactions <= 0 ? noAcceptanceScore : `${Math.round((counts.likesReceived / reactions) * 100)}%`
}
