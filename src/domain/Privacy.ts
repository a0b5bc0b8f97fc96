// The privacy check: which kinds of things that identify people a text contains (phone numbers, e-mail addresses,
// @usernames, Telegram links, and the operator's own patterns), so the author can be warned before submitting.
// Pure. It answers KINDS only, each once, in a fixed order, never positions: the admins' copy names the kind, and a
// position could tell them more about the author's text than the channel will. It is a warning for honest authors,
// not a filter: someone who writes "five five five…" passes, and nothing here blocks a submission.
//
// Every scanner is linear in the text (bounded scans, regular expressions without nested or overlapping
// repetition), so a hostile 10,000-character text costs the same as a short one; operator patterns are restricted
// (`parsePatterns`) for the same reason.
import { Data, Result } from "effect"

/** The kinds found by the built-in rules, in the order `scan` reports them. */
export const builtInKinds = ["phone", "email", "username", "link"] as const
export type BuiltInKind = (typeof builtInKinds)[number]

/** An operator pattern's name, e.g. "student id"; never the name of a built-in kind. */
export type PatternName = string & { readonly PatternName: unique symbol }

/** What `scan` reports: a built-in kind or the name of the operator pattern that matched. */
export type Kind = BuiltInKind | PatternName

export interface Pattern {
  readonly name: PatternName
  readonly regex: RegExp
}

export const isBuiltIn = (kind: Kind): kind is BuiltInKind => (builtInKinds as ReadonlyArray<string>).includes(kind)

/**
 * The kinds `text` contains: built-in kinds first (phone, email, username, link), then the operator's patterns in the
 * order they were configured; each at most once.
 */
export const scan = (text: string, patterns: ReadonlyArray<Pattern> = []): ReadonlyArray<Kind> => {
  const prepared = prepare(text)
  const found: Array<Kind> = []
  if (hasPhone(prepared)) found.push("phone")
  if (hasEmail(prepared)) found.push("email")
  if (hasUsername(prepared)) found.push("username")
  if (hasLink(prepared)) found.push("link")
  for (const pattern of patterns) if (pattern.regex.test(prepared)) found.push(pattern.name)
  return found
}

/**
 * Zero-width and other format characters are removed (so "555\u200B1234567" is still a number), then NFKC folds look-
 * alike forms to plain ones (fullwidth "５５５", "＠", "№" → "No"). Only kinds leave this module, so the changed
 * positions do not matter.
 */
const prepare = (text: string): string => text.replace(/\p{Cf}/gu, "").normalize("NFKC")

// ---- phone numbers ----------------------------------------------------------------------------------------------
//
// A phone number is a run of digit groups, 7 to 15 digits in all (15 is E.164's maximum; 7 is the shortest local
// number in common use), written with spaces, dashes, dots, slashes or parentheses and maybe a leading "+". Numbers
// that only look like that are left alone, each for a reason:
// - dates ("2024-05-01", "01.05.2024", "5/1/24") and times ("12:30"): the most common long digit runs in stories;
// - years alone or in ranges ("in 2024", "2019-2023", "2019 2020"): same;
// - prices and amounts next to a currency sign or word ("$1,250.00", "15 000 ₽", "€9.99", "1 250 000 руб");
// - percentages ("50%", "1234567 %");
// - references to posts ("#123", "№ 4521", "confession 1234567"): the bot's own ids;
// - decimals ("3.14159"): one dot with one or two digits on a side;
// - codes glued to letters ("B-204", "ID12345678", "5551234567kg"): room numbers, ids and units, which operator
//   patterns cover when they identify someone;
// - lists of small numbers ("1 2 3 4 5 6 7"): every group after the first has two digits or more in a phone number;
// - thousands after a first group of one or two digits ("2 500 000 people", "1.250.000"): no phone starts that way.
// A number grouped by thousands after THREE digits ("612 345 678") is flagged: Spanish mobiles are written that way,
// and a needless warning costs less than a published number.

/** A digit group or several joined by "-", ".", "/" (each followed by digits), maybe in parentheses, maybe after "+". */
const numberToken = /\+?\(?\d+\)?(?:[-./]\(?\d+\)?)*/g

/** What may stand between two tokens of one number: nothing (after ")"), a space, or a dash or dot with spaces. */
const joiner = /^(?: ?[-./] ?| )?$/

