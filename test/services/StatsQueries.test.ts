import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer, Ref } from "effect"
import { SqlClient, Statement } from "effect/sql"
import { UserId } from "../../src/domain/Ids.ts"
import { StatsQueries } from "../../src/services/StatsQueries.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

/** Counts every statement sent through the SqlClient by fibers in this test's context. */
class Statements extends Context.Service<Statements, Ref.Ref<number>>()("test/StatsQueries/Statements") {
  static readonly layer = Layer.effectContext(
    Effect.gen(function* () {
      const count = yield* Ref.make(0)
      const transformer: Statement.Transformer = (statement) => Effect.as(Ref.update(count, (n) => n + 1), statement)
      return Context.make(Statements, count).pipe(Context.add(Statement.CurrentTransformer, transformer))
    })
  )
}

/** Runs `effect` and returns its value with the number of SQL statements it sent. */
const counting = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const count = yield* Statements
    const before = yield* Ref.get(count)
    const value = yield* effect
    return { value, statements: (yield* Ref.get(count)) - before }
  })

const testLayer = () =>
  Layer.mergeAll(StatsQueries.layer, Statements.layer).pipe(Layer.provideMerge(TestDatabase.layer()))

describe("StatsQueries", () => {
  layer(testLayer(), { timeout: "120 seconds" })(`profileOf (${TestDatabase.backend})`, (it) => {
    it.effect("profileOf - counts approved confessions, visible comments and their reactions in one statement", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const queries = yield* StatsQueries
        yield* sql`insert into users (id, first_name, anonymous_default) values (11, 'Ann', false), (12, 'Bob', true)`
        const confessions = yield* sql<{ id: number }>`
          insert into confessions (author_id, text, anonymous, status) values
            (11, 'a', true, 'approved'), (11, 'b', false, 'approved'), (11, 'c', true, 'pending'),
            (11, 'd', true, 'rejected'), (11, 'e', true, 'deleted'), (12, 'f', true, 'approved')
          returning id`
        const on = confessions[5]!.id
        yield* sql`
          insert into comments (confession_id, author_id, text, likes, dislikes, hidden) values
            (${on}, 11, 'x', 2, 0, false), (${on}, 11, 'y', 1, 1, false), (${on}, 11, 'z', 0, 3, false),
            (${on}, 11, 'hidden', 5, 0, true), (${on}, 12, 'other', 7, 7, false)`

        const ann = yield* counting(queries.profileOf(UserId.make(11)))
        assert.strictEqual(ann.statements, 1)
        assert.deepStrictEqual(ann.value, {
          anonymousDefault: false,
          approvedConfessions: 2,
          commentsWritten: 3,
          likesReceived: 3,
          dislikesReceived: 4
        })
        const bob = yield* counting(queries.profileOf(UserId.make(12)))
        assert.strictEqual(bob.statements, 1)
        assert.deepStrictEqual(bob.value, {
          anonymousDefault: true,
          approvedConfessions: 1,
          commentsWritten: 1,
          likesReceived: 7,
          dislikesReceived: 7
        })
      }))

    it.effect("profileOf - a user without rows gets anonymity on and zeros", () =>
      Effect.gen(function* () {
        const queries = yield* StatsQueries
        const nobody = yield* counting(queries.profileOf(UserId.make(424_242)))
        assert.strictEqual(nobody.statements, 1)
        assert.deepStrictEqual(nobody.value, {
          anonymousDefault: true,
          approvedConfessions: 0,
          commentsWritten: 0,
          likesReceived: 0,
          dislikesReceived: 0
        })
      }))
  })

  layer(testLayer(), { timeout: "120 seconds" })(`system (${TestDatabase.backend})`, (it) => {
    it.effect("system - totals, confessions by status and the last 24 hours in one statement", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const queries = yield* StatsQueries

        const empty = yield* counting(queries.system)
        assert.strictEqual(empty.statements, 1)
        assert.deepStrictEqual(empty.value, {
          users: 0,
          confessionsPending: 0,
          confessionsApproved: 0,
          confessionsRejected: 0,
          confessionsDeleted: 0,
          comments: 0,
          reactions: 0,
          last24h: { newUsers: 0, activeUsers: 0, confessions: 0, comments: 0, reactions: 0 }
        })

        // Users 1-2 are new today; 3 joined long ago but was seen today; 4 is old and idle.
        yield* sql`
          insert into users (id, first_name, created_at, last_seen_at) values
            (1, 'new', now(), now()),
            (2, 'new', now() - interval '1 hour', now() - interval '1 hour'),
            (3, 'back', now() - interval '30 days', now() - interval '2 hours'),
            (4, 'idle', now() - interval '30 days', now() - interval '25 hours')`
        const confessions = yield* sql<{ id: number }>`
          insert into confessions (author_id, text, anonymous, status, created_at) values
            (1, 'p1', true, 'pending', now()),
            (1, 'p2', true, 'pending', now() - interval '3 days'),
            (2, 'a1', true, 'approved', now()),
            (3, 'a2', true, 'approved', now() - interval '2 days'),
            (3, 'a3', true, 'approved', now() - interval '23 hours'),
            (4, 'r1', true, 'rejected', now() - interval '40 days'),
            (4, 'd1', true, 'deleted', now() - interval '40 days')
          returning id`
        const on = confessions[2]!.id
        const comments = yield* sql<{ id: number }>`
          insert into comments (confession_id, author_id, text, created_at, hidden) values
            (${on}, 1, 'c1', now(), false),
            (${on}, 2, 'c2', now() - interval '2 days', false),
            (${on}, 3, 'c3', now() - interval '1 minute', true)
          returning id`
        yield* sql`
          insert into reactions (comment_id, user_id, kind, created_at) values
            (${comments[0]!.id}, 2, 'like', now()),
            (${comments[0]!.id}, 3, 'dislike', now() - interval '3 days'),
            (${comments[1]!.id}, 1, 'like', now() - interval '5 hours')`

        const full = yield* counting(queries.system)
        assert.strictEqual(full.statements, 1)
        assert.deepStrictEqual(full.value, {
          users: 4,
          confessionsPending: 2,
          confessionsApproved: 3,
          confessionsRejected: 1,
          confessionsDeleted: 1,
          comments: 3,
          reactions: 3,
          last24h: { newUsers: 2, activeUsers: 3, confessions: 3, comments: 2, reactions: 2 }
        })
      }))
  })
})
