import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import type { ConfessionId } from "../../src/domain/Ids.ts"
import { UserId } from "../../src/domain/Ids.ts"
import { Confessions } from "../../src/services/Confessions.ts"
import { Moderation } from "../../src/services/Moderation.ts"
import { Publisher, type PublisherOptions } from "../../src/services/Publisher.ts"
import { Telegram } from "../../src/services/Telegram.ts"
import { botInfo, BotApiEmulator, token } from "../../src/emulator/BotApiEmulator.ts"
import { newUser, servicesOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const channelId = "-1001234567890"
const channel = -1001234567890
const admin = UserId.make(1)
const withChannel: PublisherOptions = { channelId: Option.some(channelId) }

const telegram = Layer.unwrap(
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const rateLimits = { globalPerSecond: 10_000, privateChatPerSecond: 10_000, privateChatBurst: 10_000, groupPerMinute: 10_000 }
    return Telegram.layer({ token, apiRoot: fake.apiRoot, rateLimits, backoffBase: "1 millis" })
  })
)

/** Everything the Publisher needs, on a fresh database; the Publisher itself is built later, after the seeding. */
const world = telegram.pipe(
  Layer.provideMerge(
    servicesOnDatabase(Layer.mergeAll(Confessions.layer({ confessionMaxLength: 3500 }), Moderation.layer), {
      ttl: "5 minutes",
      capacity: 100
    })
  ),
  Layer.provideMerge(BotApiEmulator.layer())
)

type World = Layer.Success<typeof world>

/** Builds the Publisher (its start-up round begins now) on the world of this test. */
const startPublisher = (options: PublisherOptions) =>
  Effect.gen(function* () {
    const context = yield* Effect.context<World>()
    const built = yield* Layer.build(Publisher.layer(options).pipe(Layer.provide(Layer.succeedContext(context))))
    return Context.get(built, Publisher)
  })

const newAuthor = newUser({ firstName: "Zephyrine", username: "zeph" })
/** Who wrote each confession the tests made, to find what the bot told them. */
const authorOf = new Map<ConfessionId, number>()

/** A confession in the given state; `decidedAgo` moves its decision back in (database) time. */
const confession = (state: "pending" | "approved" | "rejected" | "deleted", decidedAgo = "0 seconds") =>
  Effect.gen(function* () {
    const confessions = yield* Confessions
    const moderation = yield* Moderation
    const sql = yield* SqlClient.SqlClient
    const author = yield* newAuthor
    const submitted = yield* confessions.submit({ author, text: `a ${state} confession`, anonymous: true })
    authorOf.set(submitted.id, author.id)
    if (state === "approved" || state === "deleted") yield* moderation.approve(submitted.id, admin)
    if (state === "rejected") yield* moderation.reject(submitted.id, admin)
    if (state === "deleted") yield* moderation.delete(submitted.id, admin)
    yield* sql`update confessions set decided_at = now() - ${decidedAgo}::interval where id = ${submitted.id}`
    return submitted.id
  })

const channelPosts = (id: ConfessionId) =>
  Effect.map(BotApiEmulator, (fake) =>
    fake.callsTo("sendMessage").filter((call) => call.body.chat_id === channel && String(call.body.text).startsWith(`<b>#${id}</b>`))
  )

const storedPost = (id: ConfessionId) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ post: string | null }>`select channel_message_id::text as post from confessions where id = ${id}`
    return row?.post === null || row?.post === undefined ? null : Number(row.post)
  })

/** Waits (real time, bounded) for a condition the recovery fiber makes true in the background. */
const eventually = <E, R>(condition: Effect.Effect<boolean, E, R>, what: string) =>
  Effect.gen(function* () {
    for (let attempt = 0; attempt < 1000; attempt++) {
      if (yield* condition) return
      yield* TestClock.withLive(Effect.sleep("10 millis"))
    }
    assert.fail(`timed out waiting until ${what}`)
  })

const posted = (id: ConfessionId) => Effect.map(storedPost(id), (post) => post !== null && post > 0)

const test = (name: string, body: () => Effect.Effect<void, unknown, World | Scope.Scope>) =>
  it.effect(name, () => body().pipe(Effect.provide(world)), { timeout: 120_000 })

