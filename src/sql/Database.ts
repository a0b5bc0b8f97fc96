// The one SqlClient of the program: a pooled PostgreSQL client when DATABASE_URL is set, otherwise an embedded
// PGlite (persisted under DATA_DIR) reached through the same @effect/sql-pg client over a private Unix socket.
// Either way the schema is migrated before the layer is ready, so handlers never know which one they got.
// A statement or transaction that waits longer than `acquireTimeout` for a pooled connection fails instead of
// queueing forever.
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { PgClient } from "@effect/sql-pg"
import { Clock, Data, Duration, Effect, Layer, Metric, Option, Redacted, Semaphore, Stream, String } from "effect"
import { Migrator, SqlClient, Statement } from "effect/sql"
import type { Connection } from "effect/sql/SqlConnection"
import { ConnectionError, SqlError, type SqlErrorReason, UnknownError } from "effect/sql/SqlError"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import { AppConfig } from "../AppConfig.ts"
import init from "./migrations/0001_init.ts"
import updateInbox from "./migrations/0002_update_inbox.ts"
import outbox from "./migrations/0003_outbox.ts"
import updateInboxText from "./migrations/0004_update_inbox_text.ts"
import confessionMedia from "./migrations/0005_confession_media.ts"
import forget from "./migrations/0006_forget.ts"

export interface DatabaseOptions {
  /** PostgreSQL URL; `None` starts the embedded PGlite. */
  readonly url: Option.Option<Redacted.Redacted<string>>
  /** Where embedded data lives; `undefined` keeps it in memory (tests). */
  readonly dataDir: string | undefined
  readonly poolMax: number
  readonly connectionTtl: Duration.Duration
  /** Longest a statement or transaction waits for a pooled connection before failing with a `ConnectionError`. */
  readonly acquireTimeout: Duration.Duration
  /**
   * A dumped data directory (`embeddedSeed`) a new embedded database starts from instead of an empty one: starting
   * from a migrated copy skips initdb and the migrations (about 3 s of CPU), which tests pay for every database.
   */
  readonly seed?: Blob | undefined
}

export class DatabaseError extends Data.TaggedError("DatabaseError")<{
  readonly reason: "EmbeddedStartFailed" | "MigrationFailed"
  readonly cause: unknown
}> {}

export const migrations = Migrator.fromRecord({
  "1_init": init,
  "2_update_inbox": updateInbox,
  "3_outbox": outbox,
  "4_update_inbox_text": updateInboxText,
  "5_confession_media": confessionMedia,
  "6_forget": forget
})

/** Applies every pending migration; running it again on a migrated database changes nothing. */
export const migrate = Migrator.make({})({ loader: migrations }).pipe(
  Effect.mapError((cause) => new DatabaseError({ reason: "MigrationFailed", cause })),
  Effect.withSpan("Database.migrate")
)

/** A client without migrations: the pool over PostgreSQL or the embedded PGlite. */
export const layerClient = (
  options: DatabaseOptions
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError | DatabaseError> =>
  Option.match(options.url, {
    onSome: (url) => layerPool({ ...clientDefaults(options), url }, options),
    onNone: () => layerEmbedded(options)
  })

export const layer = (
  options: DatabaseOptions
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError | DatabaseError> =>
  Layer.effectDiscard(migrate).pipe(Layer.provideMerge(layerClient(options)))

export const layerConfig: Layer.Layer<
  PgClient.PgClient | SqlClient.SqlClient,
  SqlError | DatabaseError,
  AppConfig
> = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    return layer({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      poolMax: config.dbPoolMax,
      connectionTtl: config.dbConnectionTtl,
      acquireTimeout: config.dbAcquireTimeout
    })
  })
)

const clientDefaults = (options: DatabaseOptions) => ({
  maxConnections: options.poolMax,
  minConnections: 0,
  connectionTTL: options.connectionTtl,
  idleTimeout: Duration.minutes(1),
  connectTimeout: Duration.seconds(10),
  applicationName: "confessions-bot",
  transformQueryNames: String.camelToSnake,
  transformResultNames: String.snakeToCamel
})

