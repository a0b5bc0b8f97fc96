// The inbox stores anything a client can send and gives it back exactly; it counts tries of what it stores.
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { UpdateId } from "../../src/domain/Ids.ts"
import { Inbox } from "../../src/sql/Inbox.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import { person, text } from "../../src/emulator/Updates.ts"

const inbox = Inbox.layer({ retention: "48 hours", cleanInterval: "1 hour" }).pipe(Layer.provideMerge(TestDatabase.layer()))

describe("Inbox", () => {
  layer(inbox, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("store / unfinished - NUL, lone surrogates and 10,000-character names come back exactly as sent", () =>
      Effect.gen(function* () {
        const box = yield* Inbox
        const hostile = person(1, `${"名".repeat(10_000)}\u0000\ud800`, "x\udfff")
        const updates = [
          text(hostile, "nul:\u0000 high:\ud800 low:\udc00 pair:😀 rtl:\u202e zw:\u200b", 10),
          text(person(2, "Plain"), "plain", 11)
        ]
        yield* box.store(updates)
        yield* box.store([updates[0]!])
        const stored = yield* box.unfinished
        assert.deepStrictEqual(
          stored.map((row) => [row.updateId, Option.getOrUndefined(row.payload), row.attempts]),
          updates.map((update) => [update.update_id, update, 0])
        )
      }))

    it.effect("countAttempt - counts tries of a stored update; unfinished leaves out processed ones", () =>
      Effect.gen(function* () {
        const box = yield* Inbox
        const sql = yield* SqlClient.SqlClient
        yield* box.store([text(person(3, "Cy"), "x", 20), text(person(3, "Cy"), "y", 21)])
        assert.strictEqual(yield* box.countAttempt(UpdateId.make(20)), 1)
        assert.strictEqual(yield* box.countAttempt(UpdateId.make(20)), 2)
        assert.strictEqual(yield* box.countAttempt(UpdateId.make(999)), 0, "not stored")
        yield* sql`insert into processed_updates (update_id) values (21)`
        const rows = (yield* box.unfinished).filter((row) => row.updateId >= 20)
        assert.deepStrictEqual(rows.map((row) => [row.updateId, row.attempts]), [[20, 2]])
      }))

    it.effect("unfinished - a payload that is not JSON comes back as None, with its id", () =>
      Effect.gen(function* () {
        const box = yield* Inbox
        const sql = yield* SqlClient.SqlClient
        yield* sql`insert into update_inbox (update_id, payload) values (30, '{"update_id": 30, "mess')`
        const row = (yield* box.unfinished).find((r) => r.updateId === 30)
        assert.isTrue(row !== undefined && Option.isNone(row.payload))
      }))
  })
})
