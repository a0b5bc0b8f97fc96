// Makes scripts/playground/playground.png, the README's picture of the playground: a fresh playground in memory with
// its demo content, Alice writing a confession (the preview on screen) and the channel beside it, photographed by
// Debian's Chromium. Run: `node scripts/playground/screenshot.ts` (needs /usr/bin/chromium; emoji need an emoji font
// such as fonts-noto-color-emoji).
import { NodeRuntime } from "@effect/platform-node"
import { ConfigProvider, Deferred, Duration, Effect, Option } from "effect"
import * as Path from "node:path"
import { chromium } from "playwright-core"
import * as Database from "../../src/sql/Database.ts"
import * as Playground from "../../src/playground/Playground.ts"

const output = Path.join(import.meta.dirname, "playground.png")

const env = { HTTP_PORT: "0", LOG_LEVEL: "warn", LOG_FORMAT: "json" }

const program = Effect.gen(function* () {
  const ready = yield* Deferred.make<string>()
  yield* Playground.run({
    reset: false,
    seed: true,
    database: Database.layerClient({
      url: Option.none(),
      dataDir: undefined,
      poolMax: 1,
      connectionTtl: Duration.minutes(5),
      acquireTimeout: Duration.seconds(30)
    }),
    onReady: (url) => Deferred.succeed(ready, url).pipe(Effect.asVoid)
  }).pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))), Effect.forkScoped)
  const url = yield* Deferred.await(ready)
  yield* Effect.promise(() => photograph(url))
  yield* Effect.logInfo(`wrote ${output}`)
}).pipe(Effect.scoped)

const photograph = async (url: string) => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
  })
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 })
    await page.goto(url)
    await page.locator("body[data-ready=true]").waitFor()
    // The demo content arrives live: wait for the third post.
    await page.locator("#channel-log .message", { hasText: "#3" }).waitFor({ timeout: 60_000 })
    const send = async (text: string) => {
      await page.locator("#text").fill(text)
      await page.locator("#text").press("Enter")
    }
    await send("/start")
    await page.locator("#chat-log").getByText("Welcome").waitFor()
    await page.locator("#reply-keyboard").getByRole("button", { name: "✍️ Confess" }).click()
    await page.locator("#chat-log").getByText("Send me your confession").waitFor()
    await send(
      "Our robotics team finished the project at 3 a.m. and celebrated with vending-machine noodles. " +
        "Best night of the semester, and nobody will ever know it was my idea to skip the documentation. 🤖🍜"
    )
    await page.locator("#chat-log").getByText("Submit it for review?").waitFor()
    await page.locator("#text").blur()
    await page.screenshot({ path: output })
  } finally {
    await browser.close()
  }
}

NodeRuntime.runMain(program)
