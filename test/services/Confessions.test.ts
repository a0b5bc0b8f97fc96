import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { ConfessionId, UserId } from "../../src/domain/Ids.ts"
import { Empty, TooLong } from "../../src/domain/Validation.ts"
import { Confessions, Invalid } from "../../src/services/Confessions.ts"
import { Moderation } from "../../src/services/Moderation.ts"
import { StatsCache } from "../../src/services/StatsCache.ts"
import { Users } from "../../src/services/Users.ts"
import { duringUpdate, failure, newUser, servicesOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const maxLength = 50
const admin = UserId.make(1)

const Services = servicesOnDatabase(
  Layer.mergeAll(Confessions.layer({ confessionMaxLength: maxLength }), Moderation.layer),
  { ttl: "5 minutes", capacity: 100 }
)

describe("Confessions", () => {
  layer(Services, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("submit - stores a pending confession with the trimmed text", () =>
      Effect.gen(function* () {
        const confessions = yield* Confessions
        const author = yield* newUser()
        const created = yield* confessions.submit({ author, text: "  I love <b>exams</b> &  \n", anonymous: true })
        assert.strictEqual(created.status, "pending")
        assert.strictEqual(created.text, "I love <b>exams</b> &")
        assert.strictEqual(created.authorId, author.id)
        assert.isTrue(created.anonymous)
        assert.isNull(created.channelMessageId)
        assert.isNull(created.decidedBy)
        const read = yield* confessions.get(created.id)
        assert.deepStrictEqual(
          Option.map(read, (c) => [c.id, c.text, c.status]),
          Option.some([created.id, "I love <b>exams</b> &", "pending"])
        )
        const named = yield* confessions.submit({ author, text: "signed", anonymous: false })
        assert.isFalse(named.anonymous)
        assert.isTrue(named.id > created.id)
      }))

    it.effect("submit - validates the text again with the configured limit", () =>
      Effect.gen(function* () {
        const confessions = yield* Confessions
        const author = yield* newUser()
        const blank = yield* failure(confessions.submit({ author, text: " \n\u200B ", anonymous: true }))
        assert.deepStrictEqual(blank.reason, new Invalid({ problem: new Empty() }))
        // Telegram counts UTF-16 units, so an emoji counts two.
        const long = yield* failure(confessions.submit({ author, text: "😀".repeat(maxLength / 2) + "x", anonymous: true }))
        assert.deepStrictEqual(long.reason, new Invalid({ problem: new TooLong({ length: maxLength + 1, maxLength }) }))
        const exact = yield* confessions.submit({ author, text: "😀".repeat(maxLength / 2), anonymous: true })
        assert.strictEqual(exact.text, "😀".repeat(maxLength / 2))
        const stored = yield* confessions.listByAuthor({ author: author.id, page: 1, pageSize: 10 })
        assert.strictEqual(stored.items.length, 1)
      }))

    it.effect("submit - a blocked author fails Blocked, also when blocked after the user was loaded", () =>
      Effect.gen(function* () {
        const confessions = yield* Confessions
        const users = yield* Users
        const author = yield* newUser()
        const blocked = yield* users.setBlocked(author.id, true)
        const early = yield* failure(confessions.submit({ author: blocked, text: "hi", anonymous: true }))
        assert.strictEqual(early.reason._tag, "Blocked")
        // `author` still says blocked: false, the database says otherwise
        const late = yield* failure(confessions.submit({ author, text: "hi", anonymous: true }))
        assert.strictEqual(late.reason._tag, "Blocked")
        const page = yield* confessions.listByAuthor({ author: author.id, page: 1, pageSize: 10 })
        assert.strictEqual(page.items.length, 0)
      }))

    it.effect("submit - forgets the author's cached statistics", () =>
      Effect.gen(function* () {
        const confessions = yield* Confessions
        const moderation = yield* Moderation
        const stats = yield* StatsCache
        const sql = yield* SqlClient.SqlClient
        const author = yield* newUser()
        const first = yield* confessions.submit({ author, text: "one", anonymous: true })
        yield* moderation.approve(first.id, admin)
        assert.strictEqual((yield* stats.profileOf(author.id)).approvedConfessions, 1) // cached now
        // A change behind the cache's back stays invisible until the author's own submit forgets the entry
        yield* sql`
          insert into confessions (author_id, text, anonymous, status)
          values (${author.id}, 'written behind the cache', true, 'approved')`
        assert.strictEqual((yield* stats.profileOf(author.id)).approvedConfessions, 1)
        const second = yield* confessions.submit({ author, text: "two", anonymous: true })
        assert.strictEqual((yield* stats.profileOf(author.id)).approvedConfessions, 2)
        assert.strictEqual(second.status, "pending")
      }))

    it.effect("get - unknown id is None", () =>
      Effect.gen(function* () {
        const confessions = yield* Confessions
        assert.isTrue(Option.isNone(yield* confessions.get(ConfessionId.make(987_654_321))))
      }))

    it.effect("listPending - oldest first, clamps page 9999 to the last page and -5 to the first", () =>
      Effect.gen(function* () {
        const confessions = yield* Confessions
        const moderation = yield* Moderation
        const sql = yield* SqlClient.SqlClient
        // Other tests leave pending rows behind: start from an empty queue
        yield* sql`update confessions set status = 'rejected' where status = 'pending'`
        const author = yield* newUser()
        const ids: Array<ConfessionId> = []
        for (let i = 1; i <= 7; i++) ids.push((yield* confessions.submit({ author, text: `pending ${i}`, anonymous: true })).id)
        yield* moderation.approve(ids[6]!, admin) // decided ones leave the queue

        const first = yield* confessions.listPending({ page: 1, pageSize: 3 })
        assert.deepStrictEqual(first.items.map((c) => c.id), ids.slice(0, 3))
        assert.strictEqual(first.page, 1)
        assert.strictEqual(first.totalPages, 2)

        const last = yield* confessions.listPending({ page: 9999, pageSize: 3 })
        assert.strictEqual(last.page, 2)
        assert.deepStrictEqual(last.items.map((c) => c.id), ids.slice(3, 6))

        for (const page of [-5, 0, Number.NaN, Number.NEGATIVE_INFINITY]) {
          const clamped = yield* confessions.listPending({ page, pageSize: 3 })
          assert.strictEqual(clamped.page, 1, String(page))
          assert.deepStrictEqual(clamped.items.map((c) => c.id), ids.slice(0, 3))
        }
        const huge = yield* confessions.listPending({ page: Number.MAX_SAFE_INTEGER * 4, pageSize: 3 })
        assert.strictEqual(huge.page, 2)
        const fractional = yield* confessions.listPending({ page: 1.9, pageSize: 3 })
        assert.strictEqual(fractional.page, 1)
      }))

    it.effect("listPending - an empty queue is one empty page", () =>
      Effect.gen(function* () {
        const confessions = yield* Confessions
        const sql = yield* SqlClient.SqlClient
        yield* sql`update confessions set status = 'rejected' where status = 'pending'`
        const page = yield* confessions.listPending({ page: 3, pageSize: 5 })
        assert.deepStrictEqual({ ...page, items: [...page.items] }, { items: [], page: 1, totalPages: 1, total: 0 })
      }))

    it.effect("listByAuthor - newest first, own confessions only, without deleted ones, clamped", () =>
      Effect.gen(function* () {
        const confessions = yield* Confessions
        const moderation = yield* Moderation
        const author = yield* newUser()
        const other = yield* newUser()
        yield* confessions.submit({ author: other, text: "not mine", anonymous: true })
        const ids: Array<ConfessionId> = []
        for (let i = 1; i <= 5; i++) ids.push((yield* confessions.submit({ author, text: `mine ${i}`, anonymous: true })).id)
        yield* moderation.approve(ids[0]!, admin)
        yield* moderation.reject(ids[1]!, admin)
        yield* moderation.delete(ids[2]!, admin)

        const first = yield* confessions.listByAuthor({ author: author.id, page: 1, pageSize: 2 })
        assert.strictEqual(first.totalPages, 2)
        assert.deepStrictEqual(first.items.map((c) => [c.id, c.status]), [
          [ids[4], "pending"],
          [ids[3], "pending"]
        ])
        const last = yield* confessions.listByAuthor({ author: author.id, page: 9999, pageSize: 2 })
        assert.strictEqual(last.page, 2)
        assert.deepStrictEqual(last.items.map((c) => [c.id, c.status]), [
          [ids[1], "rejected"],
          [ids[0], "approved"]
        ])
        assert.isTrue(last.items.every((c) => c.createdAt instanceof Date))
        const clamped = yield* confessions.listByAuthor({ author: author.id, page: -5, pageSize: 2 })
        assert.strictEqual(clamped.page, 1)
        const nobody = yield* confessions.listByAuthor({ author: UserId.make(999_999), page: 2, pageSize: 2 })
        assert.deepStrictEqual([nobody.items.length, nobody.page, nobody.totalPages], [0, 1, 1])
      }))

    it.effect("submit - claims the update being handled; a redelivered update writes nothing", () =>
      Effect.gen(function* () {
        const confessions = yield* Confessions
        const sql = yield* SqlClient.SqlClient
        const author = yield* newUser()
        const first = yield* confessions.submit({ author, text: "once", anonymous: true }).pipe(duringUpdate(91_001))
        const again = yield* Effect.flip(confessions.submit({ author, text: "once", anonymous: true }).pipe(duringUpdate(91_001)))
        assert.strictEqual(again._tag, "AlreadyProcessed")
        const page = yield* confessions.listByAuthor({ author: author.id, page: 1, pageSize: 10 })
        assert.deepStrictEqual(page.items.map((c) => c.id), [first.id])
        const claimed = yield* sql`select update_id from processed_updates where update_id in (91001, 91002)`
        assert.strictEqual(claimed.length, 1)
      }))
  })
})
