// The outbox's part of /forget: what stays, what goes and what is rewritten, on a real database.
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import * as BotCall from "../../src/domain/BotCall.ts"
import { type NewMessage, Outbox } from "../../src/sql/Outbox.ts"
import { usersOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000)

let next = 0
/** A fresh prefix (keys and topics) and chat per test, so tests sharing the database never see each other's rows. */
const fresh = () => {
  next++
  return { p: `f${next}:${Math.random().toString(36).slice(2, 8)}`, chat: 55_000_000 + next }
}

const Services = Outbox.layer.pipe(Layer.provideMerge(usersOnDatabase()))

const rowsOf = (prefix: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<{ dedupeKey: string; status: string; call: string }>`
      select dedupe_key, status, call from outbox where dedupe_key like ${`${prefix}%`} order by id`
  })

const finishAll = (ids: ReadonlyMap<string, number>, keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox
    yield* outbox.finish(
      keys.map((key) => ({ _tag: "Delivered" as const, id: ids.get(key) ?? 0, messageId: 10, postOf: null })),
      at(1)
    )
  })

describe("Outbox", () => {
  layer(Services, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("forget - nothing to the person stays; finished rows of their topics go unless a pending row waits for them", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const { p, chat } = fresh()
        const topic = `${p}:confession`
        const other = `${p}:other-topic`
        const messages: ReadonlyArray<NewMessage> = [
          // To the person: one delivered, one still waiting.
          { dedupeKey: `${p}:answer`, kind: "answer", call: BotCall.sendMessage(chat, "done"), dueAt: at(0) },
          { dedupeKey: `${p}:notice`, kind: "notice", call: BotCall.sendMessage(chat, "approved"), dueAt: at(0) },
          // Their subject: two admins' copies naming them (one with a pending close), the channel post, its close.
          { dedupeKey: `${p}:copy1`, kind: "admin_notice", topic, call: BotCall.sendMessage(1, "— Zed @zed"), dueAt: at(0) },
          { dedupeKey: `${p}:copy2`, kind: "admin_notice", topic, call: BotCall.sendMessage(2, "— Zed @zed"), dueAt: at(0) },
          // A photo's copy being sent, and the channel post of a photo being sent.
          {
            dedupeKey: `${p}:copy3`, kind: "admin_notice", topic, dueAt: at(0), lockedUntil: at(60),
            call: BotCall.BotCall.cases.SendPhoto.make({ chatId: 3, fileId: "their-photo", caption: "— Zed" })
          },
          {
            dedupeKey: `${p}:post2`, kind: "channel_post", topic, dueAt: at(0), lockedUntil: at(60),
            call: BotCall.BotCall.cases.SendPhoto.make({ chatId: "-100", fileId: "posted-photo", caption: "#2 — Zed" })
          },
          { dedupeKey: `${p}:post`, kind: "channel_post", topic, call: BotCall.sendMessage("-100", "#1 — Zed"), dueAt: at(0) },
          { dedupeKey: `${p}:close2`, kind: "admin_close", topic, call: BotCall.editText(2, undefined, "withdrawn"), parentKey: `${p}:copy2`, dueAt: at(0) },
          // Someone else's subject and chat: untouched.
          { dedupeKey: `${p}:else`, kind: "admin_notice", topic: other, call: BotCall.sendMessage(1, "other"), dueAt: at(0) }
        ]
        const ids = yield* outbox.enqueue(messages, at(0))
        yield* finishAll(ids, [`${p}:answer`, `${p}:copy1`, `${p}:copy2`, `${p}:post`, `${p}:else`])

        yield* outbox.forget(chat, [topic], "🗑 Withdrawn.")
        const left = yield* rowsOf(p)
        assert.deepStrictEqual(
          left.map((row) => [row.dedupeKey, row.status]),
          [
            [`${p}:copy2`, "delivered"],
            [`${p}:copy3`, "pending"],
            [`${p}:post2`, "pending"],
            [`${p}:close2`, "pending"],
            [`${p}:else`, "delivered"]
          ]
        )
        // The copy kept for its close keeps its chat, not its words.
        assert.deepStrictEqual(JSON.parse(left[0]?.call ?? ""), { _tag: "SendMessage", chatId: 2, text: "🗑 Withdrawn." })
        assert.deepStrictEqual(JSON.parse(left[1]?.call ?? ""), { _tag: "SendPhoto", chatId: 3, fileId: "erased", caption: "🗑 Withdrawn." })
        assert.deepStrictEqual(JSON.parse(left[2]?.call ?? ""), { _tag: "SendPhoto", chatId: "-100", fileId: "posted-photo", caption: "🗑 Withdrawn." })
        assert.deepStrictEqual(JSON.parse(left[3]?.call ?? ""), { _tag: "EditText", chatId: 2, text: "withdrawn" })
        assert.deepStrictEqual(JSON.parse(left[4]?.call ?? ""), { _tag: "SendMessage", chatId: 1, text: "other" })
      }))

    it.effect("forget - without topics, only the person's rows go", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const { p, chat } = fresh()
        yield* outbox.enqueue(
          [
            { dedupeKey: `${p}:mine`, kind: "notice", call: BotCall.sendMessage(chat, "hi"), dueAt: at(0) },
            { dedupeKey: `${p}:theirs`, kind: "notice", call: BotCall.sendMessage(chat + 1, "hi"), dueAt: at(0) }
          ],
          at(0)
        )
        yield* outbox.forget(chat, [], "x")
        assert.deepStrictEqual((yield* rowsOf(p)).map((row) => row.dedupeKey), [`${p}:theirs`])
      }))

    it.effect("rewrite - replaces a row's call whatever its status; says whether it was sent or is being sent", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox
        const { p } = fresh()
        const named = BotCall.sendMessage("-100", "— Zed")
        const anonymous = BotCall.sendMessage("-100", "— Anonymous")
        const ids = yield* outbox.enqueue(
          [
            { dedupeKey: `${p}:queued`, kind: "channel_post", call: named, dueAt: at(0) },
            { dedupeKey: `${p}:held`, kind: "channel_post", call: named, dueAt: at(0), lockedUntil: at(60) },
            { dedupeKey: `${p}:sent`, kind: "channel_post", call: named, dueAt: at(0) }
          ],
          at(0)
        )
        yield* finishAll(ids, [`${p}:sent`])
        const outs = yield* Effect.forEach(["queued", "held", "sent", "missing"], (key) =>
          Effect.map(outbox.rewrite(`${p}:${key}`, anonymous, at(1)), Option.map((row) => row.out))
        )
        assert.deepStrictEqual(outs, [Option.some(false), Option.some(true), Option.some(true), Option.none()])
        for (const row of yield* rowsOf(p)) {
          assert.deepStrictEqual(JSON.parse(row.call), { _tag: "SendMessage", chatId: "-100", text: "— Anonymous" })
        }
      }))
  })
})
