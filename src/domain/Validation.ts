// The one rule for user-written text (confessions, comments, replies, feedback, reject reasons): trimmed, not blank,
// and not longer than the limit, counted the way users see characters. Pure; the caller turns a failure into a reply.
import { Data, Result } from "effect"

/** Nothing visible was sent: empty, whitespace only, or only invisible characters. */
export class Empty extends Data.TaggedClass("Empty")<{}> {}

/** The trimmed text has `length` characters, more than the allowed `maxLength`. */
export class TooLong extends Data.TaggedClass("TooLong")<{
  readonly length: number
  readonly maxLength: number
}> {}

export type TextProblem = Empty | TooLong

/**
 * Characters as users count them: Unicode code points, so "😀" is 1 (JavaScript's `.length` says 2). It is also what
 * PostgreSQL's `char_length` measures, so a text that passes here always satisfies the columns' length checks. An emoji
 * built from several code points (flags, skin tones, ZWJ families) counts as several; that errs on the strict side.
 */
export const characterCount = (text: string): number => [...text].length

/**
 * The trimmed text, or why it cannot be accepted. NUL characters are dropped first: PostgreSQL text cannot hold them,
 * and they display as nothing anyway.
 */
export const validateText = (text: string, maxLength: number): Result.Result<string, TextProblem> => {
  const trimmed = text.replace(/\u0000/g, "").trim()
  if (isBlank(trimmed)) return Result.fail(new Empty())
  const length = characterCount(trimmed)
  return length > maxLength ? Result.fail(new TooLong({ length, maxLength })) : Result.succeed(trimmed)
}

/**
 * White space plus the invisible characters people use to send "empty" messages: format characters (zero-width space,
 * joiners, direction marks, BOM), the Hangul fillers and the Braille blank.
 */
const invisible = /^[\p{White_Space}\p{Cf}\u115F\u1160\u3164\uFFA0\u2800]*$/u

const isBlank = (text: string): boolean => invisible.test(text)
