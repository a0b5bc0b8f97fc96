// How people, buttons and links name content: `42` or `#42` for a confession, `c42` and `m7` for "the author of
// confession 42 / comment 7". One parser for all of them (commands, callback data, deep links), strict: anything that
// is not exactly such a reference is `None`, never a crash or a guess.
import { Option } from "effect"
import { CommentId, ConfessionId } from "./Ids.ts"

/** Content whose author an admin can act on without learning who it is. */
export type Subject =
  | { readonly kind: "confession"; readonly id: ConfessionId }
  | { readonly kind: "comment"; readonly id: CommentId }

/**
 * A positive safe integer written in plain decimal: no sign, no leading zeros, no spaces, decimals or exponents, at most
 * 16 digits; `undefined` for anything else.
 */
export const positiveInt = (text: string | undefined): number | undefined => {
  if (text === undefined || !/^[1-9][0-9]{0,15}$/.test(text)) return undefined
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : undefined
}

/** `42` or `#42` (surrounding spaces allowed): a confession id. */
export const confession = (text: string): Option.Option<ConfessionId> => {
  const id = positiveInt(/^#?(\S+)$/.exec(text.trim())?.[1])
  return id === undefined ? Option.none() : Option.some(ConfessionId.make(id))
}

/** `c42` (confession 42) or `m7` (comment 7), either letter case, surrounding spaces allowed. */
export const subject = (text: string): Option.Option<Subject> => {
  const match = /^([cCmM])(\S+)$/.exec(text.trim())
  const id = positiveInt(match?.[2])
  if (match === null || id === undefined) return Option.none()
  return Option.some(
    match[1]?.toLowerCase() === "c"
      ? { kind: "confession", id: ConfessionId.make(id) }
      : { kind: "comment", id: CommentId.make(id) }
  )
}

/** The short form `subject` reads back: `c42` or `m7`. */
export const subjectToString = (ref: Subject): string => `${ref.kind === "confession" ? "c" : "m"}${ref.id}`
