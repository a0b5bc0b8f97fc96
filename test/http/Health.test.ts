// GET /readyz follows the database: 503 while it cannot be reached, 200 again when it returns.
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { HttpServer } from "effect/http"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import * as Database from "../../src/sql/Database.ts"

const serverUrl = process.env.TEST_DATABASE_URL

describe("Health", () => {
  // Taking a database away needs a server to take it from; the embedded one lives inside the process.
  it.live.skipIf(serverUrl === undefined)("GET /readyz - 503 when the database is unreachable, 200 when it returns", () =>
    Effect.gen(function* () {
      const database = TestDatabase.withFreshDatabase({}, (options) =>
        Database.layer(options).pipe(Layer.merge(Layer.succeed(DatabaseName, databaseNameOf(options))))
      )
      const ctx = yield* Layer.build(
        Layer.unwrap(
          Effect.gen(function* () {
            const db = yield* Layer.build(database)
            const name = yield* DatabaseName.pipe(Effect.provideContext(db))
            return TestApp.layer({ features: Layer.empty, database: Layer.succeedContext(db) }).pipe(
              Layer.merge(Layer.succeed(DatabaseName, name))
            )
          })
        ).pipe(Layer.provideMerge(BotApiEmulator.layer()))
      )
      const name = yield* DatabaseName.pipe(Effect.provideContext(ctx))
      const server = yield* HttpServer.HttpServer.pipe(Effect.provideContext(ctx))
      const port = (server.address as { readonly port: number }).port
      const ready = Effect.promise(() => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status))
      const admin = <A>(run: (sql: PgClient.PgClient) => Effect.Effect<A, unknown>) =>
        Effect.gen(function* () {
          return yield* run(yield* PgClient.PgClient)
        }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(serverUrl!), maxConnections: 1 })), Effect.orDie)

      assert.strictEqual(yield* ready, 200)
      yield* admin((sql) =>
        Effect.andThen(
          sql`alter database ${sql(name)} with allow_connections false`,
          sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`
        )
      )
      assert.strictEqual(yield* ready, 503)
      yield* admin((sql) => sql`alter database ${sql(name)} with allow_connections true`)
      let status = yield* ready
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) status = yield* ready
      assert.strictEqual(status, 200)
    }), { timeout: 60_000 })
})

class DatabaseName extends Context.Service<DatabaseName, string>()("test/Health/DatabaseName") {}
const databaseNameOf = (options: Database.DatabaseOptions) =>
  options.url._tag === "Some" ? new URL(Redacted.value(options.url.value)).pathname.slice(1) : "postgres"