interface Token {
  readonly start: number
  readonly end: number
  readonly raw: string
  /** The digit groups, in order. */
  readonly groups: ReadonlyArray<string>
}

const hasPhone = (text: string): boolean => {
  let chain: Array<Token> = []
  for (const match of text.matchAll(numberToken)) {
    const token = toToken(match[0], match.index)
    const previous = chain.at(-1)
    if (isNonPhoneToken(text, token)) {
      if (isPhoneChain(text, chain)) return true
      chain = []
    } else if (previous !== undefined && joiner.test(text.slice(previous.end, token.start))) {
      chain.push(token)
    } else {
      if (isPhoneChain(text, chain)) return true
      chain = [token]
    }
  }
  return isPhoneChain(text, chain)
}

const toToken = (raw: string, start: number): Token => ({
  start,
  end: start + raw.length,
  raw,
  groups: raw.match(/\d+/g) ?? []
})

/** A token that is a date, a time, a year or a decimal by itself: it is not a phone and ends any number around it. */
const isNonPhoneToken = (text: string, token: Token): boolean =>
  isTimePart(text, token) || isDate(token) || isYears(token) || isDecimal(token)

/** "12" and "30" in "12:30" (but not the number in "tel:5551234567"). */
const isTimePart = (text: string, token: Token): boolean =>
  (text[token.start - 1] === ":" && /\d/.test(text[token.start - 2] ?? "")) ||
  (text[token.end] === ":" && /\d/.test(text[token.end + 1] ?? ""))

const isPhoneChain = (text: string, chain: ReadonlyArray<Token>): boolean => {
  const first = chain[0]
  const last = chain.at(-1)
  if (first === undefined || last === undefined) return false
  const groups = chain.flatMap((token) => token.groups)
  const digits = groups.reduce((sum, group) => sum + group.length, 0)
  if (digits < 7 || digits > 15) return false
  if (groups.slice(1).some((group) => group.length < 2)) return false
  if (groups.every(isYear) || isGroupedAmount(chain, groups)) return false
  const before = text.slice(Math.max(0, first.start - 24), first.start)
  const after = text.slice(last.end, last.end + 12)
  return !(isGluedBefore(before) || isGluedAfter(after) || isReference(before) || isAmount(before, after))
}

/**
 * Thousands written with spaces or dots after a first group of one or two digits: "2 500 000", "10 000 000",
 * "1.250.000". A phone number never starts that way without a "+" ("612 345 678", with three, stays flagged).
 */
const isGroupedAmount = (chain: ReadonlyArray<Token>, groups: ReadonlyArray<string>): boolean => {
  const [first = "", ...rest] = groups
  return (
    !(chain[0]?.raw.startsWith("+") ?? false) &&
    !chain.some((token) => /[()]/.test(token.raw)) &&
    /^[1-9]\d?$/.test(first) &&
    rest.length > 0 &&
    rest.every((group) => group.length === 3)
  )
}

const isYear = (group: string): boolean => /^(?:19|20)\d\d$/.test(group)

/** Only years: "2024", "2019-2023", "2019/20" is not (its second group is no year). */
const isYears = (token: Token): boolean => !token.raw.startsWith("+") && token.groups.every(isYear)

/** Y-M-D with a four-digit year, or D-M-Y / M-D-Y with a two- or four-digit year; one kind of separator. */
const isDate = (token: Token): boolean => {
  if (token.groups.length !== 3 || !/^\d+([-./])\d+\1\d+$/.test(token.raw)) return false
  const [a = "", b = "", c = ""] = token.groups
  const [x, y, z] = [Number(a), Number(b), Number(c)]
  if (a.length === 4) return isYear(a) && isMonth(y) && isDay(z)
  if (a.length > 2 || b.length > 2 || (c.length !== 2 && c.length !== 4)) return false
  return isDay(x) && isDay(y) && (isMonth(x) || isMonth(y))
}

const isMonth = (n: number): boolean => n >= 1 && n <= 12
const isDay = (n: number): boolean => n >= 1 && n <= 31

/** One dot with at most two digits on one side: "3.14159", "99999.99". ("555.1234" stays a possible number.) */
const isDecimal = (token: Token): boolean => {
  if (!/^\d+\.\d+$/.test(token.raw)) return false
  const [whole = "", fraction = ""] = token.groups
  return whole.length <= 2 || fraction.length <= 2
}

