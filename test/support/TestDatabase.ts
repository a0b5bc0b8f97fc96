// The database every test uses: embedded PGlite (in memory) by default, real PostgreSQL when TEST_DATABASE_URL is set.
// With PostgreSQL each layer build creates its own uniquely named database and drops it when the layer closes, so
// runs never collide.
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Option, Redacted, type Result } from "effect"
import type { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import * as Crypto from "node:crypto"
import * as FsSync from "node:fs"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
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
): Layer.Layer<A, E | SqlError | Database.DatabaseError, R> => {
  const serverUrl = process.env.TEST_DATABASE_URL
  if (overrides.dataDir !== undefined) return use({ ...pgliteOptions, ...overrides })
  if (!serverUrl) {
    return Layer.unwrap(
      Effect.gen(function* () {
        const loaned = yield* borrowShared
        if (loaned !== undefined) {
          return use({ ...pgliteOptions, ...overrides, poolMax: 1, url: Option.some(Redacted.make(loaned)) })
        }
        return use({ ...pgliteOptions, seed: yield* seed, ...overrides })
      })
    )
  }
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

/**
 * The migrated empty database every in-memory PGlite of the run starts from (`Database.embeddedSeed`), made once and
 * kept in the OS temp directory under a name that changes with the migrations and the PGlite version, so the test
 * files of a run (each in its own worker) share it and a changed schema never starts from a stale one.
 */
const seed: Effect.Effect<Blob, SqlError | Database.DatabaseError> = Effect.suspend(() => {
  cachedSeed ??= Effect.runPromise(Effect.result(loadOrMakeSeed))
  const made = cachedSeed
  return Effect.flatMap(Effect.promise(() => made), Effect.fromResult)
})

let cachedSeed: Promise<Result.Result<Blob, SqlError | Database.DatabaseError>> | undefined

const loadOrMakeSeed = Effect.gen(function* () {
  const file = yield* Effect.promise(seedFile)
  const stored = yield* Effect.promise(() => Fs.readFile(file).catch(() => undefined))
  if (stored !== undefined) return new Blob([stored])
  const made = yield* Database.embeddedSeed
  yield* Effect.promise(async () => {
    // Written aside and renamed, so a worker reading it never sees half a file.
    const partial = `${file}.${process.pid}.partial`
    await Fs.writeFile(partial, new Uint8Array(await made.arrayBuffer()))
    await Fs.rename(partial, file)
  })
  return made
})

const seedFile = async (): Promise<string> => {
  const root = Path.resolve(import.meta.dirname, "../..")
  const migrationsDir = Path.join(root, "src/sql/migrations")
  const hash = Crypto.createHash("sha256")
  for (const name of (await Fs.readdir(migrationsDir)).sort()) hash.update(name).update(await Fs.readFile(Path.join(migrationsDir, name)))
  hash.update(await Fs.readFile(Path.join(root, "node_modules/@electric-sql/pglite/package.json")))
  return Path.join(Os.tmpdir(), `confessions-test-seed-${hash.digest("hex").slice(0, 16)}.tar`)
}

/**
 * PGlite costs seconds of CPU to start even from the seed, so each test process keeps one and lends it to one layer
 * at a time, emptied (every table truncated, identities restarted) before each loan: a test sees a fresh database as
 * before. A layer built while the shared one is lent out (two databases in one test) gets one of its own.
 * `undefined` when it is lent out.
 */
const borrowShared: Effect.Effect<string | undefined, SqlError | Database.DatabaseError, import("effect").Scope.Scope> =
  Effect.gen(function* () {
    if (sharedBusy) return undefined
    sharedBusy = true
    yield* Effect.addFinalizer(() => Effect.sync(() => (sharedBusy = false)))
    const blob = yield* seed
    sharedStarted ??= startShared(blob)
    const shared = sharedStarted
    yield* Effect.promise(async () => {
      const { db } = await shared
      const tables = await db.query<{ name: string }>(
        "select quote_ident(tablename) as name from pg_tables where schemaname = 'public' and tablename <> 'effect_sql_migrations'"
      )
      await db.exec(`truncate table ${tables.rows.map((row) => row.name).join(", ")} restart identity cascade`)
    })
    return (yield* Effect.promise(() => shared)).url
  })

let sharedBusy = false
let sharedStarted: Promise<{ readonly db: PGlite; readonly url: string }> | undefined

const startShared = async (blob: Blob) => {
  const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "confessions-test-db-"))
  const db = await PGlite.create({ loadDataDir: blob })
  const server = new PGLiteSocketServer({ db, path: Path.join(dir, Database.embeddedSocketName), maxConnections: 4 })
  await server.start()
  process.once("exit", () => FsSync.rmSync(dir, { recursive: true, force: true }))
  return { db, url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(dir)}` }
}
