import { assert, describe, layer } from "@effect/vitest"
import { type Duration, Effect, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { UserId } from "../../src/domain/Ids.ts"
import { defaultRateLimits, Telegram } from "../../src/services/Telegram.ts"
import { Users } from "../../src/services/Users.ts"
import { BotApiEmulator, token } from "../../src/emulator/BotApiEmulator.ts"
import { usersOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const telegram = Layer.unwrap(
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const users = yield* Users
    return Telegram.layer({
      token,
      apiRoot: fake.apiRoot,
      rateLimits: defaultRateLimits,
      backoffBase: "100 millis",
      onBlocked: users.markInactive
    })
  })
)

const world = telegram.pipe(Layer.provideMerge(Layer.mergeAll(BotApiEmulator.layer(), usersOnDatabase())))

/** Moves the TestClock forward until the forked call completes (each step lets real HTTP happen in between). */
const driveClock = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.Input) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      if (fiber.pollUnsafe() !== undefined) break
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

describe("Telegram", () => {
  layer(world, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("sendMessage - sends HTML without link previews and returns the message id", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const tg = yield* Telegram
        const id = yield* tg.sendMessage(10, "<b>hi</b>", { replyMarkup: { inline_keyboard: [[{ text: "x", callback_data: "1:n" }]] } })
        assert.isTrue(id > 0)
        const [call] = fake.callsTo("sendMessage").slice(-1)
        assert.strictEqual(call?.body.parse_mode, "HTML")
        assert.deepStrictEqual(call?.body.link_preview_options, { is_disabled: true })
        assert.deepStrictEqual(call?.body.reply_markup, { inline_keyboard: [[{ text: "x", callback_data: "1:n" }]] })
      }))

    it.effect("sendMessage - 429 waits retry_after, then succeeds", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const tg = yield* Telegram
        fake.script("sendMessage", {
          status: 429,
          body: { ok: false, error_code: 429, description: "Too Many Requests: retry after 7", parameters: { retry_after: 7 } }
        }, { when: (body) => body.chat_id === 429 })
        const fiber = yield* Effect.forkChild(tg.sendMessage(429, "retry me"))
        yield* fake.waitForCall((c) => c.method === "sendMessage" && c.body.chat_id === 429)
        yield* TestClock.adjust("6 seconds")
        assert.strictEqual(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === 429).length, 1)
        const id = yield* driveClock(fiber, "1 second")
        assert.isTrue(id > 0)
        assert.strictEqual(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === 429).length, 2)
      }))

    it.effect("sendMessage - two 5xx answers are retried with back-off, the third try succeeds", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const tg = yield* Telegram
        fake.script("sendMessage", { status: 502, body: { ok: false, error_code: 502, description: "Bad Gateway" } }, {
          times: 2,
          when: (body) => body.chat_id === 502
        })
        const fiber = yield* Effect.forkChild(tg.sendMessage(502, "flaky"))
        const id = yield* driveClock(fiber, "100 millis")
        assert.isTrue(id > 0)
        assert.strictEqual(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === 502).length, 3)
      }))

    it.effect("sendMessage - a 5xx that persists fails ServerError after 3 retries", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const tg = yield* Telegram
        fake.script("sendMessage", { status: 500, body: { ok: false, error_code: 500, description: "Internal" } }, {
          times: 10,
          when: (body) => body.chat_id === 500
        })
        const fiber = yield* Effect.forkChild(Effect.flip(tg.sendMessage(500, "down")))
        const error = yield* driveClock(fiber, "200 millis")
        assert.strictEqual(error.reason._tag, "ServerError")
        assert.strictEqual(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === 500).length, 4)
      }))

    it.effect("sendMessage - 400 is not retried", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const tg = yield* Telegram
        fake.script("sendMessage", { status: 400, body: { ok: false, error_code: 400, description: "Bad Request: chat not found" } }, {
          when: (body) => body.chat_id === 400
        })
        const error = yield* Effect.flip(tg.sendMessage(400, "nope"))
        assert.strictEqual(error.reason._tag, "BadRequest")
        assert.strictEqual(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === 400).length, 1)
      }))

    it.effect("sendMessage - 403 'blocked by the user' marks the user inactive, without retry", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const tg = yield* Telegram
        const users = yield* Users
        yield* users.register({ id: UserId.make(403), firstName: "Gone", lastName: undefined, username: undefined })
        fake.script("sendMessage", { status: 403, body: { ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" } }, {
          when: (body) => body.chat_id === 403
        })
        const error = yield* Effect.flip(tg.sendMessage(403, "hello?"))
        assert.strictEqual(error.reason._tag, "Forbidden")
        assert.strictEqual(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === 403).length, 1)
        const user = yield* users.get(UserId.make(403))
        assert.deepStrictEqual(Option.map(user, (u) => u.inactive), Option.some(true))
      }))

    it.effect("editMessageText - 'message is not modified' counts as success", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const tg = yield* Telegram
        fake.script("editMessageText", {
          status: 400,
          body: { ok: false, error_code: 400, description: "Bad Request: message is not modified" }
        })
        yield* tg.editMessageText(10, 5, "same")
      }))

    it.effect("editMessageReplyMarkup - sends only the keyboard; 'message is not modified' counts as success", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const tg = yield* Telegram
        const keyboard = { inline_keyboard: [[{ text: "1. 👍 2", callback_data: "1:lk:9" }]] }
        const id = yield* tg.sendMessage(11, "a comment", { replyMarkup: { inline_keyboard: [[{ text: "1. 👍 1", callback_data: "1:lk:9" }]] } })
        yield* tg.editMessageReplyMarkup(11, id, keyboard)
        const [call] = fake.callsTo("editMessageReplyMarkup").slice(-1)
        assert.deepStrictEqual(
          [call?.body.chat_id, call?.body.message_id, call?.body.reply_markup, call?.body.text],
          [11, id, keyboard, undefined]
        )
        // The same keyboard again: Telegram (and the emulator) answer "message is not modified".
        yield* tg.editMessageReplyMarkup(11, id, keyboard)
        assert.strictEqual(fake.callsTo("editMessageReplyMarkup").filter((c) => c.body.message_id === id).length, 2)
        // A chat where no such message exists (and whose rate-limit burst is untouched).
        const error = yield* Effect.flip(tg.editMessageReplyMarkup(12, id, keyboard))
        assert.strictEqual(error.reason._tag, "BadRequest")
        assert.include(error.message, "message to edit not found")
      }))

    it.effect("sendMessage - a private chat gets a burst of 3, then one message per second", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const tg = yield* Telegram
        const chat = 4242
        const fiber = yield* Effect.forkChild(
          Effect.forEach([1, 2, 3, 4, 5], (n) => tg.sendMessage(chat, `m${n}`), { discard: true })
        )
        yield* fake.waitUntil(() => fake.callsTo("sendMessage").filter((c) => c.body.chat_id === chat).length >= 3)
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
        assert.strictEqual(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === chat).length, 3)
        yield* driveClock(fiber, "500 millis")
        assert.strictEqual(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === chat).length, 5)
      }))
  })

  layer(Layer.empty)("network", (it) => {
    it.effect("getMe - a refused connection is a NetworkError after retries", () =>
      Effect.gen(function* () {
        const tg = yield* Telegram
        const fiber = yield* Effect.forkChild(Effect.flip(tg.getMe))
        const error = yield* driveClock(fiber, "1 second")
        assert.strictEqual(error.reason._tag, "NetworkError")
      }).pipe(
        Effect.provide(
          Telegram.layer({ token, apiRoot: "http://127.0.0.1:9", rateLimits: defaultRateLimits, backoffBase: "100 millis" })
        )
      ))
  })
})
