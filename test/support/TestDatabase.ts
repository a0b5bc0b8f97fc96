// The database every test uses: embedded PGlite (in memory) by default, real PostgreSQL when TEST_DATABASE_URL is set.
// With PostgreSQL each layer build creates its own uniquely named database and drops it when the layer closes, so
// runs never collide.
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import type { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import * as Database from "../../src/sql/Database.ts"

export const backend: "postgres" | "pglite" = process.env.TEST_DATABASE_URL ? "postgres" : "pglite"

/** Options for an embedded PGlite; tests that need its data directory add `dataDir`. */
export const pgliteOptions: Database.DatabaseOptions = {
  url: Option.none(),
  dataDir: undefined,
  poolMax: 10,
  connectionTtl: Duration.minutes(5),
  // Tests run on TestClock: far beyond any TestClock.adjust in the suite, so moving time while a statement waits
  // for a connection never times it out by accident. test/sql/Pool.test.ts sets its own.
  acquireTimeout: Duration.days(1)
}

/**
 * Provides options for a fresh database: a new PostgreSQL database (dropped on close) or a new in-memory PGlite.
 * `overrides` set pool settings or a PGlite data directory.
 */
export const withFreshDatabase = <A, E, R>(
  overrides: Partial<Database.DatabaseOptions>,
  use: (options: Database.DatabaseOptions) => Layer.Layer<A, E, R>
): Layer.Layer<A, E | SqlError, R> => {
  const serverUrl = process.env.TEST_DATABASE_URL
  if (!serverUrl || overrides.dataDir !== undefined) return use({ ...pgliteOptions, ...overrides })
  return Layer.unwrap(
    Effect.gen(function* () {
      const name = `confessions_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
      yield* Effect.acquireRelease(admin(serverUrl, (sql) => sql`create database ${sql(name)}`), () =>
        admin(serverUrl, (sql) => sql`drop database if exists ${sql(name)} with (force)`).pipe(Effect.ignore)
      )
      const url = new URL(serverUrl)
      url.pathname = `/${name}`
      return use({ ...pgliteOptions, ...overrides, url: Option.some(Redacted.make(url.toString())) })
    })
  )
}

/** SqlClient + PgClient over a fresh, migrated database. */
export const layer = (
  overrides: Partial<Database.DatabaseOptions> = {}
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError | Database.DatabaseError> =>
  withFreshDatabase(overrides, Database.layer)

const admin = <A>(serverUrl: string, f: (sql: PgClient.PgClient) => Effect.Effect<A, SqlError>) =>
  Effect.gen(function* () {
    const sql = yield* PgClient.PgClient
    return yield* f(sql)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(serverUrl), maxConnections: 1 })))
