// Pure rules about comments: who gets the "author" tag. Paging rules live in Paging.ts.
import type { UserId } from "./Ids.ts"

/** A comment written by the confession's own author carries the "author" tag (and nothing else about them). */
export const isAuthorTag = (confessionAuthorId: UserId, commentAuthorId: UserId): boolean =>
  confessionAuthorId === commentAuthorId
