// The courier against the fake Bot API, on a real database, with the TestClock driving back-offs, leases and waits:
// what is committed goes out at least once, what fails is retried as Telegram asks, what cannot be sent ends.
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as BotCall from "../../src/domain/BotCall.ts"
import { UserId } from "../../src/domain/Ids.ts"
import { AdminNotifications } from "../../src/services/AdminNotifications.ts"
import { ChannelPosts } from "../../src/services/ChannelPosts.ts"
import { Courier } from "../../src/services/Courier.ts"
import { type RateLimits, Telegram } from "../../src/services/Telegram.ts"
import { Users } from "../../src/services/Users.ts"
import { Outbox } from "../../src/sql/Outbox.ts"
import * as Messages from "../../src/views/Messages.ts"
import { type ApiCall, BotApiEmulator, token } from "../../src/emulator/BotApiEmulator.ts"
import { duringUpdate, newConfession, newUser, unlimited, usersOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const channel = "-1001234567890"

/** The courier and its helpers over the shared database, talking to a fresh fake, on this test's clock. */
const world = (adminIds: ReadonlyArray<number>, rateLimits: RateLimits = unlimited) =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const users = yield* Users
    const telegram = Telegram.layer({
      token,
      apiRoot: fake.apiRoot,
      rateLimits,
      backoffBase: "10 millis",
      onBlocked: users.markInactive
    })
    // No delivery fiber: `settle` delivers, so moving the clock never lands in the middle of a round. The gauges'
    // refresh (a query every 15 s) would make every hour the clock moves cost 240 queries: once a day here.
    const courier = Courier.layer({
      texts: { channelPostFailing: Messages.channelPostFailing },
      background: false,
      statsInterval: "1 day"
    }).pipe(
      Layer.provideMerge(AdminNotifications.layer({ adminIds, jitter: "60 seconds" })),
      Layer.provideMerge(Outbox.layer),
      Layer.provideMerge(telegram)
    )
    const built = yield* Layer.build(ChannelPosts.layer(Option.some(channel)).pipe(Layer.provideMerge(courier)))
    return {
      fake,
      courier: Context.get(built, Courier),
      admins: Context.get(built, AdminNotifications),
      posts: Context.get(built, ChannelPosts)
    }
  })

const sentTo = (calls: ReadonlyArray<ApiCall>, chatId: number | string) =>
  calls.filter((call) => call.method === "sendMessage" && String(call.body.chat_id) === String(chatId))

