// The playground's page in a real browser (Debian's Chromium driven by playwright-core), as a visitor uses it: /start
// as a student, confess, approve as the admin, see the post in the channel, open its comments through the post's deep
// link as the other student, comment, like. The confession carries hostile markup, which must show as typed and never
// run. Screenshots of each step go to test-results/playground/. Skipped only where /usr/bin/chromium is missing (CI
// installs it).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { chromium, type Locator, type Page } from "playwright-core"
import * as TestPlayground from "../support/TestPlayground.ts"

const executablePath = "/usr/bin/chromium"
const hasChromium = Fs.existsSync(executablePath)
if (!hasChromium) console.warn(`Page.test.ts skipped: no ${executablePath} (apt-get install -y chromium)`)

export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

const output = Path.resolve("test-results", "playground")

const hostile = [
  "Exam week confession:",
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  '<a href="javascript:alert(1)">free pizza</a>'
].join(" ")

const sample = {
  text: "bold italic under strike secret code block link evil quote @someone <b>typed</b>",
  entities: [
    { type: "bold", offset: 0, length: 11 },
    { type: "italic", offset: 5, length: 6 },
    { type: "underline", offset: 12, length: 5 },
    { type: "strikethrough", offset: 18, length: 6 },
    { type: "spoiler", offset: 25, length: 6 },
    { type: "code", offset: 32, length: 4 },
    { type: "pre", offset: 37, length: 5, language: "js" },
    { type: "text_link", offset: 43, length: 4, url: "https://example.org/x" },
    { type: "text_link", offset: 48, length: 4, url: "javascript:alert(1)" },
    { type: "blockquote", offset: 53, length: 5 },
    { type: "mention", offset: 59, length: 8 }
  ],
  html:
    "<strong>bold <em>italic</em></strong> <u>under</u> <s>strike</s> " +
    '<span class="spoiler" tabindex="0" role="button" aria-pressed="false" title="Spoiler: press to reveal">secret</span> ' +
    "<code>code</code> <pre><code>block</code></pre> " +
    '<a href="https://example.org/x" target="_blank" rel="noopener noreferrer">link</a> <span>evil</span> ' +
    "<blockquote>quote</blockquote> @someone &lt;b&gt;typed&lt;/b&gt;"
}

describe("Page", () => {
  it("page code - builds the DOM from text nodes only: no HTML parsing, no eval", () => {
    const dir = Path.resolve("src", "playground", "page")
    for (const name of Fs.readdirSync(dir).filter((file) => file.endsWith(".js"))) {
      const code = Fs.readFileSync(Path.join(dir, name), "utf8")
      for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setHTML", "createContextualFragment"]) {
        assert.notInclude(code, sink, `${name} uses ${sink}`)
      }
    }
    const html = Fs.readFileSync(Path.join(dir, "index.html"), "utf8")
    assert.notMatch(html, /<script(?![^>]*\bsrc=)/, "no inline script")
    assert.notMatch(html, /\son[a-z]+=/i, "no inline event handlers")
  })

  it.live.skipIf(!hasChromium)(
    "in Chromium - confess, approve, see the post, comment through its deep link, like; hostile text shows as typed",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const playground = yield* TestPlayground.start()
          const started = Date.now()
          yield* Effect.promise(() => drive(playground.url))
          console.log(`Page.test.ts: browser session took ${((Date.now() - started) / 1000).toFixed(1)} s`)
        })
      ),
    { timeout: 60_000 }
  )
})

/** Waits until `within` shows `text` (the newest match). */
const see = (within: Locator, text: string | RegExp) => within.getByText(text).last().waitFor({ timeout: 15_000 })

