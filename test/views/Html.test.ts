import { assert, describe, it } from "@effect/vitest"
import * as Html from "../../src/views/Html.ts"

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

// What Telegram shows for HTML our escape produced: the inverse of `escape`, tags removed.
const shown = (html: string) =>
  html.replace(/<[^<>]*>/g, "").replace(/&(lt|gt|quot|amp);/g, (_, name: string) =>
    ({ lt: "<", gt: ">", quot: '"', amp: "&" })[name as "lt" | "gt" | "quot" | "amp"])

// Every `&` starts a whole entity, every `<` a whole tag, and tags are balanced.
const assertWellFormed = (html: string) => {
  assert.notMatch(html, /&(?!(?:amp|lt|gt|quot|#[0-9]+|#x[0-9a-fA-F]+);)/, "cut entity")
  const open: Array<string> = []
  for (const [, slash, name] of html.matchAll(/<(\/?)([a-z-]+)[^<>]*>/g)) {
    if (slash === "/") assert.strictEqual(open.pop(), name, "closing tag out of order")
    else open.push(name ?? "")
  }
  assert.deepStrictEqual(open, [], "tag left open")
  assert.notMatch(html.replace(/<[^<>]*>/g, ""), /[<>]/, "cut tag")
  assert.notMatch(html, loneSurrogate, "split surrogate pair")
}

describe("Html", () => {
  it("escape - shows markup and ampersands as typed", () => {
    assert.strictEqual(Html.escape("<b>&"), "&lt;b&gt;&amp;")
    assert.strictEqual(Html.escape('<a href="https://evil.example">pay</a>'), "&lt;a href=&quot;https://evil.example&quot;&gt;pay&lt;/a&gt;")
    assert.strictEqual(Html.escape("&amp;"), "&amp;amp;")
    assert.strictEqual(Html.escape("plain text, emoji 😀, Кирилица"), "plain text, emoji 😀, Кирилица")
    assert.strictEqual(Html.escape(""), "")
  })

  it("truncate - returns text that fits unchanged", () => {
    assert.strictEqual(Html.truncate("hello", 5), "hello")
    assert.strictEqual(Html.truncate("hello", 100), "hello")
    assert.strictEqual(Html.truncate("", 0), "")
  })

  it("truncate - shortens with an ellipsis within the limit, dropping whitespace before it", () => {
    assert.strictEqual(Html.truncate("hello world", 7), "hello…")
    assert.strictEqual(Html.truncate("hello world", 10), "hello wor…")
    assert.strictEqual(Html.truncate("hello", 1), "…")
    assert.strictEqual(Html.truncate("hello", 0), "")
    assert.strictEqual(Html.truncate("hello", -3), "")
  })

  it("truncate - never splits a surrogate pair, a flag or a ZWJ emoji", () => {
    const text = "a😀b🇺🇦c👨‍👩‍👧d" + "😀".repeat(20)
    for (let max = 0; max <= text.length; max++) {
      const result = Html.truncate(text, max)
      assert.isAtMost(result.length, max)
      assert.notMatch(result, loneSurrogate, `max ${max}`)
      const kept = result.endsWith("…") && result !== text ? result.slice(0, -1) : result
      assert.isTrue(text.startsWith(kept), `max ${max}: ${result}`)
    }
    assert.strictEqual(Html.truncate("😀😀😀", 4), "😀…")
    assert.strictEqual(Html.truncate("ab🇺🇦cd", 5), "ab…")
    assert.strictEqual(Html.truncate("ab👨‍👩‍👧cd", 9), "ab…")
  })

  it("truncate - cuts inside one overlong grapheme cluster rather than dropping everything", () => {
    const zalgo = "a" + "\u0301".repeat(100)
    const result = Html.truncate(zalgo, 10)
    assert.strictEqual(result, "a" + "\u0301".repeat(8) + "…")
  })

  it("escapeTruncated - truncates the raw text first, so no entity is cut", () => {
    const raw = "<&>".repeat(10)
    for (let max = 1; max <= raw.length; max++) {
      const html = Html.escapeTruncated(raw, max)
      assertWellFormed(html)
      assert.isAtMost(Html.visibleLength(html), max)
      assert.strictEqual(shown(html), Html.truncate(raw, max))
    }
  })

  it("escapeTruncated - a 10,000-character hostile input fits one message", () => {
    const raw = "<b>&amp;😀".repeat(1000)
    assert.strictEqual(raw.length, 10_000)
    const html = Html.escapeTruncated(raw, Html.messageLimit)
    assert.isAtMost(Html.visibleLength(html), Html.messageLimit)
    assertWellFormed(html)
    assert.isTrue(raw.startsWith(shown(html).slice(0, -1)))
  })

  it("visibleLength - counts what Telegram counts after parsing, in UTF-16 units", () => {
    assert.strictEqual(Html.visibleLength("<b>a&amp;b</b>"), 3)
    assert.strictEqual(Html.visibleLength('<a href="https://t.me/x?start=c1">go</a>'), 2)
    assert.strictEqual(Html.visibleLength("😀"), 2)
    assert.strictEqual(Html.visibleLength("&#128512;&#x1F600;&#65;"), 5)
    assert.strictEqual(Html.visibleLength("a < b & c"), 9)
  })

  it("fitMessage - returns a message that fits unchanged", () => {
    const html = "<b>#1</b>\n" + Html.escape("x".repeat(4000)) + "\n<i>Anonymous</i>"
    assert.strictEqual(Html.fitMessage(html), html)
    const exact = "<b>" + "y".repeat(Html.messageLimit) + "</b>"
    assert.strictEqual(Html.fitMessage(exact), exact)
  })

  it("fitMessage - a 10,000-character message fits 4,096 with its tags closed and no entity cut", () => {
    const html = "<b>#12</b>\n<i>" + Html.escape("<b>&amp;😀".repeat(1000)) + "</i>\n— Anonymous"
    const fitted = Html.fitMessage(html)
    assert.isAtMost(Html.visibleLength(fitted), Html.messageLimit)
    assert.isAtLeast(Html.visibleLength(fitted), Html.messageLimit - 2)
    assertWellFormed(fitted)
    assert.isTrue(fitted.startsWith("<b>#12</b>\n<i>&lt;b&gt;&amp;amp;😀"))
    assert.isTrue(fitted.endsWith("…</i>"))
  })

  it("fitMessage - closes nested tags in reverse order", () => {
    const fitted = Html.fitMessage('<blockquote><a href="https://x.example">hello world</a> tail</blockquote>', 6)
    assert.strictEqual(fitted, '<blockquote><a href="https://x.example">hello…</a></blockquote>')
  })

  it("fitMessage - stops before an entity that does not fit instead of cutting it", () => {
    const fitted = Html.fitMessage("&amp;".repeat(5000))
    assert.strictEqual(fitted, "&amp;".repeat(Html.messageLimit - 1) + "…")
  })

  it("fitMessage - drops an opening tag that would wrap only the ellipsis", () => {
    const fitted = Html.fitMessage("x".repeat(Html.messageLimit - 1) + "<b>yy</b>")
    assert.strictEqual(fitted, "x".repeat(Html.messageLimit - 1) + "…")
  })

  it("fitMessage - never splits an emoji at the limit", () => {
    const fitted = Html.fitMessage("😀".repeat(3000))
    assert.strictEqual(fitted, "😀".repeat(2047) + "…")
    assert.notMatch(fitted, loneSurrogate)
  })

  it("allocate - short texts whole, long ones share the rest, never more than the total", () => {
    assert.deepStrictEqual(Html.allocate([10, 1000, 20], 100), [10, 70, 20])
    assert.deepStrictEqual(Html.allocate([1000, 1000], 101), [50, 51])
    assert.deepStrictEqual(Html.allocate([5, 5], 100), [5, 5])
    assert.deepStrictEqual(Html.allocate([5], -3), [0])
    assert.deepStrictEqual(Html.allocate([], 100), [])
  })
})
