// The polling leader's advisory lock, each "process" a Leadership layer with a session of its own on one PostgreSQL
// database (the embedded PGlite serves one process, so this needs TEST_DATABASE_URL). Real time: the lock lives in
// PostgreSQL sessions, which the test ends for real.
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Layer, Option, Redacted, Ref, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { Leadership, type Role } from "../../src/sql/Leadership.ts"
import * as Database from "../../src/sql/Database.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const serverUrl = process.env.TEST_DATABASE_URL

class Url extends Context.Service<Url, Option.Option<Redacted.Redacted<string>>>()("test/Leadership/Url") {}

/** A process: a Leadership whose `lead` counts its terms and runs until interrupted; closed with its own scope. */
const candidate = (url: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      Leadership.layerAdvisoryLock({ url, retryInterval: "100 millis", heartbeatInterval: "100 millis" }),
      scope
    )
    const leadership = Context.get(context, Leadership)
    const terms = yield* Ref.make(0)
    const stoppedLeading = yield* Deferred.make<void>()
    yield* leadership
      .run(Effect.andThen(Ref.update(terms, (n) => n + 1), Effect.never).pipe(Effect.onInterrupt(() => Deferred.succeed(stoppedLeading, undefined))))
      .pipe(Scope.provide(scope))
    return { leadership, terms, stoppedLeading, scope }
  })

const eventually = (what: string, condition: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    while (!(yield* condition)) yield* Effect.sleep("20 millis")
  }).pipe(Effect.timeoutOrElse({ duration: "5 seconds", orElse: () => Effect.die(new Error(`never: ${what}`)) }))

const waitForRole = (leadership: Leadership["Service"], role: Role) =>
  eventually(`became ${role}`, Effect.map(leadership.role, (r) => r === role))

describe("Leadership", () => {
  it.live.skipIf(serverUrl === undefined)("advisory lock - one leader; when it stops or its session dies, a standby takes over", () =>
    Effect.gen(function* () {
      const db = yield* Layer.build(
        TestDatabase.withFreshDatabase({ poolMax: 2 }, (options) => Database.layer(options).pipe(Layer.merge(Layer.succeed(Url, options.url))))
      )
      const url = Option.getOrThrow(Context.get(db, Url))
      const sql = Context.get(db, SqlClient.SqlClient)

      const a = yield* candidate(url)
      assert.strictEqual(yield* a.leadership.role, "leader", "the first process leads at once")
      yield* eventually("a leads", Effect.map(Ref.get(a.terms), (n) => n === 1))
      const b = yield* candidate(url)
      assert.strictEqual(yield* b.leadership.role, "standby", "run returns once the first try has an answer")
      assert.strictEqual(yield* Ref.get(b.terms), 0)

      // Stopping: a stops leading before it gives up the lock; b takes over.
      yield* Scope.close(a.scope, Exit.void)
      assert.isTrue(yield* Deferred.isDone(a.stoppedLeading))
      yield* waitForRole(b.leadership, "leader")
      yield* eventually("b leads", Effect.map(Ref.get(b.terms), (n) => n === 1))

      // Dying: the server ends b's session (as it does when a process is killed); b notices at its next heartbeat
      // and stops leading, and whoever takes the lock next leads (c, or b again through a new session). pg_locks
      // covers the whole server: only this database's lock is b's (other test files hold theirs meanwhile).
      const c = yield* candidate(url)
      assert.strictEqual(yield* c.leadership.role, "standby")
      yield* sql`select pg_terminate_backend(pid) from pg_stat_activity
                 where application_name = 'confessions-bot polling-leader' and datname = current_database()
                   and pid = (select pid from pg_locks where locktype = 'advisory' and granted
                              and database = (select oid from pg_database where datname = current_database()))`
      yield* Deferred.await(b.stoppedLeading).pipe(Effect.timeout("5 seconds"))
      yield* Effect.sleep("500 millis")
      const roles = [yield* b.leadership.role, yield* c.leadership.role]
      assert.deepStrictEqual([...roles].sort(), ["leader", "standby"], "exactly one leader again")
      yield* eventually("one new term", Effect.map(Effect.all([Ref.get(b.terms), Ref.get(c.terms)]), ([x, y]) => x + y === 2))
      yield* Scope.close(b.scope, Exit.void)
      yield* Scope.close(c.scope, Exit.void)
    }), { timeout: 60_000 })

  it.effect("always - the embedded database's one process leads", () =>
    Effect.gen(function* () {
      const leadership = yield* Leadership
      assert.strictEqual(yield* leadership.role, "leader")
    }).pipe(Effect.provide(Leadership.layerAlways)))
})