const drive = async (url: string) => {
  Fs.mkdirSync(output, { recursive: true })
  const userDataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "playground-chromium-"))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1280, height: 860 }
  })
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    const dialogs: Array<string> = []
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message())
      void dialog.dismiss()
    })
    const errors: Array<string> = []
    page.on("pageerror", (error) => errors.push(error.message))
    let shots = 0
    const shot = (name: string) => page.screenshot({ path: Path.join(output, `${String(++shots).padStart(2, "0")}-${name}.png`) })
    const chat = page.locator("#chat-log")
    const channel = page.locator("#channel-log")
    const toast = page.locator("#toast")
    const send = async (page: Page, text: string) => {
      await page.locator("#text").fill(text)
      await page.locator("#text").press("Enter")
    }

    await page.goto(url)
    await page.locator("body[data-ready=true]").waitFor()
    assert.deepStrictEqual(await page.getByRole("tab").allInnerTexts(), ["Alice student", "Bob student", "Dana admin"])
    assert.include(await page.locator("#notes").innerText(), "ADMIN_NOTIFY_JITTER=0")
    await see(channel, "Nothing posted yet")
    await shot("empty")

    // The renderer, in this browser: Telegram's HTML subset (as entities) becomes those elements, nested as given;
    // a link keeps only an http(s) or tg address; entity types outside the subset stay plain text.
    const rendered = await page.evaluate(`(async () => {
      const { renderText } = await import("/page/render.js")
      const holder = document.createElement("div")
      holder.append(renderText(${JSON.stringify(sample.text)}, ${JSON.stringify(sample.entities)}))
      return holder.innerHTML
    })()`)
    assert.strictEqual(rendered, sample.html)

    // Alice: /start, then the reply keyboard's ✍️ Confess.
    assert.strictEqual(await page.getByLabel("Message to the bot as Alice").count(), 1)
    await send(page, "/start")
    await see(chat, "Welcome to the confessions bot")
    await page.locator("#reply-keyboard").getByRole("button", { name: "✍️ Confess" }).click()
    await see(chat, "Send me your confession")
    await send(page, hostile)
    await see(chat, "Submit it for review?")
    // Typed and previewed: the markup is text in both bubbles, never elements.
    assert.strictEqual(await chat.getByText("<script>alert(1)</script>", { exact: false }).count(), 2)
    await chat.getByRole("button", { name: "✅ Submit" }).click()
    await see(toast, "📨 Sent for review")
    await see(chat, "Confession #1 is waiting for review")
    await shot("confessed")

    // Dana: the notification came at once (no jitter in the playground); approve it.
    await page.getByRole("tab", { name: /Dana/ }).click()
    assert.strictEqual(await page.getByLabel("Message to the bot as Dana").count(), 1)
    await see(chat, "Confession #1 is waiting for review")
    await chat.getByRole("button", { name: "✅ Approve" }).click()
    await see(toast, /Approved/)
    // The notification is edited in place: same bubble, new text, no buttons.
    await see(chat, "✅ Approved by an admin")
    assert.strictEqual(await chat.locator(".message").count(), 1)
    assert.strictEqual(await chat.locator(".edited").count(), 1)
    const post = channel.locator(".message", { hasText: "#1" })
    await post.waitFor()
    const postText = await post.locator(".text").innerText()
    assert.include(postText, hostile)
    assert.include(postText, "— Anonymous")
    assert.strictEqual(await post.locator(".text strong").innerText(), "#1", "the header is bold, nothing else is markup")
    await shot("approved")

    // Bob follows the post's "💬 View / Add Comments" deep link: `/start c1` in his chat.
    await page.getByRole("tab", { name: /Bob/ }).click()
    await post.getByRole("link", { name: /View \/ Add Comments/ }).click()
    await see(chat, "/start c1")
    await see(chat, "No comments yet")
    await chat.getByRole("button", { name: "➕ Add comment" }).click()
    await see(chat, "Send your comment on confession #1")
    await send(page, "Free pizza would make exam week bearable.")
    await see(chat, "Your comment on confession #1 is posted")
    await chat.getByRole("button", { name: "💬 View comments" }).last().click()
    await see(chat, "Free pizza would make exam week bearable.")
    await chat.getByRole("button", { name: "1. 👍 0" }).click()
    await see(toast, "👍 Liked")
    await chat.getByRole("button", { name: "1. 👍 1" }).waitFor()
    await shot("commented")

    // Alice heard of the approval and the comment while Bob was chosen.
    assert.match(await page.getByRole("tab", { name: /Alice/ }).innerText(), /Alice student 2/)
    await page.getByRole("tab", { name: /Alice/ }).click()
    await see(chat, "Someone commented on your confession #1")

    // A photo confession: the preview, the admin's copy and the channel post show it as an image (the playground
    // draws a placeholder for any file_id).
    await send(page, "/confess")
    await see(chat, "Send me your confession")
    await page.getByText("Send something else").click()
    await page.locator("#text").fill("Sunset from the library roof")
    await page.getByRole("button", { name: /Photo/ }).click()
    const preview = chat.locator(".message.incoming", { hasText: "Submit it for review?" }).last()
    await preview.locator("img.photo").waitFor()
    await preview.getByRole("button", { name: "✅ Submit" }).click()
    await see(toast, "📨 Sent for review")
    await page.getByRole("tab", { name: /Dana/ }).click()
    await chat.locator(".message", { hasText: "Sunset from the library roof" }).getByRole("button", { name: "✅ Approve" }).click()
    const photoPost = channel.locator(".message", { hasText: "Sunset from the library roof" }).locator("img.photo")
    await photoPost.waitFor()
    // Runs in the page; this project's TypeScript has no DOM types, hence the shape.
    const loaded = await photoPost.evaluate((img) => {
      const image = img as unknown as { readonly complete: boolean; readonly naturalWidth: number }
      return image.complete && image.naturalWidth > 0
    })
    assert.isTrue(loaded, "the placeholder loaded")
    await shot("photo")

    // The person switcher works from the keyboard: arrows move between people, and wrap.
    await page.getByRole("tab", { name: /Dana/ }).focus()
    await page.keyboard.press("ArrowRight")
    assert.strictEqual(await page.getByRole("tab", { selected: true }).innerText(), "Alice student")
    assert.strictEqual(await page.evaluate("document.activeElement?.id"), "person-1001")

    // Nothing hostile ran or became an element anywhere on the page.
    assert.deepStrictEqual(dialogs, [])
    assert.deepStrictEqual(errors, [])
    assert.strictEqual(await page.locator("main script, main img[src='x'], main a[href^='javascript']").count(), 0)
    assert.include(await channel.innerText(), "<img src=x onerror=alert(1)>")
  } finally {
    await context.close()
    Fs.rmSync(userDataDir, { recursive: true, force: true })
  }
}