/** A letter, digit or underscore right before, or one joined by "-" or "/" ("B-204", "ID1234567", "ID/1234567"). */
const isGluedBefore = (before: string): boolean => /(?:[\p{L}\p{N}_]|[\p{L}\p{N}][-/])$/u.test(before)

/** A letter, digit or underscore right after ("1234567kg"), or "%" maybe after a space. */
const isGluedAfter = (after: string): boolean => /^(?:[\p{L}\p{N}_]| ?%)/u.test(after)

/** "#", "No", "Nr", "confession", "post" or "comment" just before: the bot's own ids, not phone numbers. */
const isReference = (before: string): boolean =>
  /(?:#|(?:^|[^\p{L}])(?:no|nr|num|confessions?|posts?|comments?)\.?) ?#? ?$/iu.test(before)

/** A currency sign or name next to the number: "$1 250 000", "15 000 000 ₽", "2 500 000 руб", "1 000 000 USD". */
const isAmount = (before: string, after: string): boolean =>
  /\p{Sc} ?$/u.test(before) ||
  /^ ?(?:\p{Sc}|(?:rub|руб|р\.|usd|eur|euros?|dollars?|грн|uah|kzt|тг|тенге|inr|rupees?|gbp|pounds?|yen|cny|yuan)(?![\p{L}]))/iu.test(
    after
  )

// ---- e-mail addresses -------------------------------------------------------------------------------------------
//
// local@domain.tld around each "@": a non-empty local part of letters, digits and ._%+-, and a domain of at least two
// labels whose last one is two letters or more. "me@" alone, "me@home" and "@ 5pm" are not addresses. Scans are
// bounded by the standard's limits (64 before the "@", 253 after), so a text of "@"s stays linear.

const hasEmail = (text: string): boolean => {
  for (let at = text.indexOf("@"); at >= 0; at = text.indexOf("@", at + 1)) {
    let start = at
    while (start > 0 && at - start < 64 && /[\p{L}\p{N}._%+-]/u.test(text[start - 1] ?? "")) start--
    const local = text.slice(start, at).replace(/^\.+/, "")
    let end = at + 1
    while (end < text.length && end - at <= 253 && /[\p{L}\p{N}.-]/u.test(text[end] ?? "")) end++
    const domain = text.slice(at + 1, end).replace(/[.-]+$/, "")
    if (local !== "" && !local.endsWith(".") && isDomain(domain)) return true
  }
  return false
}

const isDomain = (domain: string): boolean => {
  const labels = domain.split(".")
  const top = labels.at(-1) ?? ""
  return (
    labels.length >= 2 &&
    labels.every((label) => label !== "" && label.length <= 63 && !label.startsWith("-") && !label.endsWith("-")) &&
    /^\p{L}{2,63}$/u.test(top)
  )
}

// ---- @usernames -------------------------------------------------------------------------------------------------
//
// Telegram's rules: 5 to 32 characters of a-z, 0-9 and "_", starting with a letter, not ending with "_", no "__";
// case does not matter. The "@" must not follow a letter, digit or "_" (that is an e-mail address or "me@"). The
// 4-character collectible names are not flagged: "@home" and "@work" are far more common in stories than they are.

/** "@" not glued to a word, then the longest run of username characters (checked below). */
const mention = /(?<![\p{L}\p{N}_])@([A-Za-z0-9_]+)(?![\p{L}\p{N}])/gu

const hasUsername = (text: string): boolean => {
  for (const match of text.matchAll(mention)) {
    const name = match[1] ?? ""
    if (name.length >= 5 && name.length <= 32 && /^[A-Za-z]/.test(name) && !name.endsWith("_") && !name.includes("__")) {
      return true
    }
  }
  return false
}

// ---- Telegram links ---------------------------------------------------------------------------------------------
//
// t.me/…, telegram.me/… and telegram.dog/… (with or without https:// and www.), name.t.me, and tg:// links; only with
// something after the slash ("t.me" alone names nobody), and not inside another word ("art.me/x").

const telegramLink =
  /(?<![\p{L}\p{N}_.-])(?:(?:https?:\/\/)?(?:www\.)?(?:t|telegram)\.(?:me|dog)\/[A-Za-z0-9_+]|[A-Za-z][A-Za-z0-9_]{3,31}\.t\.me(?![\p{L}\p{N}_-])|tg:\/\/[A-Za-z])/iu

const hasLink = (text: string): boolean => telegramLink.test(text)

// ---- operator patterns ------------------------------------------------------------------------------------------
//
// PRIVACY_PATTERNS holds `name=regex` entries separated by ";", e.g.
//   PRIVACY_PATTERNS=student id=\bS\d{7}\b;staff card=\bST-\d{4,6}\b
// - The name is what the warning shows ("This looks like a student id"): 1 to 40 letters, digits, spaces, "_", "-"
//   or "'", starting with a letter or digit, not a built-in kind's name, not used twice (case is ignored).
// - The regular expression is JavaScript's, with the `u` flag; a leading `(?i)` makes it ignore case. Write ";" as
//   \x3B. Spaces around names and expressions are removed; write a meaningful edge space as \x20.
// - Because every message is matched against it, a pattern is refused when one hostile text could make it run for
//   ever: repetition must be bounded ({n} or {n,m} with m at most 64, no *, + or {n,}), a repeated group may not
//   contain repetition or alternatives, and back-references are not allowed. ID formats need none of these.
// - A pattern that matches an empty text is refused: it would flag every message.
// - Empty entries (a trailing ";") are ignored; an unset or blank variable means no patterns.

/** The largest repetition bound an operator pattern may use. */
export const maxRepetition = 64

export class MalformedEntry extends Data.TaggedClass("MalformedEntry")<{
  /** 1-based position in the list. */
  readonly entry: number
}> {}

export class InvalidName extends Data.TaggedClass("InvalidName")<{ readonly entry: number; readonly name: string }> {}

export class DuplicateName extends Data.TaggedClass("DuplicateName")<{ readonly entry: number; readonly name: string }> {}

export class InvalidRegex extends Data.TaggedClass("InvalidRegex")<{
  readonly entry: number
  readonly name: string
  /** The engine's own message. */
  readonly detail: string
}> {}

export class UnsafeRegex extends Data.TaggedClass("UnsafeRegex")<{
  readonly entry: number
  readonly name: string
  readonly why: string
}> {}

export class MatchesEmpty extends Data.TaggedClass("MatchesEmpty")<{ readonly entry: number; readonly name: string }> {}

export type PatternProblem = MalformedEntry | InvalidName | DuplicateName | InvalidRegex | UnsafeRegex | MatchesEmpty

/** Parses PRIVACY_PATTERNS; the first problem found fails the whole list, so start-up can name it. */
export const parsePatterns = (raw: string): Result.Result<ReadonlyArray<Pattern>, PatternProblem> => {
  const patterns: Array<Pattern> = []
  const names = new Set<string>(builtInKinds)
  const entries = raw.split(";")
  for (const [index, text] of entries.entries()) {
    if (text.trim() === "") continue
    const parsed = parseEntry(index + 1, text, names)
    if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
    names.add(parsed.success.name.toLowerCase())
    patterns.push(parsed.success)
  }
  return Result.succeed(patterns)
}

/** One line for the start-up error, naming the variable, the entry and the rule. */
export const describeProblem = (problem: PatternProblem): string => {
  const where = `PRIVACY_PATTERNS entry ${problem.entry}`
  switch (problem._tag) {
    case "MalformedEntry":
      return `${where}: expected name=regex`
    case "InvalidName":
      return `${where}: "${problem.name}" is not a valid name (1-40 letters, digits, spaces, _ - ', starting with a letter or digit)`
    case "DuplicateName":
      return `${where}: the name "${problem.name}" is already used (by a built-in kind or an earlier entry)`
    case "InvalidRegex":
      return `${where} ("${problem.name}"): invalid regular expression: ${problem.detail}`
    case "UnsafeRegex":
      return `${where} ("${problem.name}"): refused, ${problem.why}`
    case "MatchesEmpty":
      return `${where} ("${problem.name}"): matches an empty text, so it would flag every message`
  }
}

const namePattern = /^[\p{L}\p{N}][\p{L}\p{N} _'-]{0,39}$/u

const parseEntry = (
  entry: number,
  text: string,
  taken: ReadonlySet<string>
): Result.Result<Pattern, PatternProblem> => {
  const equals = text.indexOf("=")
  if (equals < 0) return Result.fail(new MalformedEntry({ entry }))
  const name = text.slice(0, equals).trim()
  let source = text.slice(equals + 1).trim()
  if (name === "" || source === "") return Result.fail(new MalformedEntry({ entry }))
  if (!namePattern.test(name)) return Result.fail(new InvalidName({ entry, name }))
  if (taken.has(name.toLowerCase())) return Result.fail(new DuplicateName({ entry, name }))
  const ignoreCase = source.startsWith("(?i)")
  if (ignoreCase) source = source.slice("(?i)".length)
  const compiled = Result.try({
    try: () => new RegExp(source, ignoreCase ? "iu" : "u"),
    catch: (error) => new InvalidRegex({ entry, name, detail: error instanceof Error ? error.message : String(error) })
  })
  if (Result.isFailure(compiled)) return Result.fail(compiled.failure)
  const why = unsafeConstruct(source)
  if (why !== undefined) return Result.fail(new UnsafeRegex({ entry, name, why }))
  if (compiled.success.test("")) return Result.fail(new MatchesEmpty({ entry, name }))
  return Result.succeed({ name: name as PatternName, regex: compiled.success })
}

/**
 * The first construct that could make matching super-linear, described for the operator, or `undefined`. Runs on a
 * source the engine has already accepted, so escapes, classes and groups are well formed.
 */
const unsafeConstruct = (source: string): string | undefined => {
  // For each open group: whether it contains variable repetition or alternatives so far.
  const groups: Array<{ risky: boolean }> = [{ risky: false }]
  let lastAtomRisky = false
  let index = 0
  while (index < source.length) {
    const char = source[index]
    if (char === "\\") {
      const next = source[index + 1] ?? ""
      if (/[1-9]/.test(next) || next === "k") return "back-references are not allowed"
      // \x3B, \u{1F600}, \p{L}: one atom whatever its length.
      const escape = /^\\(?:x[0-9A-Fa-f]{2}|u\{[0-9A-Fa-f]+\}|u[0-9A-Fa-f]{4}|[pP]\{[^}]*\}|c[A-Za-z]|.)/su.exec(
        source.slice(index)
      )
      index += escape?.[0].length ?? 2
      lastAtomRisky = false
    } else if (char === "[") {
      index = classEnd(source, index)
      lastAtomRisky = false
    } else if (char === "(") {
      groups.push({ risky: false })
      const prefix = /^\((?:\?(?:[:=!]|<[=!]|<[A-Za-z_$][\w$]*>))?/.exec(source.slice(index))
      index += prefix?.[0].length ?? 1
      continue
    } else if (char === ")") {
      const closed = groups.pop() ?? { risky: false }
      const parent = groups.at(-1)
      if (parent !== undefined && closed.risky) parent.risky = true
      lastAtomRisky = closed.risky
      index += 1
    } else if (char === "|") {
      const current = groups.at(-1)
      if (current !== undefined) current.risky = true
      index += 1
      continue
    } else {
      index += 1
      lastAtomRisky = false
    }
    // A quantifier may follow the atom just read.
    const quantifier = /^(?:[*+?]|\{(\d+)(,(\d*))?\})\??/.exec(source.slice(index))
    if (quantifier === null) continue
    const [text, min, comma, max] = quantifier
    if (text.startsWith("*") || text.startsWith("+") || (comma !== undefined && (max === undefined || max === ""))) {
      return `unbounded repetition (${text}) is not allowed; use {n,m} with m at most ${maxRepetition}`
    }
    const lower = text.startsWith("?") ? 0 : Number(min)
    const upper = text.startsWith("?") ? 1 : Number(comma === undefined ? min : max)
    if (upper > maxRepetition) return `repetition above ${maxRepetition} (${text}) is not allowed`
    if (upper > 1 && lastAtomRisky) return `a repeated group may not contain repetition or alternatives (${text})`
    // A fixed count ({3}) matches one way only; a range or "?" gives the engine choices, which repetition multiplies.
    const current = groups.at(-1)
    if (current !== undefined && lower !== upper) current.risky = true
    index += text.length
  }
  return undefined
}

/** The index just after the character class that starts at `start`: JavaScript ends it at the first unescaped "]". */
const classEnd = (source: string, start: number): number => {
  let index = start + 1
  while (index < source.length && source[index] !== "]") index += source[index] === "\\" ? 2 : 1
  return index + 1
}
