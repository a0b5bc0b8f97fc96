import { assert, describe, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { SqlClient } from "effect/sql"
import { FeedbackId, UserId } from "../../src/domain/Ids.ts"
import { AlreadyResolved, Feedback, FeedbackError, Invalid } from "../../src/services/Feedback.ts"
import { Users } from "../../src/services/Users.ts"
import { duringUpdate, newUser, reasonOf, servicesOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const Services = servicesOnDatabase(Feedback.layer({ maxLength: 20, pageSize: 5 }))

describe("Feedback", () => {
  // Tests run in order on one database; `listOpen` sees every open item, so its test resolves what it created.
  layer(Services, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("submit - stores the trimmed text as open; get finds it", () =>
      Effect.gen(function* () {
        const feedback = yield* Feedback
        const author = yield* newUser()
        const item = yield* feedback.submit({ author, text: "  more dark mode  " })
        assert.strictEqual(item.text, "more dark mode")
        assert.strictEqual(item.status, "open")
        assert.strictEqual(item.authorId, author.id)
        assert.isNull(item.resolvedBy)
        assert.deepStrictEqual(yield* feedback.get(item.id), Option.some(item))
        assert.isTrue(Option.isNone(yield* feedback.get(FeedbackId.make(987_654_321))))
      }))

    it.effect("submit - a redelivered update stores its feedback once; resolve too", () =>
      Effect.gen(function* () {
        const feedback = yield* Feedback
        const sql = yield* SqlClient.SqlClient
        const author = yield* newUser()
        const item = yield* feedback.submit({ author, text: "once" }).pipe(duringUpdate(7_000_001))
        const again = yield* Effect.flip(feedback.submit({ author, text: "once" }).pipe(duringUpdate(7_000_001)))
        assert.strictEqual(again._tag, "AlreadyProcessed")
        const [row] = yield* sql<{ n: number }>`select count(*)::int as n from feedback where author_id = ${author.id}`
        assert.strictEqual(row?.n, 1)
        const resolveTwice = yield* Effect.flip(feedback.resolve(item.id, UserId.make(1)).pipe(duringUpdate(7_000_001)))
        assert.strictEqual(resolveTwice._tag, "AlreadyProcessed")
        assert.strictEqual(Option.map(yield* feedback.get(item.id), (i) => i.status).pipe(Option.getOrThrow), "open")
        yield* feedback.resolve(item.id, UserId.make(1)).pipe(duringUpdate(7_000_002))
        assert.strictEqual(Option.map(yield* feedback.get(item.id), (i) => i.status).pipe(Option.getOrThrow), "resolved")
        // This item is resolved; the listOpen test below counts only open items.
      }))

    it.effect("submit - empty or too long text is Invalid; blocked users may still write", () =>
      Effect.gen(function* () {
        const feedback = yield* Feedback
        const users = yield* Users
        const author = yield* newUser()
        const empty = yield* reasonOf(feedback.submit({ author, text: " \u200b " }))
        assert.strictEqual(empty instanceof Invalid ? empty.problem._tag : empty._tag, "Empty")
        const long = yield* reasonOf(feedback.submit({ author, text: "x".repeat(21) }))
        assert.strictEqual(long instanceof Invalid ? long.problem._tag : long._tag, "TooLong")
        const blocked = yield* users.setBlocked(author.id, true)
        assert.strictEqual((yield* feedback.submit({ author: blocked, text: "please unblock" })).status, "open")
      }))

    it.effect("resolve - exactly once, even when two admins press together", () =>
      Effect.gen(function* () {
        const feedback = yield* Feedback
        const author = yield* newUser()
        const [a, b] = [UserId.make(1), UserId.make(2)]
        const item = yield* feedback.submit({ author, text: "bug report" })
        const outcomes = yield* Effect.forEach(
          [a, b, a, b],
          (admin) => Effect.result(feedback.resolve(item.id, admin)),
          { concurrency: "unbounded" }
        )
        const wins = outcomes.flatMap((o) => (o._tag === "Success" ? [o.success] : []))
        assert.strictEqual(wins.length, 1)
        assert.strictEqual(wins[0]?.status, "resolved")
        const winner = wins[0]?.resolvedBy ?? null
        for (const outcome of outcomes) {
          if (outcome._tag === "Failure") {
            assert.deepStrictEqual(outcome.failure, new FeedbackError({ reason: new AlreadyResolved({ id: item.id, resolvedBy: winner }) }))
          }
        }
        const again = yield* reasonOf(feedback.resolve(item.id, a))
        assert.strictEqual(again._tag, "AlreadyResolved")
        const missing = yield* reasonOf(feedback.resolve(FeedbackId.make(987_654_321), a))
        assert.strictEqual(missing._tag, "NotFound")
      }))

    it.effect("listOpen - open items oldest first, paged and clamped; resolved ones leave the list", () =>
      Effect.gen(function* () {
        const feedback = yield* Feedback
        const sql = yield* SqlClient.SqlClient
        // Start from an empty list: resolve whatever earlier tests left open.
        yield* sql`update feedback set status = 'resolved' where status = 'open'`
        const author = yield* newUser()
        const oldest = yield* feedback.submit({ author, text: "item 1" })
        for (let i = 2; i <= 12; i++) yield* feedback.submit({ author, text: `item ${i}` })
        const first = yield* feedback.listOpen({ page: 1 })
        assert.deepStrictEqual(first.items.map((i) => i.text), ["item 1", "item 2", "item 3", "item 4", "item 5"])
        assert.deepStrictEqual([first.page, first.totalPages, first.total], [1, 3, 12])
        for (const page of [3, 4, 9999, Number.POSITIVE_INFINITY]) {
          const last = yield* feedback.listOpen({ page })
          assert.deepStrictEqual(last.items.map((i) => i.text), ["item 11", "item 12"], `page ${page}`)
          assert.strictEqual(last.page, 3)
        }
        assert.strictEqual((yield* feedback.listOpen({ page: -2 })).page, 1)
        yield* feedback.resolve(oldest.id, UserId.make(1))
        const after = yield* feedback.listOpen({ page: 1, pageSize: 20 })
        assert.strictEqual(after.total, 11)
        assert.notInclude(after.items.map((i) => i.text), "item 1")
        yield* sql`update feedback set status = 'resolved' where status = 'open'`
        const none = yield* feedback.listOpen({ page: 2 })
        assert.deepStrictEqual([none.items.length, none.page, none.totalPages, none.total], [0, 1, 1, 0])
      }))
  })
})
