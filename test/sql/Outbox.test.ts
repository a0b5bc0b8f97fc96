import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as BotCall from "../../src/domain/BotCall.ts"
import { type NewMessage, Outbox } from "../../src/sql/Outbox.ts"
import { newConfession, newUser, usersOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000)
const lease = (seconds: number) => at(seconds + 60)

let next = 0
/** A fresh key prefix per test, so tests sharing the database never see each other's rows. */
const fresh = () => `t${++next}:${Math.random().toString(36).slice(2, 8)}`

const message = (key: string, overrides: Partial<NewMessage> = {}): NewMessage => ({
  dedupeKey: key,
  kind: "notice",
  call: BotCall.sendMessage(1, `hello ${key}`),
  dueAt: at(0),
  ...overrides
})

const Services = Outbox.layer.pipe(Layer.provideMerge(usersOnDatabase()))

/** Claims everything due at `now` whose key starts with `prefix` (other tests' rows are released again). */
const claimOwn = (prefix: string, now: Date) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox
    const sql = yield* SqlClient.SqlClient
    const claimed = yield* outbox.claimDue(now, 1000, lease(0))
    const mine = new Set(
      (yield* sql<{ id: unknown }>`select id from outbox where dedupe_key like ${`${prefix}%`}`).map((row) => Number(row.id))
    )
    yield* outbox.release(claimed.filter((row) => !mine.has(row.id)).map((row) => row.id), at(-1_000_000))
    return claimed.filter((row) => mine.has(row.id))
  })

