// The one rule for user-written text (confessions, comments, replies, feedback, reject reasons, captions): trimmed,
// not blank, and not longer than the limit, counted the way Telegram counts. Pure; the caller turns a failure into a
// reply.
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
 * Characters as Telegram counts them: UTF-16 code units (JavaScript's `.length`), so "😀" is 2. Telegram measures a
 * message's 4,096 and a caption's 1,024 in these units, and so does `views/Html.ts`; counting anything else here would
 * accept texts the channel post then cuts (3,500 "😀" used to pass as 3,500 and showed as 2,039). It is also never
 * less than PostgreSQL's `char_length` (code points), so a text that passes here satisfies the columns' length checks.
 */
export const characterCount = (text: string): number => text.length

/**
 * The trimmed text, or why it cannot be accepted. NUL characters are dropped first (PostgreSQL text cannot hold them,
 * and they display as nothing anyway), and unpaired surrogates become U+FFFD (PostgreSQL's UTF-8 cannot hold them
 * either; one unit for one unit, so the length is unchanged).
 */
export const validateText = (text: string, maxLength: number): Result.Result<string, TextProblem> => {
  const trimmed = clean(text).trim()
  if (isBlank(trimmed)) return Result.fail(new Empty())
  const length = characterCount(trimmed)
  return length > maxLength ? Result.fail(new TooLong({ length, maxLength })) : Result.succeed(trimmed)
}

/**
 * Like `validateText`, for a text that may be left out (a photo's caption): a blank text is accepted as "" instead of
 * failing `Empty`.
 */
export const validateOptionalText = (text: string | undefined, maxLength: number): Result.Result<string, TooLong> => {
  const valid = validateText(text ?? "", maxLength)
  if (Result.isSuccess(valid)) return Result.succeed(valid.success)
  return valid.failure._tag === "Empty" ? Result.succeed("") : Result.fail(valid.failure)
}

/**
 * Text PostgreSQL can store, whatever a client sent: NUL characters dropped, unpaired surrogates turned into U+FFFD
 * (one unit for one unit). For names and other text that is stored without a length rule of its own.
 */
export const storable = (text: string): string => text.replace(/\u0000/g, "").replace(loneSurrogate, "\uFFFD")

const clean = storable

// Without the `u` flag a regular expression sees UTF-16 units, so it can find a surrogate that has no partner.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * White space plus the invisible characters people use to send "empty" messages: format characters (zero-width space,
 * joiners, direction marks, BOM), the Hangul fillers and the Braille blank.
 */
const invisible = /^[\p{White_Space}\p{Cf}\u115F\u1160\u3164\uFFA0\u2800]*$/u

const isBlank = (text: string): boolean => invisible.test(text)
