// The playground through its HTTP API and event stream, without a browser: the whole bot answers demo people, buttons
// press through, the channel fills, the API refuses what the page never sends, a reset starts an empty playground on
// the same address, a fresh one gets the demo content, and one on disk comes back after a restart.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option, type Scope } from "effect"
import type { Message } from "grammy/types"
import * as Fs from "node:fs/promises"
import * as Http from "node:http"
import * as Os from "node:os"
import * as Path from "node:path"
import { AppConfig } from "../../src/AppConfig.ts"
import * as Demo from "../../src/playground/Demo.ts"
import * as Playground from "../../src/playground/Playground.ts"
import * as TestPlayground from "../support/TestPlayground.ts"
import { button, messageIn } from "../support/TestPlayground.ts"

const { alice, bob, dana } = Demo

/** A message the bot sent (or posted in the channel) to `chatId`. */
const fromBot = (chatId: number, text: (t: string) => boolean) => (event: TestPlayground.PageEvent) =>
  messageIn(chatId, text)(event) &&
  ((event.data.message as Message).from?.is_bot === true || (event.data.message as Message).sender_chat !== undefined)

const live = <A, E>(name: string, body: () => Effect.Effect<A, E, Scope.Scope>) =>
  it.live(name, () => Effect.scoped(body()), { timeout: 120_000 })

/** GET with a chosen Host header (fetch does not let one set it). */
const statusWithHost = (url: string, path: string, host: string) =>
  Effect.callback<number>((resume) => {
    const request = Http.get(`${url}${path}`, { headers: { host } }, (response) => {
      response.resume()
      resume(Effect.succeed(response.statusCode ?? 0))
    })
    request.on("error", (error) => resume(Effect.die(error)))
  })

