// ChannelPosts.revise against the emulator on a real database: a channel post's new words (an author line that became
// "Anonymous") reach the channel whether the post is still queued, being sent, or out, and the stored post keeps
// only the new words.
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as BotCall from "../../src/domain/BotCall.ts"
import { type ApiCall, BotApiEmulator, token } from "../../src/emulator/BotApiEmulator.ts"
import { AdminNotifications } from "../../src/services/AdminNotifications.ts"
import { ChannelPosts } from "../../src/services/ChannelPosts.ts"
import { Courier } from "../../src/services/Courier.ts"
import { Telegram } from "../../src/services/Telegram.ts"
import { Outbox } from "../../src/sql/Outbox.ts"
import * as Messages from "../../src/views/Messages.ts"
import { duringUpdate, newConfession, newUser, unlimited, usersOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const channel = "-1001234567890"

const world = Effect.gen(function* () {
  const fake = yield* BotApiEmulator
  const courier = Courier.layer({ texts: { channelPostFailing: Messages.channelPostFailing }, background: false }).pipe(
    Layer.provideMerge(AdminNotifications.layer({ adminIds: [], jitter: "0 seconds" })),
    Layer.provideMerge(Outbox.layer),
    Layer.provideMerge(Telegram.layer({ token, apiRoot: fake.apiRoot, rateLimits: unlimited, backoffBase: "10 millis" }))
  )
  const built = yield* Layer.build(ChannelPosts.layer(Option.some(channel)).pipe(Layer.provideMerge(courier)))
  return { fake, courier: Context.get(built, Courier), posts: Context.get(built, ChannelPosts) }
})

const post = (text: string) => ({ call: (chatId: BotCall.ChatId) => BotCall.sendMessage(chatId, text) })

const toChannel = (calls: ReadonlyArray<ApiCall>, method: string) =>
  calls.filter((call) => call.method === method && String(call.body.chat_id) === channel).map((call) => call.body.text)

let update = 810_000

describe("ChannelPosts", () => {
  layer(usersOnDatabase(), { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("revise - a post still queued goes out with the new words only", () =>
      Effect.gen(function* () {
        const { fake, courier, posts } = yield* world
        const id = yield* newConfession((yield* newUser()).id)
        yield* courier.commit(posts.post(id, post("#1 — Zed"))).pipe(duringUpdate(++update))
        assert.isTrue(yield* courier.commit(posts.revise(id, Option.none(), post("#1 — Anonymous"))).pipe(duringUpdate(++update)))
        yield* courier.settle
        assert.deepStrictEqual(toChannel(fake.calls, "sendMessage"), ["#1 — Anonymous"])
        assert.deepStrictEqual(toChannel(fake.calls, "editMessageText"), [])
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("revise - a post that is out is edited by its message id", () =>
      Effect.gen(function* () {
        const { fake, courier, posts } = yield* world
        const sql = yield* SqlClient.SqlClient
        const id = yield* newConfession((yield* newUser()).id)
        yield* courier.commit(posts.post(id, post("#2 — Zed"))).pipe(duringUpdate(++update))
        yield* courier.settle
        const [row] = yield* sql<{ m: number }>`select channel_message_id::int as m from confessions where id = ${id}`
        assert.isDefined(row)
        yield* courier.commit(posts.revise(id, Option.some(row?.m ?? 0), post("#2 — Anonymous"))).pipe(duringUpdate(++update))
        yield* courier.settle
        const edit = fake.calls.find((call) => call.method === "editMessageText")
        assert.deepStrictEqual([edit?.body.message_id, edit?.body.text], [row?.m, "#2 — Anonymous"])
        assert.deepStrictEqual(
          fake.chat(Number(channel)).messages.map((message) => ("text" in message ? message.text : "")),
          ["#2 — Anonymous"]
        )
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("revise - a post being sent is edited once it is out; the stored post has the new words", () =>
      Effect.gen(function* () {
        const { fake, courier, posts } = yield* world
        const sql = yield* SqlClient.SqlClient
        const id = yield* newConfession((yield* newUser()).id)
        yield* courier.commit(posts.post(id, post("#3 — Zed"))).pipe(duringUpdate(++update))
        // Another courier holds the post (its lease runs 30 s more) while the author is forgotten.
        yield* sql`update outbox set locked_until = now() + interval '30 seconds' where dedupe_key = ${`confession:${id}:post`}`
        yield* courier.commit(posts.revise(id, Option.none(), post("#3 — Anonymous"))).pipe(duringUpdate(++update))
        const stored = yield* sql<{ call: string }>`select call from outbox where topic = ${`confession:${id}`} order by id`
        assert.deepStrictEqual(stored.map((row) => JSON.parse(row.call).text), ["#3 — Anonymous", "#3 — Anonymous"])
        // That courier sends what it held (the old words, simulated here), then the edit follows.
        yield* sql`update outbox set locked_until = null, call = ${JSON.stringify(BotCall.sendMessage(channel, "#3 — Zed"))}
          where dedupe_key = ${`confession:${id}:post`}`
        yield* TestClock.adjust("1 minute")
        yield* courier.settle
        assert.deepStrictEqual(toChannel(fake.calls, "sendMessage"), ["#3 — Zed"])
        assert.deepStrictEqual(toChannel(fake.calls, "editMessageText"), ["#3 — Anonymous"])
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))
  })
})
