// Telegram's HTML parse mode, as the Bot API server applies it: the supported tags become message entities over the
// plain text (offsets in UTF-16 units), `&lt; &gt; &amp; &quot;` and numeric references are decoded (an unknown
// `&name;` stays as typed), and anything else is refused with the server's own "can't parse entities" wording.
// Follows tdlib's parse_html, so a bot that passes here is not surprised by Telegram.
import type { MessageEntity } from "grammy/types"

export type Parsed =
  | { readonly _tag: "Parsed"; readonly text: string; readonly entities: ReadonlyArray<MessageEntity> }
  | { readonly _tag: "Invalid"; readonly description: string }

const supported = new Set([
  "a",
  "b",
  "strong",
  "i",
  "em",
  "s",
  "strike",
  "del",
  "u",
  "ins",
  "tg-spoiler",
  "tg-emoji",
  "span",
  "pre",
  "code",
  "blockquote"
])

interface Open {
  readonly tag: string
  readonly offset: number
  readonly attribute: string | undefined
  /** Opening order: equal ranges list the outer tag first. */
  readonly order: number
}

/** Parses `html` as Telegram does; `Invalid.description` is what follows "Bad Request: " in Telegram's answer. */
export const parse = (html: string): Parsed => {
  let text = ""
  const found: Array<{ readonly entity: MessageEntity; readonly order: number }> = []
  const open: Array<Open> = []
  let opened = 0
  let i = 0
  const n = html.length
  const fail = (message: string): Parsed => ({ _tag: "Invalid", description: `can't parse entities: ${message}` })
  const byteOffset = (index: number) => Buffer.byteLength(html.slice(0, index))
  while (i < n) {
    const c = html.charCodeAt(i)
    if (c === 38 /* & */) {
      const decoded = decodeEntity(html, i)
      if (decoded === undefined) {
        text += "&"
        i++
      } else {
        text += decoded.char
        i = decoded.end
      }
      continue
    }
    if (c !== 60 /* < */) {
      // Copy the run of plain characters at once.
      let j = i + 1
      while (j < n) {
        const d = html.charCodeAt(j)
        if (d === 38 || d === 60) break
        j++
      }
      text += html.slice(i, j)
      i = j
      continue
    }
    const begin = i
    i++
    if (html[i] !== "/") {
      const nameStart = i
      while (i < n && !isSpace(html.charCodeAt(i)) && html[i] !== ">") i++
      if (i >= n) return fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`)
      const tag = html.slice(nameStart, i).toLowerCase()
      if (!supported.has(tag)) return fail(`Unsupported start tag "${tag}" at byte offset ${byteOffset(begin)}`)
      let attribute: string | undefined
      while (html[i] !== ">") {
        while (i < n && isSpace(html.charCodeAt(i))) i++
        if (i >= n) return fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`)
        if (html[i] === ">") break
        const nameBegin = i
        while (i < n && !isSpace(html.charCodeAt(i)) && html[i] !== "=" && html[i] !== ">") i++
        const name = html.slice(nameBegin, i).toLowerCase()
        if (name.length === 0) return fail(`Empty attribute name in the tag "${tag}" at byte offset ${byteOffset(begin)}`)
        while (i < n && isSpace(html.charCodeAt(i))) i++
        if (html[i] !== "=") {
          // A bare attribute is allowed only as blockquote's "expandable".
          if (tag === "blockquote" && name === "expandable") {
            attribute = "expandable"
            continue
          }
          return fail(`Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${byteOffset(begin)}`)
        }
        i++
        while (i < n && isSpace(html.charCodeAt(i))) i++
        if (i >= n) return fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`)
        let value = ""
        const quote = html[i]
        if (quote === '"' || quote === "'") {
          i++
          const close = html.indexOf(quote, i)
          if (close < 0) return fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`)
          value = decodeAll(html.slice(i, close))
          i = close + 1
        } else {
          const valueBegin = i
          while (i < n && isUnquotedValue(html.charCodeAt(i))) i++
          value = html.slice(valueBegin, i)
          if (i >= n) return fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`)
        }
        if (
          (tag === "a" && name === "href") ||
          (tag === "code" && name === "class") ||
          (tag === "span" && name === "class") ||
          (tag === "tg-emoji" && name === "emoji-id") ||
          (tag === "pre" && name === "language")
        ) {
          attribute = value
        }
      }
      if (tag === "span" && attribute !== "tg-spoiler") {
        return fail(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(begin)}`)
      }
      if (tag === "tg-emoji" && (attribute === undefined || !/^\d+$/.test(attribute))) {
        return fail(`Custom emoji entity must contain a valid custom emoji identifier at byte offset ${byteOffset(begin)}`)
      }
      i++
      open.push({ tag, offset: text.length, attribute, order: opened++ })
      continue
    }
    i++
    const nameStart = i
    while (i < n && html[i] !== ">") i++
    if (i >= n) return fail(`Unclosed end tag at byte offset ${byteOffset(begin)}`)
    const tag = html.slice(nameStart, i).trim().toLowerCase()
    i++
    const top = open.pop()
    if (top === undefined) return fail(`Unexpected end tag at byte offset ${byteOffset(begin)}`)
    if (top.tag !== tag) {
      return fail(`Unmatched end tag at byte offset ${byteOffset(begin)}, expected "</${top.tag}>", found "</${tag}>"`)
    }
    const length = text.length - top.offset
    if (length > 0) {
      const entity = entityOf(top, length, open)
      if (entity !== undefined) found.push({ entity, order: top.order })
    }
  }
  const unclosed = open.at(-1)
  if (unclosed !== undefined) return fail(`Can't find end tag corresponding to start tag "${unclosed.tag}"`)
  found.sort((a, b) => a.entity.offset - b.entity.offset || b.entity.length - a.entity.length || a.order - b.order)
  return { _tag: "Parsed", text, entities: found.map((f) => f.entity) }
}