describe("Playground", () => {
  live("API - a student confesses, the admin approves, the post reaches the channel, another student opens its comments", () =>
    Effect.gen(function* () {
      const playground = yield* TestPlayground.start()
      const events = yield* playground.events
      const { data: state } = yield* events.next((e) => e.event === "state")
      assert.deepStrictEqual(
        state.people.map((p: { name: string; role: string }) => `${p.name}:${p.role}`),
        ["Alice:student", "Bob:student", "Dana:admin"]
      )
      const channel: number = state.channel.chatId
      const say = (who: Demo.DemoPerson, text: string) => playground.post("/api/send", { person: who.id, text })
      const press = (who: Demo.DemoPerson, message: Message, label: string) =>
        playground.post("/api/press", {
          person: who.id,
          chatId: message.chat.id,
          messageId: message.message_id,
          data: button(message, label)
        })

      assert.strictEqual((yield* say(alice, "/start")).status, 200)
      const greeting = yield* events.next(fromBot(alice.id, (t) => t.includes("Alice")))
      assert.deepStrictEqual(
        greeting.data.replyKeyboard.keyboard[0].map((key: { text: string }) => key.text),
        ["✍️ Confess", "👤 Profile", "ℹ️ Help"]
      )

      yield* say(alice, "✍️ Confess")
      yield* events.next(fromBot(alice.id, (t) => t.includes("Send me your confession")))
      yield* say(alice, "The library's third floor is the best-kept secret on campus.")
      const preview = yield* events.next(fromBot(alice.id, (t) => t.includes("Preview")))
      const seen = events.received.length
      assert.strictEqual((yield* press(alice, preview.data.message, "✅")).status, 200)
      const toast = yield* events.next((e) => e.event === "change" && e.data.kind === "answer" && e.data.chatId === alice.id, seen)
      assert.strictEqual(toast.data.text, "📨 Sent for review")
      assert.isFalse(toast.data.showAlert)

      // ADMIN_NOTIFY_JITTER is 0 in the playground: the admin hears of it at once.
      const notice = yield* events.next(fromBot(dana.id, (t) => t.includes("best-kept secret")))
      yield* press(dana, notice.data.message, "✅")
      const post = yield* events.next(fromBot(channel, (t) => t.includes("best-kept secret")))
      const postMessage = post.data.message as Message
      const link = postMessage.reply_markup?.inline_keyboard[0]?.[0]
      assert.isTrue(link !== undefined && "url" in link && link.url === `https://t.me/${Demo.bot.username}?start=c1`, JSON.stringify(link))
      // The notification is edited in place to show the outcome.
      yield* events.next((e) => messageIn(dana.id, (t) => t.includes("Approved"))(e) && e.data.message.message_id === notice.data.message.message_id)

      // The channel post's deep link, as the page follows it for the person chosen: `/start c1`.
      yield* say(bob, "/start c1")
      yield* events.next(fromBot(bob.id, (t) => t.includes("best-kept secret") && t.includes("No comments yet")))
    }))

  live("API - refuses unknown people, other people's chats, missing messages, foreign hosts and origins, non-JSON posts", () =>
    Effect.gen(function* () {
      const playground = yield* TestPlayground.start()
      const raw = (path: string, init: RequestInit) =>
        Effect.promise(() => fetch(`${playground.url}${path}`, init).then((response) => response.status))
      assert.strictEqual((yield* playground.post("/api/send", { person: 42, text: "hi" })).status, 400)
      assert.strictEqual((yield* playground.post("/api/send", { person: alice.id, text: "   " })).status, 400)
      assert.strictEqual((yield* playground.post("/api/send", { person: alice.id })).status, 400)
      assert.strictEqual((yield* playground.post("/api/press", { person: alice.id, chatId: bob.id, messageId: 1, data: "x" })).status, 400)
      assert.strictEqual((yield* playground.post("/api/press", { person: alice.id, chatId: alice.id, messageId: 99, data: "x" })).status, 404)
      assert.strictEqual((yield* playground.post("/api/send", { person: alice.id, text: "hi" }, { origin: "https://evil.example" })).status, 403)
      assert.strictEqual(
        yield* raw("/api/send", { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ person: alice.id, text: "hi" }) }),
        415
      )
      // A page of another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends its own Host.
      assert.strictEqual(yield* statusWithHost(playground.url, "/api/state", "attacker.example"), 403)
      assert.strictEqual(yield* statusWithHost(playground.url, "/api/state", "localhost"), 200)
      assert.strictEqual(yield* raw("/api/state", {}), 200)
      // The page's own files carry a policy that forbids inline and foreign scripts.
      const page = yield* Effect.promise(() => fetch(`${playground.url}/`))
      assert.include(page.headers.get("content-security-policy") ?? "", "script-src 'self'")
      const photo = yield* Effect.promise(() => fetch(`${playground.url}/api/files/photo-1001-5`).then((r) => r.text()))
      assert.match(photo, /^<svg /)
    }))

  live("API - a reset starts an empty playground on the same address; the page's stream sees a new session", () =>
    Effect.gen(function* () {
      const playground = yield* TestPlayground.start()
      const before = yield* playground.events
      const { data: first } = yield* before.next((e) => e.event === "state")
      yield* playground.post("/api/send", { person: alice.id, text: "/start" })
      yield* before.next(fromBot(alice.id, (t) => t.includes("Alice")))
      assert.strictEqual((yield* playground.post("/api/reset", {})).status, 202)
      // As EventSource does: connect again until the new session answers.
      type State = { readonly session: string; readonly chats: Array<{ readonly messages: Array<unknown> }> }
      let state: State | undefined
      for (let attempt = 0; attempt < 400 && state === undefined; attempt++) {
        const answer: State | undefined = yield* playground.state
        if (answer !== undefined && answer.session !== first.session) state = answer
        else yield* Effect.sleep("50 millis")
      }
      assert.isDefined(state)
      assert.deepStrictEqual(state?.chats.map((chat) => chat.messages.length), [0, 0, 0, 0])
      const after = yield* playground.events
      yield* playground.post("/api/send", { person: alice.id, text: "/start" })
      yield* after.next(fromBot(alice.id, (t) => t.includes("Alice")))
    }))

  live("seed - a fresh playground's channel shows the demo confessions, with comments and likes", () =>
    Effect.gen(function* () {
      const playground = yield* TestPlayground.start({ seed: true })
      const events = yield* playground.events
      const { data: state } = yield* events.next((e) => e.event === "state")
      const channel: number = state.channel.chatId
      for (const entry of Demo.seed) yield* events.next(fromBot(channel, (t) => t.includes(entry.text.slice(0, 30))))
      // The named one carries its author; the others say Anonymous.
      const posts = (yield* playground.state).chats.at(-1).messages as Array<Message>
      assert.strictEqual(posts.length, Demo.seed.length)
      assert.deepStrictEqual(
        posts.map((m) => (m.text ?? "").includes("Anonymous")),
        Demo.seed.map((entry) => entry.named !== true)
      )
      // Bob (who never took part) sees the first confession's comments, the liked one with its likes.
      yield* playground.post("/api/send", { person: bob.id, text: "/start c1" })
      const view = yield* events.next(fromBot(bob.id, (t) => t.includes("Legend")))
      assert.isTrue(
        (view.data.message as Message).reply_markup?.inline_keyboard.flat().some((key) => /👍 2$/u.test(key.text)),
        JSON.stringify(view.data.message.reply_markup)
      )
    }))

  live("on disk - the database and the chats survive a restart, and new messages are answered after it", () =>
    Effect.gen(function* () {
      const dataDir = yield* Effect.acquireRelease(
        Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "playground-test-"))),
        (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
      )
      const session = (check: (events: Effect.Success<ReturnType<typeof TestPlayground.client>["events"]>) => Effect.Effect<void>) =>
        Effect.scoped(
          Effect.gen(function* () {
            const playground = yield* TestPlayground.start({ onDisk: true, extraEnv: { DATA_DIR: dataDir } })
            const events = yield* playground.events
            yield* check(events)
            yield* playground.post("/api/send", { person: alice.id, text: "/profile" })
            yield* events.next(fromBot(alice.id, (t) => t.includes("Anonymity")))
          })
        )
      yield* session(() => Effect.void)
      yield* session((events) =>
        Effect.gen(function* () {
          const { data: state } = yield* events.next((e) => e.event === "state")
          const texts = (state.chats[0].messages as Array<Message>).map((m) => m.text ?? "")
          assert.strictEqual(texts[0], "/profile")
          assert.isTrue(texts.some((t) => t.includes("Anonymity")))
        })
      )
      const files = yield* Effect.promise(() => Fs.readdir(Path.join(dataDir, "playground")))
      assert.deepStrictEqual(files.sort(), ["chats.json", "db"])
    }))
})

