import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { Context, Deferred, Duration, Effect, Exit, Fiber, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as Database from "../../src/sql/Database.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

/** The options of one fresh database; each test builds its own pools over it. */
class FreshDatabase extends Context.Service<FreshDatabase, Database.DatabaseOptions>()("test/Pool/FreshDatabase") {}

const fresh = (overrides: Partial<Database.DatabaseOptions>) =>
  TestDatabase.withFreshDatabase(overrides, (options) => Layer.succeed(FreshDatabase, options))

/** Backends of this database that still exist, among `pids`, seen from a separate observer connection. */
const liveBackends = (observer: SqlClient.SqlClient, pids: ReadonlyArray<number>) =>
  Effect.map(
    observer<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid in ${observer.in(pids)}`,
    (rows) => rows[0]?.n ?? -1
  )

/**
 * Re-asks until `check` holds or `attempts` round trips have passed: a closed socket ends its server backend a
 * moment later, and a round trip is the only clock the test waits on (no sleeps).
 */
const eventually = <A, E, R>(effect: Effect.Effect<A, E, R>, check: (a: A) => boolean, attempts = 2000): Effect.Effect<A, E, R> =>
  Effect.flatMap(effect, (a) => (check(a) || attempts <= 1 ? Effect.succeed(a) : eventually(effect, check, attempts - 1)))

/** A separate one-connection client to the same database, outside the pool under test. */
const withObserver = <A, E, R>(options: Database.DatabaseOptions, f: (observer: SqlClient.SqlClient) => Effect.Effect<A, E, R>) =>
  Effect.scoped(
    Effect.flatMap(
      Layer.build(
        PgClient.layer({
          url: Option.getOrThrow(options.url),
          applicationName: "confessions-pool-observer",
          maxConnections: 1
        })
      ),
      (context) => f(Context.get(context, SqlClient.SqlClient))
    )
  )

describe("Pool", () => {
  layer(TestDatabase.layer({ poolMax: 1, acquireTimeout: Duration.seconds(2) }), { timeout: "120 seconds" })(
    `acquire timeout (${TestDatabase.backend})`,
    (it) => {
      it.effect("acquire - times out a waiting acquire with a clear error", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const holding = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()
          // The only connection is held by an open transaction until `release`.
          const holder = yield* Effect.forkChild(
            sql.withTransaction(
              Effect.gen(function* () {
                yield* sql`select 1`
                yield* Deferred.succeed(holding, undefined)
                yield* Deferred.await(release)
              })
            )
          )
          yield* Deferred.await(holding)
          const waiter = yield* Effect.forkChild(sql`select 1 as one`)
          for (let i = 0; i < 20; i++) yield* Effect.yieldNow
          yield* TestClock.adjust(Duration.millis(1999))
          assert.isUndefined(waiter.pollUnsafe(), "still waiting just before the timeout")

          yield* TestClock.adjust(Duration.millis(1))
          const exit = yield* Fiber.await(waiter)
          assert.isTrue(Exit.isFailure(exit))
          const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
          assert.strictEqual(error?._tag, "Fail")
          const failure = error?._tag === "Fail" ? error.error : undefined
          assert.strictEqual(failure?._tag, "SqlError")
          assert.strictEqual(failure?.reason._tag, "ConnectionError")
          assert.strictEqual(failure?.reason.operation, "acquire")
          assert.strictEqual(
            failure?.reason.message,
            "Database: no pooled connection became free within 2s (all 1 in use)"
          )

          // The pool is unharmed: the holder commits and the next statement gets the connection.
          yield* Deferred.succeed(release, undefined)
          yield* Fiber.join(holder)
          assert.deepStrictEqual(yield* sql<{ one: number }>`select 1 as one`, [{ one: 1 }])
        }))

      it.effect("acquire - waiters queue; one freed in time succeeds, an interrupted one leaves no permit behind", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const holding = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()
          const holder = yield* Effect.forkChild(
            sql.withTransaction(
              Effect.andThen(Deferred.succeed(holding, undefined), Deferred.await(release))
            )
          )
          yield* Deferred.await(holding)
          const patient = yield* Effect.forkChild(sql<{ one: number }>`select 1 as one`)
          const abandoned = yield* Effect.forkChild(sql`select 2`)
          for (let i = 0; i < 20; i++) yield* Effect.yieldNow
          yield* TestClock.adjust(Duration.seconds(1))
          yield* Fiber.interrupt(abandoned)
          yield* Deferred.succeed(release, undefined)
          yield* Fiber.join(holder)
          assert.deepStrictEqual(yield* Fiber.join(patient), [{ one: 1 }])
          yield* TestClock.adjust(Duration.seconds(5))

          // 30 statements through one connection: all queue and all succeed while time stands still.
          const many = yield* Effect.all(
            Array.from({ length: 30 }, (_, i) => sql<{ n: number }>`select ${i}::int as n`),
            { concurrency: "unbounded" }
          )
          assert.deepStrictEqual(
            many.map((rows) => rows[0]?.n),
            Array.from({ length: 30 }, (_, i) => i)
          )
        }))

      it.effect("withTransaction - commits, rolls back, nests, and reports a COMMIT that rolled back", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const ids = Effect.map(sql<{ id: number }>`select id::int as id from users order by id`, (rows) =>
            rows.map((row) => row.id)
          )
          yield* sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`insert into users (id, first_name) values (1, 'kept')`
              yield* sql.withTransaction(sql`insert into users (id, first_name) values (2, 'nested')`)
              yield* Effect.exit(
                sql.withTransaction(
                  Effect.andThen(sql`insert into users (id, first_name) values (3, 'undone')`, Effect.fail("no"))
                )
              )
            })
          )
          assert.deepStrictEqual(yield* ids, [1, 2])

          const failed = yield* Effect.exit(
            sql.withTransaction(Effect.andThen(sql`insert into users (id, first_name) values (4, 'x')`, Effect.fail("no")))
          )
          assert.isTrue(Exit.isFailure(failed))
          assert.deepStrictEqual(yield* ids, [1, 2])

          // A statement error swallowed inside the transaction aborts it; PostgreSQL then answers COMMIT with ROLLBACK.
          const aborted = yield* Effect.flip(
            sql.withTransaction(
              Effect.gen(function* () {
                yield* sql`insert into users (id, first_name) values (5, 'lost')`
                yield* Effect.ignore(sql`insert into users (id, first_name) values (1, 'duplicate')`)
              })
            )
          )
          assert.strictEqual(aborted._tag, "SqlError")
          assert.include(String(aborted.message), "COMMIT rolled back")
          assert.deepStrictEqual(yield* ids, [1, 2])
        }))
    }
  )

  describe.skipIf(TestDatabase.backend === "pglite")(
    "server connections (PostgreSQL only: PGlite serves every pooled connection from one in-process backend, " +
      "so pg_stat_activity and pg_backend_pid() cannot tell connections apart)",
    () => {
      layer(fresh({ poolMax: 3 }), { timeout: "120 seconds" })("PostgreSQL", (it) => {
        it.effect("layer - 50 concurrent queries with poolMax 3 never open a 4th server connection", () =>
          Effect.gen(function* () {
            const options = yield* FreshDatabase
            const rows = yield* Effect.gen(function* () {
              const sql = yield* SqlClient.SqlClient
              // Each query counts this program's connections to the database while all 50 are in flight.
              const results = yield* Effect.all(
                Array.from(
                  { length: 50 },
                  () => sql<{ pid: number; connections: number }>`
                    with nap as (select pg_sleep(0.05))
                    select
                      pg_backend_pid() as pid,
                      (select count(*)::int from pg_stat_activity
                        where datname = current_database() and application_name = 'confessions-bot') as connections
                    from nap`
                ),
                { concurrency: "unbounded" }
              )
              return results.flat()
            }).pipe(Effect.provide(Database.layer(options)))
            assert.strictEqual(rows.length, 50)
            const pids = new Set(rows.map((row) => row.pid))
            const most = Math.max(...rows.map((row) => row.connections))
            assert.isAtMost(pids.size, 3)
            assert.isAtMost(most, 3)
            assert.isAtLeast(most, 2, "the queries did run side by side")
          }))

        it.effect("layer - after the connection TTL a new server backend serves queries", () =>
          Effect.gen(function* () {
            const options = yield* FreshDatabase
            yield* Effect.gen(function* () {
              const sql = yield* SqlClient.SqlClient
              const pid = Effect.map(sql<{ pid: number }>`select pg_backend_pid() as pid`, (rows) => rows[0]?.pid)
              const first = yield* pid
              assert.strictEqual(yield* pid, first)
              yield* TestClock.adjust(Duration.seconds(9))
              assert.strictEqual(yield* pid, first, "not recycled before the TTL")
              yield* TestClock.adjust(Duration.seconds(1))
              const second = yield* pid
              assert.notStrictEqual(second, first)
              assert.strictEqual(yield* pid, second)

              const closed = yield* withObserver(options, (observer) =>
                eventually(liveBackends(observer, [first!]), (n) => n === 0)
              )
              assert.strictEqual(closed, 0, "the recycled connection was closed")
            }).pipe(Effect.provide(Database.layer({ ...options, poolMax: 1, connectionTtl: Duration.seconds(10) })))
          }))

        it.effect("layer - closing the layer closes every pooled connection", () =>
          Effect.gen(function* () {
            const options = yield* FreshDatabase
            const pids = yield* Effect.gen(function* () {
              const sql = yield* SqlClient.SqlClient
              const rows = yield* Effect.all(
                Array.from(
                  { length: 10 },
                  () => sql<{ pid: number }>`with nap as (select pg_sleep(0.02)) select pg_backend_pid() as pid from nap`
                ),
                { concurrency: "unbounded" }
              )
              return Array.from(new Set(rows.flat().map((row) => row.pid)))
            }).pipe(Effect.provide(Database.layer(options)))

            assert.isAtLeast(pids.length, 1)
            const left = yield* withObserver(options, (observer) =>
              eventually(liveBackends(observer, pids), (n) => n === 0)
            )
            assert.strictEqual(left, 0)
          }))

        it.effect("layer - the closing check sees connections that are still open", () =>
          Effect.gen(function* () {
            const options = yield* FreshDatabase
            yield* Effect.gen(function* () {
              const sql = yield* SqlClient.SqlClient
              const [row] = yield* sql<{ pid: number }>`select pg_backend_pid() as pid`
              assert.strictEqual(yield* withObserver(options, (observer) => liveBackends(observer, [row!.pid])), 1)
            }).pipe(Effect.provide(Database.layer(options)))
          }))
      })
    }
  )
})
