// Helpers for Telegram's HTML parse mode: escaping user text, shortening it, and keeping a whole message within
// Telegram's 4,096-character limit without ever cutting an entity (`&amp;`) or leaving a tag open.
//
// How views use it:
//   1. User text goes in through `escape(raw)`, or `escapeTruncated(raw, max)` when only a preview is meant: the RAW
//      text is shortened first and escaped afterwards. Never `truncate` a string that is already HTML.
//   2. The finished message goes through `fitMessage(html)`, the last line of defence for texts that are long only
//      once a header, author line or several comments are added.
//
// Unit of length: UTF-16 code units (JavaScript's `string.length`), counted on the text as Telegram sees it after
// parsing (tags count 0, `&amp;` counts 1). Telegram measures message length and entity offsets in UTF-16 units;
// a string within N units is also within N code points, so the limit holds whichever way it is counted. Emoji outside
// the Basic Multilingual Plane count 2. Cuts happen only between grapheme clusters (falling back to code points for a
// single cluster longer than the budget), so a surrogate pair, a flag or a ZWJ emoji is never split.

/** Telegram's limit for a text message, in characters after entity parsing. */
export const messageLimit = 4096

/** Appended to anything shortened. One UTF-16 unit. */
export const ellipsis = "…"

/** Escapes `&`, `<`, `>` and `"` (the last for attribute values; harmless in text). */
export const escape = (text: string): string => text.replace(/[&<>"]/g, (char) => entities[char] ?? char)

/**
 * Shortens RAW text to at most `maxLength` UTF-16 units, ending with "…" (trailing whitespace before it is dropped)
 * when anything was cut. Text that fits is returned unchanged; `maxLength` below 1 gives "".
 */
export const truncate = (text: string, maxLength: number): string => {
  if (text.length <= maxLength) return text
  if (maxLength < 1) return ""
  return prefixWithin(text, maxLength - ellipsis.length).trimEnd() + ellipsis
}

/**
 * `escape(truncate(raw, maxLength))`: the result shows at most `maxLength` characters in Telegram, although the HTML
 * string itself is longer when it contains escaped characters.
 */
export const escapeTruncated = (raw: string, maxLength: number): string => escape(truncate(raw, maxLength))

/** The length Telegram counts for an HTML message: tags count 0, an entity counts as the character it stands for. */
export const visibleLength = (html: string): number => {
  let total = 0
  for (const token of tokens(html)) total += token.kind === "text" || token.kind === "entity" ? token.length : 0
  return total
}

/**
 * Returns `html` unchanged when it fits `limit` (default 4,096); otherwise cuts it at a token boundary so that the
 * kept text plus "…" fits, drops opening tags left with nothing inside, and closes every tag still open.
 * Expects the well-formed HTML our views build (user text escaped); a stray `<` or `&` is counted as text.
 */
export const fitMessage = (html: string, limit: number = messageLimit): string => {
  const max = Math.max(1, Math.floor(limit))
  if (visibleLength(html) <= max) return html
  const budget = max - ellipsis.length
  const kept: Array<Token> = []
  const open: Array<string> = []
  let used = 0
  for (const token of tokens(html)) {
    if (token.kind === "text") {
      const prefix = prefixWithin(token.raw, budget - used)
      if (prefix.length > 0) kept.push({ kind: "text", raw: prefix, length: prefix.length })
      used += prefix.length
      if (prefix.length < token.raw.length) break
    } else if (token.kind === "entity") {
      if (used + token.length > budget) break
      kept.push(token)
      used += token.length
    } else {
      kept.push(token)
      if (token.kind === "open") open.push(token.name)
      else {
        const at = open.lastIndexOf(token.name)
        if (at >= 0) open.splice(at, 1)
      }
    }
  }
  // An opening tag at the very end would wrap nothing but the ellipsis; the most recent one is the last kept token.
  while (kept.at(-1)?.kind === "open") {
    kept.pop()
    open.pop()
  }
  const closing = open.toReversed().map((name) => `</${name}>`)
  return kept.map((token) => token.raw).join("") + ellipsis + closing.join("")
}

/**
 * Splits `total` characters among texts of the given lengths: short texts get what they need, the long ones share
 * the rest equally (water-filling), so one long comment never squeezes the short ones. Returns one budget per text.
 */
export const allocate = (lengths: ReadonlyArray<number>, total: number): ReadonlyArray<number> => {
  const budgets = lengths.map(() => 0)
  let remaining = Math.max(0, Math.floor(total))
  const order = lengths.map((length, index) => ({ length, index })).sort((a, b) => a.length - b.length)
  order.forEach(({ length, index }, position) => {
    const share = Math.floor(remaining / (order.length - position))
    const given = Math.min(length, share)
    budgets[index] = given
    remaining -= given
  })
  return budgets
}

const entities: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }

type Token =
  | { readonly kind: "text"; readonly raw: string; readonly length: number }
  | { readonly kind: "entity"; readonly raw: string; readonly length: number }
  | { readonly kind: "open"; readonly raw: string; readonly name: string }
  | { readonly kind: "close"; readonly raw: string; readonly name: string }

// A tag (`<b>`, `</b>`, `<a href="…">`, `<span class="tg-spoiler">`) or an entity (`&amp;`, `&#128512;`, `&#x1F600;`).
const markup = /<(\/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?>|&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});/g

function* tokens(html: string): Generator<Token> {
  let last = 0
  for (const match of html.matchAll(markup)) {
    if (match.index > last) {
      const raw = html.slice(last, match.index)
      yield { kind: "text", raw, length: raw.length }
    }
    const [raw, slash, name, entity] = match
    if (entity !== undefined) yield { kind: "entity", raw, length: entityLength(entity) }
    else if (name !== undefined) yield { kind: slash === "/" ? "close" : "open", raw, name: name.toLowerCase() }
    last = match.index + raw.length
  }
  if (last < html.length) {
    const raw = html.slice(last)
    yield { kind: "text", raw, length: raw.length }
  }
}

// Named entities stand for one BMP character; a numeric one above U+FFFF for a surrogate pair.
const entityLength = (body: string): number => {
  if (!body.startsWith("#")) return 1
  const code = body[1] === "x" || body[1] === "X" ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10)
  return code > 0xffff ? 2 : 1
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" })

/** The longest prefix of `text` within `budget` UTF-16 units that ends on a grapheme boundary. */
const prefixWithin = (text: string, budget: number): string => {
  if (text.length <= budget) return text
  if (budget <= 0) return ""
  let end = 0
  for (const { segment } of graphemes.segment(text)) {
    if (end + segment.length > budget) break
    end += segment.length
  }
  // One cluster longer than the whole budget (e.g. a letter with hundreds of combining marks): cut between code
  // points instead, so the message is not emptied.
  if (end === 0) {
    for (const point of text) {
      if (end + point.length > budget) break
      end += point.length
    }
  }
  return text.slice(0, end)
}
