import { assert, describe, it } from "@effect/vitest"
import * as TelegramHtml from "../../src/emulator/TelegramHtml.ts"

describe("TelegramHtml", () => {
  it("parse - tags become entities over the plain text, offsets in UTF-16 units", () => {
    const cases: ReadonlyArray<readonly [string, string, ReadonlyArray<unknown>]> = [
      ["plain", "plain", []],
      ["<b>bold</b> <i>it</i>", "bold it", [{ type: "bold", offset: 0, length: 4 }, { type: "italic", offset: 5, length: 2 }]],
      ["<STRONG>x</STRONG><em>y</em>", "xy", [{ type: "bold", offset: 0, length: 1 }, { type: "italic", offset: 1, length: 1 }]],
      ["😀<u>u</u>", "😀u", [{ type: "underline", offset: 2, length: 1 }]],
      ["<s>a</s><del>b</del><strike>c</strike><ins>d</ins>", "abcd", [
        { type: "strikethrough", offset: 0, length: 1 },
        { type: "strikethrough", offset: 1, length: 1 },
        { type: "strikethrough", offset: 2, length: 1 },
        { type: "underline", offset: 3, length: 1 }
      ]],
      ['<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st", [
        { type: "spoiler", offset: 0, length: 1 },
        { type: "spoiler", offset: 1, length: 1 }
      ]],
      ['<a href="https://t.me/x?start=c1&amp;y=2">link</a>', "link", [
        { type: "text_link", offset: 0, length: 4, url: "https://t.me/x?start=c1&y=2" }
      ]],
      ["<code>c</code><pre>p</pre><blockquote>q</blockquote>", "cpq", [
        { type: "code", offset: 0, length: 1 },
        { type: "pre", offset: 1, length: 1 },
        { type: "blockquote", offset: 2, length: 1 }
      ]],
      ['<pre><code class="language-ts">let</code></pre>', "let", [{ type: "pre", offset: 0, length: 3 }]],
      ["<b><i>both</i></b>", "both", [{ type: "bold", offset: 0, length: 4 }, { type: "italic", offset: 0, length: 4 }]],
      ["&lt;b&gt; &amp; &quot;q&quot; &#39;&#x41;", `<b> & "q" 'A`, []],
      ["&nbsp; &copy and &", "&nbsp; &copy and &", []],
      ["&lt no semicolon", "< no semicolon", []],
      ["<b></b>empty", "empty", []]
    ]
    for (const [html, text, entities] of cases) {
      const parsed = TelegramHtml.parse(html)
      assert.deepStrictEqual(parsed, { _tag: "Parsed", text, entities: entities as never }, html)
    }
  })

  it("parse - what Telegram refuses, in Telegram's words", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["a <br> b", 'Unsupported start tag "br" at byte offset 2'],
      ["1 < 2", 'Unsupported start tag "" at byte offset 2'],
      ["é<script>x</script>", 'Unsupported start tag "script" at byte offset 2'],
      ["<b>open", `Can't find end tag corresponding to start tag "b"`],
      ["close</b>", "Unexpected end tag at byte offset 5"],
      ["<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'],
      ["<b", "Unclosed start tag at byte offset 0"],
      ["<b>x</b", "Unclosed end tag at byte offset 4"],
      ['<span class="other">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'],
      ['<a href="x>y</a>', "Unclosed start tag at byte offset 0"],
      ["<a href>y</a>", 'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0']
    ]
    for (const [html, problem] of cases) {
      assert.deepStrictEqual(TelegramHtml.parse(html), { _tag: "Invalid", description: `can't parse entities: ${problem}` }, html)
    }
  })
})
