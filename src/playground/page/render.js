// Telegram messages to DOM, as a Telegram client shows them: the text with its entities (the bot's HTML, already
// parsed by the emulator exactly as Telegram parses it) built from text nodes and a fixed set of elements. No HTML
// string is ever parsed here, so text a person typed can only ever show as typed. Entity types outside Telegram's HTML
// subset show as plain text; links keep only http, https and tg addresses.

/** Entity type → how it is drawn. */
const kinds = {
  bold: () => plain("strong"),
  italic: () => plain("em"),
  underline: () => plain("u"),
  strikethrough: () => plain("s"),
  code: () => plain("code"),
  pre: () => {
    const outer = document.createElement("pre")
    const inner = document.createElement("code")
    outer.append(inner)
    return { outer, inner }
  },
  blockquote: () => plain("blockquote"),
  expandable_blockquote: () => plain("blockquote"),
  spoiler: () => {
    const span = document.createElement("span")
    span.className = "spoiler"
    span.tabIndex = 0
    span.setAttribute("role", "button")
    span.setAttribute("aria-pressed", "false")
    span.title = "Spoiler: press to reveal"
    return { outer: span, inner: span }
  },
  text_link: (entity) => {
    const url = safeUrl(entity.url)
    if (url === undefined) return plain("span")
    const a = document.createElement("a")
    a.href = url
    a.target = "_blank"
    a.rel = "noopener noreferrer"
    return { outer: a, inner: a }
  }
}

const plain = (tag) => {
  const element = document.createElement(tag)
  return { outer: element, inner: element }
}

/** The address when it is http, https or tg; `undefined` for anything else (javascript:, data:, relative…). */
export const safeUrl = (value) => {
  if (typeof value !== "string") return undefined
  let url
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  return url.protocol === "http:" || url.protocol === "https:" || url.protocol === "tg:" ? url.href : undefined
}

/**
 * A fragment showing `text` with `entities` (offsets in UTF-16 units, as JavaScript strings count). The text is cut at
 * every entity boundary; each piece is wrapped in the entities covering it, outermost first, reusing the elements
 * the previous piece opened, so nested entities nest and overlapping ones are split.
 */
export const renderText = (text, entities) => {
  const fragment = document.createDocumentFragment()
  const source = typeof text === "string" ? text : ""
  const spans = (Array.isArray(entities) ? entities : [])
    .filter((e) => e && Object.hasOwn(kinds, e.type) && Number.isInteger(e.offset) && Number.isInteger(e.length))
    .filter((e) => e.offset >= 0 && e.length > 0 && e.offset + e.length <= source.length)
    .map((entity, order) => ({ entity, start: entity.offset, end: entity.offset + entity.length, order }))
    .sort((a, b) => a.start - b.start || b.end - a.end || a.order - b.order)
  const cuts = new Set([0, source.length])
  for (const span of spans) {
    cuts.add(span.start)
    cuts.add(span.end)
  }
  const points = [...cuts].sort((a, b) => a - b)
  const open = []
  for (let k = 0; k + 1 < points.length; k++) {
    const from = points[k]
    const to = points[k + 1]
    const covering = spans.filter((span) => span.start <= from && span.end >= to)
    let kept = 0
    while (kept < open.length && kept < covering.length && open[kept].span === covering[kept]) kept++
    open.length = kept
    for (let j = kept; j < covering.length; j++) {
      const drawn = kinds[covering[j].entity.type](covering[j].entity)
      const parent = j === 0 ? fragment : open[j - 1].inner
      parent.append(drawn.outer)
      open.push({ span: covering[j], inner: drawn.inner })
    }
    const parent = open.length === 0 ? fragment : open[open.length - 1].inner
    parent.append(document.createTextNode(source.slice(from, to)))
  }
  return fragment
}
