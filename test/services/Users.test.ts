import { assert, describe, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { SqlClient } from "effect/sql"
import { UserId } from "../../src/domain/Ids.ts"
import { Users } from "../../src/services/Users.ts"
import { duringUpdate, usersOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const ann = { id: UserId.make(1001), firstName: "Ann", lastName: undefined, username: "ann" }

const Services = usersOnDatabase()

describe("Users", () => {
  layer(Services, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("register - creates on first contact with anonymity on, then touches", () =>
      Effect.gen(function* () {
        const users = yield* Users
        const first = yield* users.register(ann)
        assert.strictEqual(first.id, 1001)
        assert.isTrue(first.anonymousDefault)
        assert.isFalse(first.blocked)
        const renamed = yield* users.register({ ...ann, firstName: "Anna", username: undefined })
        assert.strictEqual(renamed.firstName, "Anna")
        assert.isNull(renamed.username)
        assert.isTrue(renamed.lastSeenAt.getTime() >= first.lastSeenAt.getTime())
        assert.deepStrictEqual(Option.map(yield* users.get(ann.id), (u) => u.firstName), Option.some("Anna"))
      }))

    it.effect("register - idempotent under 50 concurrent calls for one id", () =>
      Effect.gen(function* () {
        const users = yield* Users
        const sql = yield* SqlClient.SqlClient
        const id = UserId.make(2002)
        yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) =>
          users.register({ id, firstName: `Bob ${i}`, lastName: undefined, username: undefined }),
        { concurrency: "unbounded", discard: true })
        const [row] = yield* sql<{ n: number }>`select count(*)::int as n from users where id = ${id}`
        assert.strictEqual(row?.n, 1)
      }))

    it.effect("setAnonymity / setBlocked - round trip; unknown user fails NotFound", () =>
      Effect.gen(function* () {
        const users = yield* Users
        yield* users.register(ann)
        assert.isFalse((yield* users.setAnonymity(ann.id, false)).anonymousDefault)
        assert.isTrue((yield* users.setAnonymity(ann.id, true)).anonymousDefault)
        assert.isTrue((yield* users.setBlocked(ann.id, true)).blocked)
        assert.isFalse((yield* users.setBlocked(ann.id, false)).blocked)
        const missing = yield* Effect.flip(users.setAnonymity(UserId.make(999_999), true))
        assert.strictEqual(missing._tag, "UsersError")
        assert.isTrue(Option.isNone(yield* users.get(UserId.make(999_999))))
      }))

    it.effect("setAnonymity - a redelivered 🎭 toggle is applied once, not flipped back", () =>
      Effect.gen(function* () {
        const users = yield* Users
        const sql = yield* SqlClient.SqlClient
        const eve = { id: UserId.make(4004), firstName: "Eve", lastName: undefined, username: undefined }
        // The Profile toggle: the new value is the opposite of the default read at the start of the update.
        const toggle = (updateId: number) =>
          Effect.gen(function* () {
            const before = yield* users.get(eve.id)
            const current = Option.getOrThrow(before).anonymousDefault
            return yield* users.setAnonymity(eve.id, !current).pipe(duringUpdate(updateId))
          })
        assert.isTrue((yield* users.register(eve)).anonymousDefault)
        assert.isFalse((yield* toggle(92_001)).anonymousDefault)
        const again = yield* Effect.flip(toggle(92_001))
        assert.strictEqual(again._tag, "AlreadyProcessed")
        assert.deepStrictEqual(Option.map(yield* users.get(eve.id), (u) => u.anonymousDefault), Option.some(false))
        assert.isFalse((yield* users.register(eve)).anonymousDefault, "the remembered row was not flipped either")
        // A new press is a new update and flips it again; an unknown user's write leaves no claim behind.
        assert.isTrue((yield* toggle(92_002)).anonymousDefault)
        const missing = yield* Effect.flip(users.setAnonymity(UserId.make(999_998), true).pipe(duringUpdate(92_003)))
        assert.strictEqual(missing._tag, "UsersError")
        const claimed = yield* sql<{ updateId: unknown }>`
          select update_id from processed_updates where update_id in (92001, 92002, 92003) order by update_id`
        assert.deepStrictEqual(claimed.map((row) => Number(row.updateId)), [92_001, 92_002])
      }))

    it.effect("register - a burst of updates costs one upsert until the touch interval has passed", () =>
      Effect.gen(function* () {
        const users = yield* Users
        const sql = yield* SqlClient.SqlClient
        const cid = { id: UserId.make(3003), firstName: "Cid", lastName: undefined, username: undefined }
        yield* users.register(cid)
        yield* sql`update users set first_name = 'changed elsewhere' where id = ${cid.id}`
        assert.strictEqual((yield* users.register(cid)).firstName, "Cid", "remembered, no upsert")
        const [stored] = yield* sql<{ firstName: string }>`select first_name from users where id = ${cid.id}`
        assert.strictEqual(stored?.firstName, "changed elsewhere")
        yield* TestClock.adjust("61 seconds")
        assert.strictEqual((yield* users.register(cid)).firstName, "Cid")
        const [refreshed] = yield* sql<{ firstName: string }>`select first_name from users where id = ${cid.id}`
        assert.strictEqual(refreshed?.firstName, "Cid", "upserted again after the interval")
      }))

    it.effect("markInactive - flags the user until they write again", () =>
      Effect.gen(function* () {
        const users = yield* Users
        yield* users.register(ann)
        yield* users.markInactive(ann.id)
        assert.deepStrictEqual(Option.map(yield* users.get(ann.id), (u) => u.inactive), Option.some(true))
        assert.isFalse((yield* users.register(ann)).inactive)
      }))
  })
})