// PGlite is one session running one statement at a time, reached through the same pooled client over its socket
// server. The pool is always one connection: with several, concurrent transactions interleave their extended-protocol
// messages in that one session (PostgreSQL then answers 'portal "" does not exist'), and more connections could
// not run anything in parallel anyway. DB_POOL_MAX applies to PostgreSQL only.
//
// Who can reach it. PGlite's socket server checks no user and no password, so whoever can connect reads everything,
// `author_id` of anonymous confessions included. It therefore listens on no TCP port at all, only on a Unix socket in
// a directory of its own created with mode 0700, which other local users cannot enter (connecting to a Unix socket
// needs search permission on its directory). Its data files are PGlite's own and world-readable (0666 files, 0755
// directories, whatever the umask), so DATA_DIR itself is restricted to 0700 as well. The threat this answers is other
// local users and their processes; root, and anything running as the bot's own user, can read the memory and files
// of the process anyway and are outside it. The socket directory lives in the OS temp directory, not in DATA_DIR:
// DATA_DIR is PostgreSQL's data directory itself, a crashed run would leave a stale socket there, and a socket path
// longer than ~100 bytes (a deep DATA_DIR) cannot be bound.
const layerEmbedded = (configured: DatabaseOptions) =>
  Layer.unwrap(
    Effect.map(startEmbedded(configured), ({ options, path }) => layerEmbeddedPool(options, path))
  )

const layerEmbeddedPool = (options: DatabaseOptions, path: string) =>
  layerPool({ ...clientDefaults(options), path, username: "postgres", database: "postgres" }, options)

/** An embedded database listening on its private socket for as long as the scope is open. */
const startEmbedded = (configured: DatabaseOptions) =>
  Effect.gen(function* () {
    const options = { ...configured, poolMax: 1 }
    if (options.dataDir !== undefined) yield* restrictDataDir(options.dataDir)
    const socketDir = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "confessions-db-"))
          // mkdtemp already creates it 0700; said again so that no umask or platform default can widen it.
          await Fs.chmod(dir, 0o700)
          return dir
        },
        catch: (cause) => new DatabaseError({ reason: "EmbeddedStartFailed", cause })
      }),
      (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
    )
    const path = Path.join(socketDir, embeddedSocketName)
    const { db } = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const db = await PGlite.create({
            ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
            ...(options.seed === undefined ? {} : { loadDataDir: options.seed })
          })
          const server = new PGLiteSocketServer({ db, path, maxConnections: options.poolMax + 2 })
          await server.start()
          return { db, server }
        },
        catch: (cause) => new DatabaseError({ reason: "EmbeddedStartFailed", cause })
      }),
      ({ db, server }) =>
        Effect.promise(async () => {
          await server.stop()
          await db.close()
        })
    )
    return { options, path, db }
  })

/** A migrated, empty in-memory embedded database, dumped: the `seed` from which new ones start already migrated. */
export const embeddedSeed: Effect.Effect<Blob, SqlError | DatabaseError> = Effect.scoped(
  Effect.gen(function* () {
    const { options, path, db } = yield* startEmbedded({
      url: Option.none(),
      dataDir: undefined,
      poolMax: 1,
      connectionTtl: Duration.minutes(5),
      acquireTimeout: Duration.minutes(1)
    })
    yield* migrate.pipe(Effect.provide(layerEmbeddedPool(options, path)))
    return yield* Effect.tryPromise({
      try: () => db.dumpDataDir("none"),
      catch: (cause) => new DatabaseError({ reason: "EmbeddedStartFailed", cause })
    })
  })
)

/** PostgreSQL's own name for its socket file, so that tools recognise it (`psql -h <its directory>`). */
export const embeddedSocketName = ".s.PGSQL.5432"

