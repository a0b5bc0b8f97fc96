// Stats-cache invalidation between processes, each "process" a bus on a connection of its own: over Redis pub/sub
// (the machine's shared Redis under a fresh channel; a Redis of the test's own where it is stopped) and over
// PostgreSQL LISTEN/NOTIFY (with TEST_DATABASE_URL). Real time: messages travel through a real server.
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Option, Queue, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import * as Path from "node:path"
import * as Os from "node:os"
import { startRedis } from "../../scripts/bench/cluster.ts"
import { UserId } from "../../src/domain/Ids.ts"
import { StatsCache } from "../../src/services/StatsCache.ts"
import { type Invalidation, StatsInvalidation } from "../../src/services/StatsInvalidation.ts"
import { StatsQueries } from "../../src/services/StatsQueries.ts"
import * as Database from "../../src/sql/Database.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import * as TestRedis from "../support/TestRedis.ts"
import { NodeRedis } from "@effect/platform-node"

const serverUrl = process.env.TEST_DATABASE_URL

/** Everything a bus received within `within`, after it went quiet for 300 ms. */
const drain = (bus: StatsInvalidation["Service"], within: Duration.Input = "5 seconds") =>
  Effect.gen(function* () {
    const got: Array<Invalidation> = []
    const first = yield* Queue.take(bus.received).pipe(Effect.timeoutOption(within))
    if (Option.isNone(first)) return got
    got.push(first.value)
    while (true) {
      const next = yield* Queue.take(bus.received).pipe(Effect.timeoutOption("300 millis"))
      if (Option.isNone(next)) return got
      got.push(next.value)
    }
  })

const usersIn = (messages: ReadonlyArray<Invalidation>) =>
  messages.flatMap((m) => (m._tag === "Users" ? m.users : [])).sort((a, b) => a - b)

const redisBus = (channel: string, url = TestRedis.url) =>
  Effect.map(
    Layer.build(StatsInvalidation.layerRedis({ channel }).pipe(Layer.provide(NodeRedis.layer({ url, disableOfflineQueue: true })))),
    (context) => Context.get(context, StatsInvalidation)
  )

/** Two or more processes' buses agree on one channel; what one announces reaches the others, not itself. */
const exchange = (a: StatsInvalidation["Service"], b: StatsInvalidation["Service"]) =>
  Effect.gen(function* () {
    // Subscriptions are confirmed before a layer is ready, but give the servers a moment to agree.
    yield* Effect.sleep("200 millis")
    yield* a.announce(UserId.make(7))
    yield* a.announce(UserId.make(8))
    assert.deepStrictEqual(usersIn(yield* drain(b)), [7, 8])
    assert.deepStrictEqual(yield* drain(a, "500 millis"), [], "a process ignores its own announcements")
    // 1,000 writes at once: every id arrives, in a handful of messages (at most 400 ids each).
    for (let id = 1; id <= 1000; id++) yield* a.announce(UserId.make(id))
    const burst = yield* drain(b)
    assert.deepStrictEqual(usersIn(burst), Array.from({ length: 1000 }, (_, i) => i + 1))
    assert.isAtMost(burst.length, 10)
  })

describe("StatsInvalidation", () => {
  it.live("Redis - what one process announces reaches another, batched; never itself", () =>
    Effect.gen(function* () {
      const channel = `${TestRedis.freshPrefix()}stats`
      yield* exchange(yield* redisBus(channel), yield* redisBus(channel))
    }), { timeout: 30_000 })

  it.live("Redis - after the connection failed and came back, the process forgets everything", () =>
    Effect.gen(function* () {
      const redis = yield* startRedis(Path.join(Os.tmpdir(), `confessions-stats-invalidation-${process.pid}.log`))
      const a = yield* redisBus("stats", redis.url)
      const b = yield* redisBus("stats", redis.url)
      yield* redis.stop
      // A write while Redis is down is kept and sent again until it goes out.
      yield* a.announce(UserId.make(42))
      yield* Effect.sleep("1500 millis")
      yield* redis.start
      // Whether 42 itself reaches b depends on which reconnects first, a's publisher or b's subscriber; either way
      // b forgets everything once its own probe shows the subscription is back.
      const got = yield* drain(b, "10 seconds")
      assert.isTrue(got.some((m) => m._tag === "All"), "b cleared everything after the gap")
    }), { timeout: 30_000 })

  it.live.skipIf(serverUrl === undefined)("PostgreSQL - LISTEN/NOTIFY: the same, and a lost session means forget everything", () =>
    Effect.gen(function* () {
      const context = yield* Layer.build(
        TestDatabase.withFreshDatabase({ poolMax: 2 }, (options) =>
          Database.layer(options).pipe(Layer.merge(Layer.succeed(Url, options.url)))
        )
      )
      const url = Option.getOrThrow(Context.get(context, Url))
      const bus = Effect.map(
        Layer.build(StatsInvalidation.layerPostgres({ url, channel: "stats_test" }).pipe(Layer.provide(Layer.succeedContext(context)))),
        (built) => Context.get(built, StatsInvalidation)
      )
      const a = yield* bus
      const b = yield* bus
      yield* exchange(a, b)
      // The LISTEN sessions are ended by the server: both subscribe again and forget everything.
      const sql = Context.get(context, SqlClient.SqlClient)
      yield* sql`select pg_terminate_backend(pid) from pg_stat_activity
                 where application_name = 'confessions-bot stats-invalidation' and datname = current_database()`
      const got = yield* drain(b, "10 seconds")
      assert.isTrue(got.some((m) => m._tag === "All"))
      yield* a.announce(UserId.make(5))
      assert.deepStrictEqual(usersIn(yield* drain(b)), [5], "and hears the others again")
    }), { timeout: 60_000 })

  it.live("StatsCache - a write on one process makes another process query again", () =>
    Effect.gen(function* () {
      const db = yield* Layer.build(TestDatabase.layer())
      const sql = Context.get(db, SqlClient.SqlClient)
      yield* sql`insert into users (id, first_name) values (77, 'U')`
      yield* sql`insert into confessions (author_id, text, anonymous, status) values (77, 'c', true, 'approved')`
      const channel = `${TestRedis.freshPrefix()}stats`
      const process = Effect.map(
        Layer.build(
          StatsCache.layerNoDeps({ ttl: "1 hour", capacity: 100 }).pipe(
            Layer.provide(StatsQueries.layer),
            Layer.provide(StatsInvalidation.layerRedis({ channel })),
            Layer.provide(NodeRedis.layer({ url: TestRedis.url })),
            Layer.provide(Layer.succeedContext(db))
          )
        ),
        (context) => Context.get(context, StatsCache)
      )
      const a = yield* process
      const b = yield* process
      yield* Effect.sleep("200 millis")
      const user = UserId.make(77)
      const before = yield* b.profileOf(user)
      yield* sql`insert into confessions (author_id, text, anonymous, status) values (77, 'd', true, 'approved')`
      assert.deepStrictEqual(yield* b.profileOf(user), before, "b serves its cached numbers")
      yield* a.forget(user)
      let after = before
      for (let i = 0; i < 100 && after === before; i++) {
        yield* Effect.sleep("20 millis")
        after = yield* b.profileOf(user)
      }
      assert.notDeepEqual(after, before, "b forgot the entry a's write changed")
    }), { timeout: 30_000 })
})

class Url extends Context.Service<Url, Option.Option<Redacted.Redacted<string>>>()("test/StatsInvalidation/Url") {}
