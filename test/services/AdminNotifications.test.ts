import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { UserId } from "../../src/domain/Ids.ts"
import { AdminNotifications } from "../../src/services/AdminNotifications.ts"
import { Processed } from "../../src/sql/Processed.ts"
import { duringUpdate } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const alice = UserId.make(21)
const bob = UserId.make(22)

const copies = (rows: ReadonlyArray<{ readonly adminId: number; readonly chatId: number; readonly messageId: number }>) =>
  rows.map((row) => [row.adminId, row.chatId, row.messageId])

describe("AdminNotifications", () => {
  layer(
    AdminNotifications.layer.pipe(
      Layer.provideMerge(Processed.layer({ retention: "48 hours", pruneInterval: "1 hour" })),
      Layer.provideMerge(TestDatabase.layer())
    ),
    { timeout: "120 seconds" }
  )(
    TestDatabase.backend,
    (it) => {
      it.effect("copiesOf - every admin's copy of one subject, nothing of other subjects or kinds", () =>
        Effect.gen(function* () {
          const notifications = yield* AdminNotifications
          yield* notifications.record({ kind: "confession", subjectId: 1, adminId: bob, chatId: bob, messageId: 501 })
          yield* notifications.record({ kind: "confession", subjectId: 1, adminId: alice, chatId: alice, messageId: 101 })
          yield* notifications.record({ kind: "confession", subjectId: 2, adminId: alice, chatId: alice, messageId: 102 })
          yield* notifications.record({ kind: "report", subjectId: 1, adminId: alice, chatId: alice, messageId: 103 })
          assert.deepStrictEqual(copies(yield* notifications.copiesOf("confession", 1)), [
            [alice, alice, 101],
            [bob, bob, 501]
          ])
          assert.deepStrictEqual(copies(yield* notifications.copiesOf("report", 1)), [[alice, alice, 103]])
          assert.deepStrictEqual(copies(yield* notifications.copiesOf("feedback", 1)), [])
        }))

      it.effect("record - the same admin and subject again replaces the copy (upsert)", () =>
        Effect.gen(function* () {
          const notifications = yield* AdminNotifications
          yield* notifications.record({ kind: "feedback", subjectId: 7, adminId: alice, chatId: alice, messageId: 1 })
          yield* notifications.record({ kind: "feedback", subjectId: 7, adminId: alice, chatId: alice, messageId: 2 })
          assert.deepStrictEqual(copies(yield* notifications.copiesOf("feedback", 7)), [[alice, alice, 2]])
        }))

      it.effect("record - large and negative chat ids round-trip as numbers", () =>
        Effect.gen(function* () {
          const notifications = yield* AdminNotifications
          const group = -1_001_234_567_890
          yield* notifications.record({ kind: "report", subjectId: 9, adminId: alice, chatId: group, messageId: 2 ** 40 })
          assert.deepStrictEqual(copies(yield* notifications.copiesOf("report", 9)), [[alice, group, 2 ** 40]])
        }))

      it.effect("record - concurrent records for one subject keep one row per admin", () =>
        Effect.gen(function* () {
          const notifications = yield* AdminNotifications
          yield* Effect.forEach(
            Array.from({ length: 20 }, (_, i) => i),
            (i) =>
              notifications.record({
                kind: "confession",
                subjectId: 42,
                adminId: i % 2 === 0 ? alice : bob,
                chatId: i % 2 === 0 ? alice : bob,
                messageId: 1000 + i
              }),
            { concurrency: "unbounded", discard: true }
          )
          const rows = yield* notifications.copiesOf("confession", 42)
          assert.deepStrictEqual(rows.map((row) => row.adminId), [alice, bob])
        }))

      it.effect("record - claims the update being handled; a redelivered update records nothing", () =>
        Effect.gen(function* () {
          const notifications = yield* AdminNotifications
          const copy = { kind: "confession", subjectId: 77, adminId: alice, chatId: alice } as const
          yield* notifications.record({ ...copy, messageId: 1 }).pipe(duringUpdate(93_001))
          const replayed = yield* Effect.flip(notifications.record({ ...copy, messageId: 2 }).pipe(duringUpdate(93_001)))
          assert.strictEqual(replayed._tag, "AlreadyProcessed")
          assert.deepStrictEqual(copies(yield* notifications.copiesOf("confession", 77)), [[alice, alice, 1]])
        }))
    }
  )
})