describe("Courier", () => {
  layer(usersOnDatabase(), { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("commit - the answer goes out right after the commit; notices wait for their due time", () =>
      Effect.gen(function* () {
        const { fake, courier, admins } = yield* world([900_101, 900_102])
        const user = yield* newUser()
        yield* courier
          .commit(
            Effect.gen(function* () {
              yield* courier.answer([BotCall.sendMessage(user.id, "stored, thank you")])
              yield* admins.notify("test:commit", { text: "a new thing" }, { delayed: true })
            })
          )
          .pipe(duringUpdate(700_001))
        // The answer went out inline, before any round.
        assert.deepStrictEqual(sentTo(fake.calls, user.id).map((call) => call.body.text), ["stored, thank you"])
        yield* courier.settle
        assert.strictEqual(sentTo(fake.calls, 900_101).length, 0, "the admins' notices wait for their random delay")
        yield* TestClock.adjust("60 seconds")
        yield* courier.settle
        assert.deepStrictEqual(
          [900_101, 900_102].map((admin) => sentTo(fake.calls, admin).map((call) => call.body.text)),
          [["a new thing"], ["a new thing"]]
        )
        // Nothing twice, however often the courier looks again.
        yield* TestClock.adjust("10 minutes")
        yield* courier.settle
        assert.strictEqual(sentTo(fake.calls, user.id).length + sentTo(fake.calls, 900_101).length, 2)
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("commit - a failed write stores no message; a redelivered update stores none twice", () =>
      Effect.gen(function* () {
        const { fake, courier } = yield* world([])
        const user = yield* newUser()
        const failing = courier.commit(
          Effect.andThen(courier.answer([BotCall.sendMessage(user.id, "never")]), Effect.fail("the write failed" as const))
        )
        assert.strictEqual(yield* Effect.flip(failing), "the write failed")
        const once = courier.commit(courier.answer([BotCall.sendMessage(user.id, "once")])).pipe(duringUpdate(700_002))
        yield* once
        assert.strictEqual((yield* Effect.flip(once))._tag, "AlreadyProcessed")
        yield* courier.settle
        assert.deepStrictEqual(sentTo(fake.calls, user.id).map((call) => call.body.text), ["once"])
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("answer - a 5xx on the inline send: the courier delivers it, exactly once", () =>
      Effect.gen(function* () {
        const { fake, courier } = yield* world([])
        const user = yield* newUser()
        fake.script("sendMessage", { status: 502, body: { ok: false, error_code: 502, description: "Bad Gateway" } }, {
          when: (body) => body.chat_id === user.id
        })
        yield* courier.commit(courier.answer([BotCall.sendMessage(user.id, "your comment is posted")])).pipe(duringUpdate(700_003))
        yield* courier.settle
        const sent = sentTo(fake.calls, user.id)
        assert.deepStrictEqual(sent.map((call) => call.body.text), ["your comment is posted", "your comment is posted"])
        // The first of the two is the 502; the row is delivered once and never again.
        yield* TestClock.adjust("1 hour")
        yield* courier.settle
        assert.strictEqual(sentTo(fake.calls, user.id).length, 2)
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("a chat's rate limit - its backlog waits in order, other chats' messages go out at once, no attempt spent", () =>
      Effect.gen(function* () {
        // One message a second per private chat, after a burst of 3: Telegram's pace.
        const { fake, courier } = yield* world([], { ...unlimited, privateChatPerSecond: 1, privateChatBurst: 3 })
        const busy = yield* newUser()
        const other = yield* newUser()
        const notice = (key: string, chatId: number, text: string) =>
          ({ key, kind: "notice", call: BotCall.sendMessage(chatId, text) }) as const
        const texts = (chatId: number) => sentTo(fake.calls, chatId).map((call) => call.body.text)
        yield* courier
          .commit(courier.send(Array.from({ length: 10 }, (_, i) => notice(`test:busy:${i}`, busy.id, `busy ${i}`))))
          .pipe(duringUpdate(700_020))
        yield* courier.commit(courier.send([notice("test:other", other.id, "for the other chat")])).pipe(duringUpdate(700_021))
        // No time has passed: the burst and the other chat's message are out; the rest waits for its chat's limit
        // instead of holding up the round.
        yield* courier.settle
        assert.deepStrictEqual(texts(busy.id), ["busy 0", "busy 1", "busy 2"])
        assert.deepStrictEqual(texts(other.id), ["for the other chat"])
        for (let second = 0; second < 8; second++) {
          yield* TestClock.adjust("1 second")
          yield* courier.settle
        }
        assert.deepStrictEqual(texts(busy.id), Array.from({ length: 10 }, (_, i) => `busy ${i}`), "all, in order, once")
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ attempts: number }>`select attempts from outbox where dedupe_key like 'test:busy:%'`
        assert.deepStrictEqual(rows.map((row) => row.attempts), Array.from({ length: 10 }, () => 1), "waiting is not an attempt")
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("429 storm - 200 admins' notices all delivered, none twice, nothing sent before retry_after ends", () =>
      Effect.gen(function* () {
        const admins = Array.from({ length: 200 }, (_, index) => 910_000 + index)
        const world_ = yield* world(admins)
        const { fake, courier } = world_
        const tooMany = { status: 429, body: { ok: false, error_code: 429, description: "Too Many Requests: retry after 7", parameters: { retry_after: 7 } } }
        fake.script("sendMessage", tooMany, { times: 60 })
        yield* courier.commit(world_.admins.notify("test:storm", { text: "storm" })).pipe(duringUpdate(700_004))
        yield* courier.settle
        const afterStorm = fake.callsTo("sendMessage").length
        // Telegram said to wait 7 seconds: nothing goes out before.
        yield* TestClock.adjust("6 seconds")
        yield* courier.settle
        assert.strictEqual(fake.callsTo("sendMessage").length, afterStorm)
        for (let i = 0; i < 20; i++) {
          yield* TestClock.adjust("7 seconds")
          yield* courier.settle
        }
        // Every admin got it; 60 calls were refused with 429, so 260 calls in all and no admin got it twice.
        assert.strictEqual(fake.callsTo("sendMessage").length, 260)
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ status: string; n: unknown }>`
          select status, count(*) as n from outbox where topic = 'test:storm' group by status`
        assert.deepStrictEqual(rows.map((row) => [row.status, Number(row.n)]), [["delivered", 200]])
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("channel post - refused for 25 hours: retried, the admins alerted once, posted when it works again", () =>
      Effect.gen(function* () {
        const { fake, courier, posts } = yield* world([900_201, 900_202])
        const author = yield* newUser()
        const confession = yield* newConfession(author.id)
        let channelDown = true
        fake.script(
          "sendMessage",
          { status: 400, body: { ok: false, error_code: 400, description: "Bad Request: not enough rights to send text messages" } },
          { times: 100_000, when: (body) => channelDown && String(body.chat_id) === channel }
        )
        yield* courier.commit(
          posts.post(confession, { call: (chatId) => BotCall.sendMessage(chatId, `<b>#${confession}</b>`) })
        )
        // Three hours in 5-minute steps: the back-off grows to its 5-minute cap; then a day in hourly steps, each
        // of which sees a try (fewer steps keep the test quick: each one is a round over HTTP and SQL).
        for (let minutes = 0; minutes < 3 * 60; minutes += 5) {
          yield* TestClock.adjust("5 minutes")
          yield* courier.settle
        }
        assert.isAbove(sentTo(fake.calls, channel).length, 25, "retried at most every 5 minutes")
        for (let hours = 3; hours < 25; hours++) {
          const before = sentTo(fake.calls, channel).length
          yield* TestClock.adjust("1 hour")
          yield* courier.settle
          assert.strictEqual(sentTo(fake.calls, channel).length, before + 1, `still tried after ${hours + 1} hours`)
        }
        const tries = sentTo(fake.calls, channel).length
        for (const admin of [900_201, 900_202]) {
          const alerts = sentTo(fake.calls, admin)
          assert.strictEqual(alerts.length, 1, "one alert per admin")
          assert.include(String(alerts[0]?.body.text), `Confession #${confession} is approved, but the channel refuses its post`)
        }
        channelDown = false
        yield* TestClock.adjust("5 minutes")
        yield* courier.settle
        const sql = yield* SqlClient.SqlClient
        const [row] = yield* sql<{ channelMessageId: unknown }>`select channel_message_id from confessions where id = ${confession}`
        assert.isAbove(Number(row?.channelMessageId), 0, "posted, and the post's id remembered")
        assert.strictEqual(sentTo(fake.calls, channel).length, tries + 1)
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("withdraw - a post not sent yet is stopped; a sent one is deleted", () =>
      Effect.gen(function* () {
        const { fake, courier, posts } = yield* world([])
        const author = yield* newUser()
        const early = yield* newConfession(author.id)
        // The channel is briefly unavailable: the post waits for its retry when the confession is deleted.
        fake.script("sendMessage", { status: 502, body: { ok: false, error_code: 502, description: "Bad Gateway" } }, {
          when: (body) => String(body.chat_id) === channel
        })
        yield* courier.commit(posts.post(early, { call: (chatId) => BotCall.sendMessage(chatId, "early") }))
        yield* courier.settle
        assert.strictEqual(sentTo(fake.calls, channel).length, 1, "the refused attempt")
        const hadEarly = yield* courier.commit(posts.withdraw(early, Option.none()))
        yield* TestClock.adjust("1 hour")
        yield* courier.settle
        assert.isFalse(hadEarly, "never sent, nothing to delete")
        assert.strictEqual(sentTo(fake.calls, channel).length, 1, "and never sent later")
        assert.strictEqual(fake.callsTo("deleteMessage").length, 0)

        const late = yield* newConfession(author.id)
        yield* courier.commit(posts.post(late, { call: (chatId) => BotCall.sendMessage(chatId, "late") }))
        yield* courier.settle
        assert.strictEqual(sentTo(fake.calls, channel).length, 2)
        assert.isTrue(yield* courier.commit(posts.withdraw(late, Option.none())))
        yield* courier.settle
        const deleted = fake.callsTo("deleteMessage")
        assert.strictEqual(deleted.length, 1)
        assert.strictEqual(String(deleted[0]?.body.chat_id), channel)
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("close - copies not sent yet are not sent; sent copies are edited; a blocked admin's row fails", () =>
      Effect.gen(function* () {
        const { fake, courier, admins } = yield* world([900_301, 900_302])
        fake.script("sendMessage", { status: 403, body: { ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" } }, {
          when: (body) => body.chat_id === 900_302
        })
        yield* courier.commit(admins.notify("test:close", { text: "decide" }))
        yield* courier.settle
        // A copy still waiting for its delay when the subject closes (as `notify` stores it, with a known delay).
        yield* courier.commit(
          courier.send([
            {
              key: "test:close-early:notice:900301",
              kind: "admin_notice",
              topic: "test:close-early",
              call: BotCall.sendMessage(900_301, "decide early"),
              delay: "30 seconds"
            }
          ])
        )
        yield* courier.commit(admins.close("test:close", "approved", "decided"))
        yield* courier.commit(admins.close("test:close-early", "approved", "decided early"))
        yield* TestClock.adjust("2 minutes")
        yield* courier.settle
        const edits = fake.callsTo("editMessageText")
        assert.deepStrictEqual(edits.map((call) => [call.body.chat_id, call.body.text]), [[900_301, "decided"]])
        assert.isUndefined(edits[0]?.body.reply_markup, "no buttons left")
        assert.isFalse(fake.calls.some((call) => String(call.body.text).includes("decide early")))
        const users = yield* Users
        const blocked = yield* users.get(UserId.make(900_302))
        // The admin never wrote to the bot, so there is no row to mark; the row itself ended as failed.
        assert.isTrue(Option.isNone(blocked))
        const sql = yield* SqlClient.SqlClient
        const [failed] = yield* sql<{ lastError: string }>`
          select last_error from outbox where dedupe_key = 'test:close:notice:900302' and status = 'failed'`
        assert.include(failed?.lastError ?? "", "blocked by the user")
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))
  })
})