const restrictDataDir = (dir: string) =>
  Effect.tryPromise({
    try: async () => {
      await Fs.mkdir(dir, { recursive: true, mode: 0o700 })
      await Fs.chmod(dir, 0o700)
    },
    catch: (cause) => cause
  }).pipe(
    // Only the owner may change the mode. Not fatal (a volume owned by another user may still be writable), but
    // then other local users may be able to read the database files, which the operator must hear about.
    Effect.catch((cause) =>
      Effect.logWarning(
        `DATA_DIR ${dir} could not be restricted to this user (mode 0700); other local users may be able to read the embedded database's files`,
        cause
      )
    )
  )

/**
 * PgClient's pool has no acquire timeout (with every connection busy a statement waits indefinitely) and no way to
 * wrap its checkout. So this keeps PgClient's pool and connections and rebuilds only its thin SqlClient facade with
 * `SqlClient.make`, as PgClient does internally, checking out through a gate of `poolMax` permits and then
 * `PgClient.reserve` (the pool's checkout plus the exclusive pin PgClient uses for transactions). The wait for a
 * permit is timed on the caller's Clock. `listen`, `notify` and `json` are PgClient's own and bypass the gate.
 * Cost of the pin: about 10 µs of client CPU per statement (`select 1` at concurrency 8 on a 2-CPU box: ~27k/s
 * through PgClient, ~21k/s through this), small next to any real query.
 */