describe("Playground.settingsFor", () => {
  it.effect("settingsFor - the emulator, the demo admin and channel, no jitter, loopback, never DATABASE_URL", () =>
    Effect.gen(function* () {
      const base = yield* AppConfig.pipe(
        Effect.provide(
          AppConfig.layerFromEnv({
            BOT_TOKEN: "1:real",
            DATABASE_URL: "postgres://somewhere/real",
            HTTP_HOST: "0.0.0.0",
            ADMIN_IDS: "5,6",
            CHANNEL_ID: "-1009",
            LOG_LEVEL: "debug"
          })
        )
      )
      const settings = Playground.settingsFor(base, { apiRoot: "http://127.0.0.1:1", token: "t", dataDir: "/tmp/x", port: 9 })
      assert.isTrue(Option.isNone(settings.databaseUrl))
      assert.deepStrictEqual(
        [settings.telegramApiRoot, settings.dataDir, settings.httpHost, settings.httpPort, settings.adminIds, settings.channelId],
        ["http://127.0.0.1:1", "/tmp/x", "127.0.0.1", 9, [dana.id], Option.some(Demo.channel)]
      )
      assert.strictEqual(Duration.toMillis(settings.adminNotifyJitter), 0)
      assert.strictEqual(settings.logLevel, "debug")
    }))
})