describe("Publisher", () => {
  describe(TestDatabase.backend, () => {
    test("recover - at start-up and every interval: posts approved confessions the admins' publishes missed, once", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const missed = yield* confession("approved", "10 minutes")
        const fresh = yield* confession("approved")
        const pending = yield* confession("pending")
        const rejected = yield* confession("rejected", "10 minutes")
        const deleted = yield* confession("deleted", "10 minutes")
        const stale = yield* confession("approved", "25 hours")

        const publisher = yield* startPublisher(withChannel)
        yield* eventually(posted(missed), "the start-up round stored the missed post")
        const [post] = yield* channelPosts(missed)
        assert.strictEqual(post?.body.text, `<b>#${missed}</b>\n\na approved confession\n\n— Anonymous`)
        assert.deepStrictEqual(post?.body.reply_markup, {
          inline_keyboard: [[{ text: "💬 View / Add Comments", url: `https://t.me/${botInfo.username}?start=c${missed}` }]]
        })
        // The fake numbers messages 1, 2, …: the channel post is the first message sent.
        assert.strictEqual(yield* storedPost(missed), 1)
        // The admin who approved it never got to tell the author; the recovery does, with the post's link.
        const told = yield* eventually(
          Effect.sync(() => fake.callsTo("sendMessage").some((c) => c.body.chat_id === authorOf.get(missed))),
          "the author was told"
        ).pipe(Effect.as(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === authorOf.get(missed))))
        assert.deepStrictEqual(
          told.map((c) => c.body.text),
          [`🎉 Your confession #${missed} was approved and posted:\nhttps://t.me/c/1234567890/1`]
        )

        // A second round finds nothing: the missed one is posted, the fresh one is its admin's, the rest never go out.
        assert.strictEqual(yield* publisher.recover, 0)
        assert.strictEqual(fake.callsTo("sendMessage").length, 2)
        for (const id of [fresh, pending, rejected, deleted, stale]) assert.isNull(yield* storedPost(id), `#${id}`)

        // Once the fresh one is older than the grace (its admin died, say), the next scheduled round posts it.
        const sql = yield* SqlClient.SqlClient
        yield* sql`update confessions set decided_at = now() - interval '2 minutes' where id = ${fresh}`
        yield* TestClock.adjust("5 minutes")
        yield* eventually(posted(fresh), "the scheduled round stored the fresh one's post")
        assert.strictEqual((yield* channelPosts(fresh)).length, 1)
        assert.strictEqual((yield* channelPosts(missed)).length, 1)
        assert.strictEqual(fake.callsTo("sendMessage").filter((c) => c.body.chat_id === channel).length, 2)
        for (const id of [pending, rejected, deleted, stale]) assert.isNull(yield* storedPost(id), `#${id}`)
      }))

    test("publish - two publishers of one confession at the same time: one post, the other finds it elsewhere", () =>
      Effect.gen(function* () {
        const publisher = yield* startPublisher(withChannel)
        const confessions = yield* Confessions
        const id = yield* confession("approved")
        const row = Option.getOrThrow(yield* confessions.get(id))
        const author = { authorFirstName: "Zephyrine", authorUsername: "zeph" }
        const outcomes = yield* Effect.all([publisher.publish({ ...row, ...author }), publisher.publish({ ...row, ...author })], {
          concurrency: 2
        })
        assert.sameMembers(outcomes.map((o) => o.posted), ["posted", "elsewhere"])
        assert.strictEqual((yield* channelPosts(id)).length, 1)
        const stored = yield* storedPost(id)
        assert.isTrue(stored !== null && stored > 0)
        const winner = outcomes.find((o) => o.posted === "posted")
        assert.strictEqual(winner?.url, `https://t.me/c/1234567890/${stored}`)

        // Later publishes (a redelivery, the recovery) see the post and leave it.
        const later = yield* publisher.publish({ ...row, ...author })
        assert.deepStrictEqual(later, { posted: "elsewhere", url: `https://t.me/c/1234567890/${stored}` })
        const gone = yield* confession("deleted")
        const deleted = yield* publisher.publish({ ...row, ...author, id: gone })
        assert.strictEqual(deleted.posted, "deletedMeanwhile")
        assert.strictEqual((yield* channelPosts(gone)).length, 0)
      }))

    test("publish / recover - a failed post gives its claim back and a later round posts it; abandoned claims are taken over, live ones left", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const sql = yield* SqlClient.SqlClient
        const confessions = yield* Confessions
        const publisher = yield* startPublisher(withChannel)
        const id = yield* confession("approved")
        const row = Option.getOrThrow(yield* confessions.get(id))
        fake.script(
          "sendMessage",
          { status: 403, body: { ok: false, error_code: 403, description: "Forbidden: bot is not a member of the channel chat" } },
          { when: (body) => body.chat_id === channel }
        )
        const failed = yield* publisher.publish({ ...row, authorFirstName: "Zephyrine", authorUsername: "zeph" })
        assert.deepStrictEqual(failed, { posted: "failed", url: undefined })
        assert.isNull(yield* storedPost(id), "the claim was given back")

        // A claim whose publisher died 20 minutes ago is abandoned; one taken a moment ago is somebody's live work.
        const abandoned = yield* confession("approved", "30 minutes")
        const live = yield* confession("approved", "30 minutes")
        yield* sql`
          update confessions set channel_message_id = -floor(extract(epoch from now() - interval '20 minutes'))::int8
          where id = ${abandoned}`
        yield* sql`update confessions set channel_message_id = -floor(extract(epoch from now()))::int8 where id = ${live}`
        yield* sql`update confessions set decided_at = now() - interval '2 minutes' where id = ${id}`

        assert.strictEqual(yield* publisher.recover, 2)
        assert.strictEqual((yield* channelPosts(id)).length, 2, "the refused attempt and the post")
        assert.isTrue(yield* posted(id))
        assert.strictEqual((yield* channelPosts(abandoned)).length, 1)
        assert.isTrue(yield* posted(abandoned))
        assert.strictEqual((yield* channelPosts(live)).length, 0)
        assert.isTrue(((yield* storedPost(live)) ?? 0) < 0, "the live claim is untouched")
      }))

    test("publish / recover - without CHANNEL_ID nothing is posted and no round runs", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const confessions = yield* Confessions
        const id = yield* confession("approved", "10 minutes")
        const publisher = yield* startPublisher({ channelId: Option.none() })
        yield* TestClock.adjust("10 minutes")
        const row = Option.getOrThrow(yield* confessions.get(id))
        const outcome = yield* publisher.publish({ ...row, authorFirstName: "Zephyrine", authorUsername: "zeph" })
        assert.deepStrictEqual(outcome, { posted: "noChannel", url: undefined })
        assert.strictEqual(yield* publisher.recover, 0)
        assert.strictEqual(fake.callsTo("sendMessage").length, 0)
        assert.isNull(yield* storedPost(id))
      }))
  })
})