const entityOf = (tag: Open, length: number, enclosing: ReadonlyArray<Open>): MessageEntity | undefined => {
  const offset = tag.offset
  switch (tag.tag) {
    case "b":
    case "strong":
      return { type: "bold", offset, length }
    case "i":
    case "em":
      return { type: "italic", offset, length }
    case "u":
    case "ins":
      return { type: "underline", offset, length }
    case "s":
    case "strike":
    case "del":
      return { type: "strikethrough", offset, length }
    case "span":
    case "tg-spoiler":
      return { type: "spoiler", offset, length }
    case "tg-emoji":
      return { type: "custom_emoji", offset, length, custom_emoji_id: tag.attribute ?? "" }
    case "a": {
      const href = tag.attribute
      if (href === undefined || href.length === 0) return undefined
      const mention = /^tg:\/\/user\?id=(\d+)$/.exec(href)
      if (mention !== null) {
        return { type: "text_mention", offset, length, user: { id: Number(mention[1]), is_bot: false, first_name: "" } }
      }
      return { type: "text_link", offset, length, url: href }
    }
    case "code": {
      // <pre><code class="language-x"> is a pre block with a language; the pre itself carries the entity.
      const parent = enclosing.at(-1)
      if (parent?.tag === "pre") return undefined
      return { type: "code", offset, length }
    }
    case "pre": {
      return tag.attribute === undefined ? { type: "pre", offset, length } : { type: "pre", offset, length, language: tag.attribute }
    }
    case "blockquote":
      return tag.attribute === "expandable"
        ? { type: "expandable_blockquote", offset, length }
        : { type: "blockquote", offset, length }
    default:
      return undefined
  }
}

const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' }

/** tdlib's decode_html_entity: the `;` is optional; anything unrecognised is not an entity. */
const decodeEntity = (html: string, at: number): { readonly char: string; readonly end: number } | undefined => {
  let end = at + 1
  let code = 0
  if (html[end] === "#") {
    end++
    if (html[end] === "x" || html[end] === "X") {
      end++
      const digitsStart = end
      while (end < html.length && /[0-9a-fA-F]/.test(html[end] ?? "")) {
        code = code * 16 + parseInt(html[end] ?? "0", 16)
        if (code >= 0x10ffff) return undefined
        end++
      }
      if (end === digitsStart) return undefined
    } else {
      const digitsStart = end
      while (end < html.length && /[0-9]/.test(html[end] ?? "")) {
        code = code * 10 + Number(html[end])
        if (code >= 0x10ffff) return undefined
        end++
      }
      if (end === digitsStart) return undefined
    }
    if (code === 0 || end - at >= 10) return undefined
    if (html[end] === ";") end++
    return { char: String.fromCodePoint(code), end }
  }
  while (end < html.length && /[A-Za-z]/.test(html[end] ?? "")) end++
  const char = named[html.slice(at + 1, end)]
  if (char === undefined) return undefined
  if (html[end] === ";") end++
  return { char, end }
}

const decodeAll = (value: string): string => {
  if (!value.includes("&")) return value
  let out = ""
  let i = 0
  while (i < value.length) {
    if (value[i] === "&") {
      const decoded = decodeEntity(value, i)
      if (decoded !== undefined) {
        out += decoded.char
        i = decoded.end
        continue
      }
    }
    out += value[i]
    i++
  }
  return out
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11

const isUnquotedValue = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 45 || c === 95