const layerPool = (config: PgClient.PgPoolConfig, options: DatabaseOptions) =>
  PgClient.layerFrom(
    Effect.gen(function* () {
      const pg = yield* PgClient.make(config)
      // One permit per pooled connection, so waiting happens here instead of inside the pool: a statement holding
      // a permit finds a connection idle or one the pool may open (under connectTimeout). Only a statement that
      // has to wait pays for a timer. Like the pool's own queue, waiting is not strictly first come, first served.
      const slots = yield* Semaphore.make(options.poolMax)
      yield* Metric.update(poolSize, options.poolMax)
      const slot = Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(slots.takeIfAvailable(1), (free) =>
          free
            ? Effect.addFinalizer(() => slots.release(1))
            : restore(
                Effect.timeoutOrElse(slots.takeScoped(1), {
                  duration: options.acquireTimeout,
                  orElse: () => Effect.fail(acquireTimedOut(options))
                })
              )
        )
      )
      const acquire = Effect.andThen(slot, Effect.mapError(pg.reserve, withServerText)).pipe(
        Effect.tap(() =>
          Effect.andThen(
            Metric.modify(connectionsInUse, 1),
            Effect.addFinalizer(() => Metric.modify(connectionsInUse, -1))
          )
        ),
        Effect.map(instrumented)
      )
      const sql = yield* SqlClient.make({
        acquirer: acquire,
        transactionAcquirer: acquire,
        compiler: PgClient.makeCompiler(config.transformQueryNames, config.transformJson),
        transformRows:
          config.transformResultNames === undefined
            ? undefined
            : Statement.defaultTransforms(config.transformResultNames, config.transformJson).array,
        driver: "pg",
        spanAttributes: [
          ["db.system.name", "postgresql"],
          ["db.namespace", config.database ?? "postgres"]
        ],
        prepareTransactionControls: true,
        commit: commitOrRollback,
        releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`
      })
      return Object.assign(sql, {
        [PgClient.TypeId]: PgClient.TypeId,
        config: pg.config,
        json: pg.json,
        listen: pg.listen,
        notify: pg.notify
      })
    })
  )

const sqlStatements = Metric.counter("confessions_sql_statements_total", {
  description: "SQL statements sent to the database (transaction control included), by outcome",
  incremental: true
})
const sqlDuration = Metric.histogram("confessions_sql_duration_seconds", {
  description: "Round-trip time of one SQL statement",
  boundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
})
const connectionsInUse = Metric.gauge("confessions_db_connections_in_use", {
  description: "Pooled connections checked out right now"
})

const poolSize = Metric.gauge("confessions_db_pool_max_connections", {
  description: "Connections the pool may open (DB_POOL_MAX; 1 for embedded PGlite); idle = this − in use, at most"
})

/**
 * Counts and times every statement at the one place they all pass, the checked-out connection, and puts the server's
 * reason into the message of any that fails.
 */
const instrumented = (connection: Connection): Connection => {
  const timed = <A>(statement: Effect.Effect<A, SqlError>) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeNanos
      const exit = yield* Effect.exit(Effect.mapError(statement, withServerText))
      const elapsed = Number((yield* Clock.currentTimeNanos) - started) / 1e9
      yield* Metric.update(sqlDuration, elapsed)
      yield* Metric.update(Metric.withAttributes(sqlStatements, { outcome: exit._tag === "Success" ? "ok" : "error" }), 1)
      return yield* exit
    })
  return {
    execute: (sql, params, transformRows) => timed(connection.execute(sql, params, transformRows)),
    executeRaw: (sql, params) => timed(connection.executeRaw(sql, params)),
    executeStream: (sql, params, transformRows) =>
      Stream.mapError(connection.executeStream(sql, params, transformRows), withServerText),
    executeValues: (sql, params) => timed(connection.executeValues(sql, params)),
    executeValuesUnprepared: (sql, params) => timed(connection.executeValuesUnprepared(sql, params)),
    executeUnprepared: (sql, params, transformRows) => timed(connection.executeUnprepared(sql, params, transformRows))
  }
}

/**
 * @effect/sql-pg calls every failed statement "PgConnection: Query failed" (and every failed connect "PgConnection:
 * Failed to connect") and keeps the reason (PostgreSQL's own words: the violated constraint, "invalid byte sequence",
 * a trigger's exception; or the socket's ECONNREFUSED) only in the reason's `cause`, so a log that prints the message,
 * or a renderer that stops at the first level, lost it. This appends it to the message, keeping the reason's class
 * (handlers match on `UniqueViolation`) and cause. Only the primary message and its code are added: PostgreSQL's
 * DETAIL line can quote row values (user ids), which belong in no log line.
 */
const withServerText = (error: SqlError): SqlError => {
  const { reason } = error
  const cause: unknown = reason.cause
  if (!(cause instanceof Error) || cause.message === "") return error
  const code = "code" in cause && typeof cause.code === "string" ? ` [${cause.code}]` : ""
  const prefix = reason.message ?? reason._tag
  if (prefix.includes(cause.message)) return error
  // The reason classes share one constructor shape (UniqueViolation adds `constraint`); the instance's own class is
  // reused so that its tag, retryability and guards stay what the driver chose.
  const Reason = reason.constructor as new (props: {
    readonly cause: unknown
    readonly message: string
    readonly operation: string | undefined
    readonly constraint?: string
  }) => SqlErrorReason
  return new SqlError({
    reason: new Reason({
      cause,
      message: `${prefix}: ${cause.message}${code}`,
      operation: reason.operation,
      ...(reason._tag === "UniqueViolation" ? { constraint: reason.constraint } : {})
    })
  })
}

const acquireTimedOut = (options: DatabaseOptions) => {
  const message = `Database: no pooled connection became free within ${Duration.format(options.acquireTimeout)} (all ${options.poolMax} in use)`
  return new SqlError({ reason: new ConnectionError({ cause: new Error(message), message, operation: "acquire" }) })
}

// As PgClient does: PostgreSQL answers COMMIT with ROLLBACK when the transaction was already aborted.
const commitOrRollback = (connection: Connection) =>
  Effect.flatMap(connection.executeRaw("COMMIT", []), (result) =>
    hasCommand(result, "ROLLBACK")
      ? Effect.fail(
          new SqlError({
            reason: new UnknownError({
              cause: new Error("COMMIT rolled back an aborted transaction"),
              message: "Database: COMMIT rolled back an aborted transaction",
              operation: "commit"
            })
          })
        )
      : Effect.void
  )

const hasCommand = (result: unknown, command: string): boolean =>
  typeof result === "object" && result !== null && "command" in result && result.command === command