describe("Outbox", () => {
  layer(Services, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("enqueue - stores each key once; a parent stored in the same statement is linked", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const p = fresh()
        const ids = yield* outbox.enqueue(
          [message(`${p}:post`), message(`${p}:notice`, { parentKey: `${p}:post` })],
          at(0)
        )
        assert.strictEqual(ids.size, 2)
        const again = yield* outbox.enqueue([message(`${p}:post`)], at(1))
        assert.strictEqual(again.size, 0, "the same key is stored once")
        // The child waits for its parent: only the parent is handed out.
        const first = yield* claimOwn(p, at(0))
        assert.deepStrictEqual(first.map((row) => row.id), [ids.get(`${p}:post`)])
        assert.strictEqual(first[0]?.parentMessageId, undefined)
        yield* outbox.finish([{ _tag: "Delivered", id: first[0]?.id ?? 0, messageId: 77, postOf: null }], at(1))
        const second = yield* claimOwn(p, at(1))
        assert.deepStrictEqual(second.map((row) => [row.id, row.parentMessageId]), [[ids.get(`${p}:notice`), 77]])
      }))

    it.effect("enqueue - any text a client can send is stored: NUL, lone surrogates, 10,000 characters", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const p = fresh()
        const hostile = `a\u0000b\ud800c\udfff${"é".repeat(10_000)}`
        yield* outbox.enqueue([message(`${p}:x`, { call: BotCall.sendMessage(1, hostile) })], at(0))
        const [row] = yield* claimOwn(p, at(0))
        assert.deepStrictEqual(row?.call, BotCall.sendMessage(1, hostile))
      }))

    it.effect("claimDue - two couriers at once never hold the same row; a lease hides a row until it ends", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const p = fresh()
        yield* outbox.enqueue(Array.from({ length: 40 }, (_, i) => message(`${p}:${i}`)), at(0))
        const [a, b] = yield* Effect.all([claimOwn(p, at(0)), claimOwn(p, at(0))], { concurrency: 2 })
        const ids = [...(a ?? []), ...(b ?? [])].map((row) => row.id)
        assert.strictEqual(ids.length, 40)
        assert.strictEqual(new Set(ids).size, 40)
        assert.deepStrictEqual(yield* claimOwn(p, at(30)), [], "still leased")
        assert.strictEqual((yield* claimOwn(p, at(60))).length, 40, "the lease ended: handed out again")
      }))

    it.effect("claimDue - not before due; a row waiting on a failed or cancelled parent is handed out with no message", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const p = fresh()
        yield* outbox.enqueue(
          [
            message(`${p}:later`, { dueAt: at(100) }),
            message(`${p}:parent`),
            message(`${p}:child`, { parentKey: `${p}:parent`, call: BotCall.editText(1, undefined, "x") })
          ],
          at(0)
        )
        const [parent] = yield* claimOwn(p, at(0))
        yield* outbox.finish([{ _tag: "Failed", id: parent?.id ?? 0, error: "Forbidden: bot was blocked by the user" }], at(1))
        const [child] = yield* claimOwn(p, at(1))
        assert.strictEqual(child?.parentMessageId, null)
        yield* outbox.finish([{ _tag: "Skipped", id: child?.id ?? 0, reason: "its parent sent nothing" }], at(1))
        assert.deepStrictEqual(yield* claimOwn(p, at(99)), [])
        assert.strictEqual((yield* claimOwn(p, at(100))).length, 1)
      }))

    it.effect("finish - a retry is due again at its time; a delivered post is remembered on its confession", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const sql = yield* SqlClient.SqlClient
        const p = fresh()
        const author = yield* newUser()
        const confession = yield* newConfession(author.id)
        yield* outbox.enqueue([message(`${p}:post`, { kind: "channel_post", postOf: confession })], at(0))
        const [row] = yield* claimOwn(p, at(0))
        assert.strictEqual(row?.postOf, confession)
        yield* outbox.finish([{ _tag: "Retry", id: row?.id ?? 0, dueAt: at(10), error: "502" }], at(1))
        assert.deepStrictEqual(yield* claimOwn(p, at(9)), [])
        const [again] = yield* claimOwn(p, at(10))
        assert.strictEqual(again?.attempts, 2)
        yield* outbox.finish([{ _tag: "Delivered", id: again?.id ?? 0, messageId: 555, postOf: confession }], at(11))
        const [stored] = yield* sql<{ channelMessageId: unknown }>`select channel_message_id from confessions where id = ${confession}`
        assert.strictEqual(Number(stored?.channelMessageId), 555)
      }))

    it.effect("supersede - ends what nobody holds, returns what was sent or is being sent", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const p = fresh()
        const topic = `${p}:topic`
        yield* outbox.enqueue(
          ["a", "b", "c"].map((admin) => message(`${p}:notice:${admin}`, { kind: "admin_notice", topic })),
          at(0)
        )
        const claimed = yield* claimOwn(p, at(0))
        const [sent, held] = claimed
        yield* outbox.finish([{ _tag: "Delivered", id: sent?.id ?? 0, messageId: 9, postOf: null }], at(1))
        // `held` stays leased (being sent); the third is released again, as if nobody had taken it yet.
        yield* outbox.release(claimed.slice(2).map((row) => row.id), at(1))
        const left = yield* outbox.supersede(topic, "admin_notice", at(2))
        assert.deepStrictEqual(left.map((row) => row.id), [sent?.id, held?.id])
        assert.deepStrictEqual(left.map((row) => row.chatId), ["1", "1"])
        assert.deepStrictEqual(yield* claimOwn(p, at(30)), [], "the third was cancelled, the second is still held")
      }))

    it.effect("prune - finished rows older than the cut go, except an admin's copy nothing has closed yet", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const sql = yield* SqlClient.SqlClient
        const p = fresh()
        yield* outbox.enqueue(
          [message(`${p}:notice`), message(`${p}:copy`, { kind: "admin_notice", topic: `${p}:t` })],
          at(0)
        )
        const rows = yield* claimOwn(p, at(0))
        yield* outbox.finish(rows.map((row) => ({ _tag: "Delivered" as const, id: row.id, messageId: 1, postOf: null })), at(1))
        yield* outbox.prune(at(2))
        const left = yield* sql<{ dedupeKey: string }>`select dedupe_key from outbox where dedupe_key like ${`${p}%`}`
        assert.deepStrictEqual(left.map((row) => row.dedupeKey), [`${p}:copy`])
      }))

    it.effect("pendingStats - counts waiting rows and the age of the oldest", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const p = fresh()
        const before = yield* outbox.pendingStats(at(0))
        yield* outbox.enqueue([message(`${p}:a`), message(`${p}:b`)], at(0))
        const after = yield* outbox.pendingStats(at(0))
        assert.strictEqual(after.pending, before.pending + 2)
        assert.isAtLeast((yield* outbox.pendingStats(at(3600))).oldestSeconds, 3600)
      }))

    it.effect("pendingStats - a row scheduled for later is not late before its time; a retried row waits since it was stored", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        yield* outbox.enqueue([message("later", { dueAt: at(600) })], at(0))
        assert.deepStrictEqual(yield* outbox.pendingStats(at(300)), { pending: 1, oldestSeconds: 0 }, "not due yet")
        assert.deepStrictEqual(yield* outbox.pendingStats(at(660)), { pending: 1, oldestSeconds: 60 }, "late since it fell due")
        yield* outbox.enqueue([message("retried")], at(0))
        const [retried] = (yield* outbox.claimDue(at(1), 10, lease(1))).filter((row) => row.call._tag === "SendMessage" && row.call.text === "hello retried")
        yield* outbox.finish([{ _tag: "Retry", id: retried?.id ?? 0, dueAt: at(1000), error: "502" }], at(2))
        assert.deepStrictEqual(yield* outbox.pendingStats(at(700)), { pending: 2, oldestSeconds: 700 }, "waiting since it was stored")
      }).pipe(Effect.provide(Layer.fresh(Outbox.layer.pipe(Layer.provideMerge(TestDatabase.layer()))))))
  })
})
