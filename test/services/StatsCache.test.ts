import { assert, describe, layer } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Layer, Metric, Ref } from "effect"
import { SqlClient, Statement } from "effect/sql"
import { TestClock } from "effect/testing"
import { UserId } from "../../src/domain/Ids.ts"
import * as StatsCacheModule from "../../src/services/StatsCache.ts"
import { StatsCache, type StatsCacheOptions } from "../../src/services/StatsCache.ts"
import { StatsQueries } from "../../src/services/StatsQueries.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

/**
 * Counts every statement sent through the SqlClient by fibers in this test's context (the cache's lookup fiber
 * inherits it), and can make the next statements fail for real by swapping in SQL that PostgreSQL rejects.
 */
class Statements extends Context.Service<
  Statements,
  { readonly count: Ref.Ref<number>; readonly failing: Ref.Ref<number> }
>()("test/StatsCache/Statements") {
  static readonly layer = Layer.effectContext(
    Effect.gen(function* () {
      const count = yield* Ref.make(0)
      const failing = yield* Ref.make(0)
      const transformer: Statement.Transformer = (statement, sql) =>
        Effect.gen(function* () {
          yield* Ref.update(count, (n) => n + 1)
          const fail = yield* Ref.modify(failing, (n) => [n > 0, Math.max(0, n - 1)] as const)
          return fail ? sql`select * from stats_cache_test_no_such_table` : statement
        })
      return Context.make(Statements, { count, failing }).pipe(Context.add(Statement.CurrentTransformer, transformer))
    })
  )
}

/** Runs `effect` and returns its value with the number of SQL statements it sent. */
const counting = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const { count } = yield* Statements
    const before = yield* Ref.get(count)
    const value = yield* effect
    return { value, statements: (yield* Ref.get(count)) - before }
  })

/** Runs `body` against a fresh cache (and a fresh metric registry) over the shared database. */
const withCache = <A, E, R>(options: StatsCacheOptions, body: Effect.Effect<A, E, R>) =>
  body.pipe(Effect.provide(StatsCache.layer(options)), Effect.provideService(Metric.MetricRegistry, new Map()))

const counter = (metric: Metric.Metric<number, Metric.CounterState<number>>, cache: "profile" | "system") =>
  Effect.map(Metric.value(Metric.withAttributes(metric, { cache })), (state) => state.count)

const sizeOf = (cache: "profile" | "system") =>
  Effect.map(Metric.value(Metric.withAttributes(StatsCacheModule.size, { cache })), (state) => state.value)

/** A user with one approved confession, so a profile has something to count. */
const seedUser = (id: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`insert into users (id, first_name) values (${id}, 'U')`
    yield* sql`insert into confessions (author_id, text, anonymous, status) values (${id}, 'c', true, 'approved')`
    return UserId.make(id)
  })

const fiveMinutes = { ttl: Duration.minutes(5), capacity: 100 }

