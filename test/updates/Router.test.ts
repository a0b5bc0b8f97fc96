// The router through the real pipeline: which route an update reaches, and what the error boundary answers.
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { Update } from "grammy/types"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import * as Conversation from "../../src/domain/Conversation.ts"
import { ConfessionId, UserId } from "../../src/domain/Ids.ts"
import { ConversationStore } from "../../src/services/ConversationStore.ts"
import { Telegram } from "../../src/services/Telegram.ts"
import { Reply, Router } from "../../src/updates/Router.ts"
import { adminsOnly, staleButton, temporaryProblem } from "../../src/views/Messages.ts"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import { callback, editedText, person, text } from "../../src/emulator/Updates.ts"

/** Answers every route with a message naming it, so tests can see where an update went. */
const probe = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const telegram = yield* Telegram
    const say = (chatId: number, what: string) => Effect.asVoid(telegram.sendMessage(chatId, what))
    yield* router.onCommand(["ping", "start"], (c) => say(c.chatId, `command ${c.command} [${c.args}]`))
    yield* router.onCommand("secret", (c) => say(c.chatId, "secret"), { adminOnly: true })
    yield* router.onCommand("refuse", () => Effect.fail(new Reply({ text: "no &lt;thanks&gt;" })))
    yield* router.onCommand("hang", () => Effect.never)
    yield* router.onButtonText("🏓 Ping", "ping")
    yield* router.onDeepLink((c) => say(c.chatId, `deep link ${c.link._tag} ${c.link.confessionId}`))
    yield* router.onState("AwaitingFeedback", (c) => say(c.chatId, `state ${c.state._tag}: ${c.text ?? "media"}`))
    yield* router.onCallback("Approve", (c) =>
      Effect.andThen(say(c.chatId, `approve ${c.action.confessionId}`), Effect.asVoid(telegram.answerCallbackQuery(c.callbackQueryId)))
    , { adminOnly: true })
    yield* router.onCallback("Noop", (c) => Effect.asVoid(telegram.answerCallbackQuery(c.callbackQueryId, { text: "noop" })))
    yield* router.onFallback((c) => say(c.chatId, `fallback: ${c.text ?? "media"}`))
  })
)

const app = Layer.unwrap(
  Effect.gen(function* () {
    return TestApp.layer({
      features: probe,
      env: { HANDLER_TIMEOUT: "1 second" },
      database: TestDatabase.layer()
    })
  })
).pipe(Layer.provideMerge(BotApiEmulator.layer()))

const reply = (chatId: number) =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const before = fake.callsTo("sendMessage").filter((c) => c.body.chat_id === chatId).length
    return Effect.map(
      fake.waitUntil(() => fake.callsTo("sendMessage").filter((c) => c.body.chat_id === chatId).length > before),
      () => String(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === chatId).at(-1)?.body.text)
    )
  })

const ask = (update: Update, chatId: number) =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const next = yield* reply(chatId)
    fake.push(update)
    return yield* next
  })

describe("Router", () => {
  layer(app, { timeout: "120 seconds", excludeTestServices: true })(TestDatabase.backend, (it) => {
    const ann = person(50_001, "Ann", "ann")

    it.effect("route - commands with arguments, @botname suffix, and reply-keyboard aliases", () =>
      Effect.gen(function* () {
        assert.strictEqual(yield* ask(text(ann, "/ping hello  world "), ann.id), "command ping [hello  world]")
        assert.strictEqual(yield* ask(text(ann, "/PING@confessions_test_bot"), ann.id), "command ping []")
        assert.strictEqual(yield* ask(text(ann, "🏓 Ping"), ann.id), "command ping []")
      }))

    it.effect("route - /start with a valid deep link opens it; with junk it is plain /start", () =>
      Effect.gen(function* () {
        assert.strictEqual(yield* ask(text(ann, "/start c42"), ann.id), "deep link OpenComments 42")
        assert.strictEqual(yield* ask(text(ann, "/start c0"), ann.id), "command start [c0]")
        assert.strictEqual(yield* ask(text(ann, "/start"), ann.id), "command start []")
      }))

    it.effect("route - text in a flow reaches the state's handler; a command still wins", () =>
      Effect.gen(function* () {
        const store = yield* ConversationStore
        yield* store.set(UserId.make(ann.id), Conversation.awaitingFeedback)
        assert.strictEqual(yield* ask(text(ann, "my thoughts"), ann.id), "state AwaitingFeedback: my thoughts")
        assert.strictEqual(yield* ask(text(ann, "/ping"), ann.id), "command ping []")
        yield* store.clear(UserId.make(ann.id))
        assert.strictEqual(yield* ask(text(ann, "my thoughts"), ann.id), "fallback: my thoughts")
        assert.strictEqual(yield* ask(text(ann, "/nosuchcommand"), ann.id), "fallback: /nosuchcommand")
      }))

    it.effect("route - admin-only commands and buttons answer 'admins only' to everyone else", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        assert.strictEqual(yield* ask(text(ann, "/secret"), ann.id), adminsOnly)
        const admin = person(TestApp.admins.bea, "Bea")
        assert.strictEqual(yield* ask(text(admin, "/secret"), admin.id), "secret")
        const forged = callback(ann, CallbackData.toString(CallbackData.Approve({ confessionId: ConfessionId.make(7) })))
        fake.push(forged)
        const answered = yield* fake.waitForCall((c) => c.method === "answerCallbackQuery" && c.body.callback_query_id === forged.callback_query?.id)
        assert.strictEqual(answered.body.text, adminsOnly)
        assert.isFalse(fake.callsTo("sendMessage").some((c) => c.body.text === "approve 7"))
      }))

    it.effect("route - forged or unknown callback data gets a short answer, never a crash", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        for (const data of ["garbage", "1:ap:-1", "9:ap:1", "1:zz:1", ""]) {
          const press = callback(ann, data)
          fake.push(press)
          const answered = yield* fake.waitForCall(
            (c) => c.method === "answerCallbackQuery" && c.body.callback_query_id === press.callback_query?.id
          )
          assert.strictEqual(answered.body.text, staleButton, data)
        }
      }))

    it.effect("route - a Reply is shown as written; a hanging handler is cut off with the apology", () =>
      Effect.gen(function* () {
        assert.strictEqual(yield* ask(text(ann, "/refuse"), ann.id), "no &lt;thanks&gt;")
        assert.strictEqual(yield* ask(text(ann, "/hang"), ann.id), temporaryProblem)
        assert.strictEqual(yield* ask(text(ann, "/ping after"), ann.id), "command ping [after]")
      }))

    it.effect("route - edited messages and group chatter are ignored silently but acknowledged", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const before = fake.callsTo("sendMessage").length
        const edited = editedText(ann, "changed my mind")
        const group = text(ann, "/ping in a group")
        const groupUpdate = { ...group, message: { ...group.message!, chat: { id: -500, type: "group" as const, title: "G" } } }
        fake.push(edited, groupUpdate)
        // Ann's updates run in order, so once her next ping is answered the two before it were handled.
        assert.strictEqual(yield* ask(text(ann, "/ping last"), ann.id), "command ping [last]")
        assert.strictEqual(fake.callsTo("sendMessage").length, before + 1)
      }))
  })
})
