// `/start` deep-link payloads: the channel post's "View / Add Comments" button opens `t.me/<bot>?start=c<ID>`.
// Payloads are hostile input: `fromPayload` accepts only what `toPayload` produces and returns `None` for the rest.
import { Option } from "effect"
import * as ContentRef from "./ContentRef.ts"
import type { ConfessionId } from "./Ids.ts"

export interface OpenComments {
  readonly _tag: "OpenComments"
  readonly confessionId: ConfessionId
}

export type DeepLink = OpenComments

export const OpenComments = (confessionId: ConfessionId): DeepLink => ({ _tag: "OpenComments", confessionId })

/** What Telegram allows in a `start` parameter. */
export const payloadPattern = /^[A-Za-z0-9_-]{1,64}$/

/** `c<ID>` for a confession; ids are positive safe integers, so at most 17 characters, always within the pattern. */
export const toPayload = (link: DeepLink): string =>
  ContentRef.subjectToString({ kind: "confession", id: link.confessionId })

/**
 * Decodes the text after `/start ` (grammY's `ctx.match`). `None` for an empty payload, characters outside
 * `[A-Za-z0-9_-]`, more than 64 characters, an unknown prefix, or an id that is not a positive safe integer written
 * without sign or leading zeros.
 */
export const fromPayload = (payload: string): Option.Option<DeepLink> => {
  // `c<ID>` exactly as `toPayload` writes it: the lower-case prefix of the content-reference form.
  if (!payloadPattern.test(payload) || !payload.startsWith("c")) return Option.none()
  return ContentRef.subject(payload).pipe(
    Option.flatMap((ref) => (ref.kind === "confession" ? Option.some(OpenComments(ref.id)) : Option.none()))
  )
}

/** `https://t.me/<username>?start=c<ID>`; a leading `@` on the username is dropped. */
export const toStartUrl = (botUsername: string, link: DeepLink): string =>
  `https://t.me/${encodeURIComponent(botUsername.replace(/^@/, ""))}?start=${toPayload(link)}`