describe("StatsCache", () => {
  layer(
    Layer.mergeAll(StatsQueries.layer, Statements.layer).pipe(Layer.provideMerge(TestDatabase.layer())),
    { timeout: "120 seconds" }
  )(TestDatabase.backend, (it) => {
    it.effect("profileOf - the first view costs one statement, the next 99 none", () =>
      withCache(
        fiveMinutes,
        Effect.gen(function* () {
          const user = yield* seedUser(101)
          const cache = yield* StatsCache
          const first = yield* counting(cache.profileOf(user))
          assert.strictEqual(first.statements, 1)
          assert.strictEqual(first.value.approvedConfessions, 1)
          const rest = yield* counting(Effect.replicateEffect(cache.profileOf(user), 99))
          assert.strictEqual(rest.statements, 0)
          assert.isTrue(rest.value.every((stats) => stats.approvedConfessions === 1))
          assert.strictEqual(yield* counter(StatsCacheModule.missesTotal, "profile"), 1)
          assert.strictEqual(yield* counter(StatsCacheModule.hitsTotal, "profile"), 99)
          assert.strictEqual(yield* sizeOf("profile"), 1)
        })
      ))

    it.effect("profileOf - 100 concurrent views of a cold key share one statement", () =>
      withCache(
        fiveMinutes,
        Effect.gen(function* () {
          const user = yield* seedUser(102)
          const cache = yield* StatsCache
          const views = yield* counting(
            Effect.all(Array.from({ length: 100 }, () => cache.profileOf(user)), { concurrency: "unbounded" })
          )
          assert.strictEqual(views.statements, 1)
          assert.strictEqual(views.value.length, 100)
          assert.isTrue(views.value.every((stats) => stats.approvedConfessions === 1))
          assert.strictEqual(yield* counter(StatsCacheModule.missesTotal, "profile"), 1)
          assert.strictEqual(yield* counter(StatsCacheModule.hitsTotal, "profile"), 99)
        })
      ))

    it.effect("forget - the user's own write then a view shows fresh numbers", () =>
      withCache(
        fiveMinutes,
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const user = yield* seedUser(103)
          const cache = yield* StatsCache
          assert.strictEqual((yield* cache.profileOf(user)).approvedConfessions, 1)

          const [written] = yield* sql<{ id: number }>`
            insert into confessions (author_id, text, anonymous) values (${user}, 'second', true) returning id`
          yield* sql`update confessions set status = 'approved' where id = ${written!.id}`
          // Without forget the cached entry still answers, at no cost: the cache is really in the way.
          const stale = yield* counting(cache.profileOf(user))
          assert.deepStrictEqual([stale.statements, stale.value.approvedConfessions], [0, 1])

          yield* cache.forget(user)
          assert.strictEqual(yield* sizeOf("profile"), 0)
          const fresh = yield* counting(cache.profileOf(user))
          assert.deepStrictEqual([fresh.statements, fresh.value.approvedConfessions], [1, 2])
        })
      ))

    it.effect("profileOf - an entry expires after the TTL and costs one new statement", () =>
      withCache(
        fiveMinutes,
        Effect.gen(function* () {
          const user = yield* seedUser(104)
          const cache = yield* StatsCache
          assert.strictEqual((yield* counting(cache.profileOf(user))).statements, 1)
          yield* TestClock.adjust(Duration.subtract(Duration.minutes(5), Duration.millis(1)))
          assert.strictEqual((yield* counting(cache.profileOf(user))).statements, 0)
          yield* TestClock.adjust(Duration.millis(1))
          assert.strictEqual((yield* counting(cache.profileOf(user))).statements, 1)
          assert.strictEqual((yield* counting(cache.profileOf(user))).statements, 0)
        })
      ))

    it.effect("profileOf - a failed lookup is not cached", () =>
      withCache(
        fiveMinutes,
        Effect.gen(function* () {
          const user = yield* seedUser(105)
          const cache = yield* StatsCache
          const { failing } = yield* Statements
          yield* Ref.set(failing, 1)
          const failed = yield* counting(Effect.exit(cache.profileOf(user)))
          assert.strictEqual(failed.statements, 1)
          assert.isTrue(Exit.isFailure(failed.value))
          assert.strictEqual(Exit.isFailure(failed.value) ? failed.value.cause.reasons[0]?._tag : undefined, "Fail")
          const retried = yield* counting(cache.profileOf(user))
          assert.deepStrictEqual([retried.statements, retried.value.approvedConfessions], [1, 1])
          assert.strictEqual((yield* counting(cache.profileOf(user))).statements, 0)
        })
      ))

    it.effect("profileOf - capacity evicts the least recently used profile", () =>
      withCache(
        { ttl: Duration.minutes(5), capacity: 2 },
        Effect.gen(function* () {
          const [a, b, c] = [yield* seedUser(106), yield* seedUser(107), yield* seedUser(108)]
          const cache = yield* StatsCache
          yield* cache.profileOf(a)
          yield* cache.profileOf(b)
          yield* cache.profileOf(a) // a is now the most recently used
          yield* cache.profileOf(c) // evicts b
          assert.strictEqual(yield* sizeOf("profile"), 2)
          assert.strictEqual((yield* counting(cache.profileOf(a))).statements, 0)
          assert.strictEqual((yield* counting(cache.profileOf(b))).statements, 1)
        })
      ))

    for (const off of [
      { name: "capacity 0", options: { ttl: Duration.minutes(5), capacity: 0 } },
      { name: "TTL 0", options: { ttl: Duration.zero, capacity: 100 } }
    ]) {
      it.effect(`layer - ${off.name} turns the cache off: every lookup queries`, () =>
        withCache(
          off.options,
          Effect.gen(function* () {
            const user = yield* seedUser(off.options.capacity === 0 ? 109 : 110)
            const cache = yield* StatsCache
            const views = yield* counting(Effect.replicateEffect(cache.profileOf(user), 3))
            assert.strictEqual(views.statements, 3)
            assert.strictEqual((yield* counting(cache.system)).statements, 1)
            assert.strictEqual((yield* counting(cache.system)).statements, 1)
            assert.strictEqual(yield* counter(StatsCacheModule.missesTotal, "profile"), 3)
            assert.strictEqual(yield* counter(StatsCacheModule.hitsTotal, "profile"), 0)
          })
        ))
    }

    it.effect("system - cached for the TTL but at most 30 seconds", () =>
      withCache(
        fiveMinutes,
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const cache = yield* StatsCache
          const first = yield* counting(cache.system)
          assert.strictEqual(first.statements, 1)
          yield* sql`insert into users (id, first_name) values (111, 'late')`
          const cached = yield* counting(cache.system)
          assert.deepStrictEqual([cached.statements, cached.value.users], [0, first.value.users])
          yield* TestClock.adjust(StatsCacheModule.systemTtlCap)
          const fresh = yield* counting(cache.system)
          assert.deepStrictEqual([fresh.statements, fresh.value.users], [1, first.value.users + 1])
          assert.strictEqual(yield* counter(StatsCacheModule.missesTotal, "system"), 2)
          assert.strictEqual(yield* counter(StatsCacheModule.hitsTotal, "system"), 1)
        })
      ))

    it.effect("system - a TTL shorter than the cap wins", () =>
      withCache(
        { ttl: Duration.seconds(5), capacity: 100 },
        Effect.gen(function* () {
          const cache = yield* StatsCache
          assert.strictEqual((yield* counting(cache.system)).statements, 1)
          yield* TestClock.adjust(Duration.seconds(4))
          assert.strictEqual((yield* counting(cache.system)).statements, 0)
          yield* TestClock.adjust(Duration.seconds(1))
          assert.strictEqual((yield* counting(cache.system)).statements, 1)
        })
      ))
  })
})
