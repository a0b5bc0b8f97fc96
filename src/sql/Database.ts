// The one SqlClient of the program: a pooled PostgreSQL client when DATABASE_URL is set, otherwise an embedded
// PGlite (persisted under DATA_DIR) reached through the same @effect/sql-pg client over a loopback socket.
// Either way the schema is migrated before the layer is ready, so handlers never know which one they got.
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { PgClient } from "@effect/sql-pg"
import { Data, Duration, Effect, Layer, Option, Redacted, String } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import * as Fs from "node:fs/promises"
import { AppConfig } from "../AppConfig.ts"
import init from "./migrations/0001_init.ts"

export interface DatabaseOptions {
  /** PostgreSQL URL; `None` starts the embedded PGlite. */
  readonly url: Option.Option<Redacted.Redacted<string>>
  /** Where embedded data lives; `undefined` keeps it in memory (tests). */
  readonly dataDir: string | undefined
  readonly poolMax: number
  readonly connectionTtl: Duration.Duration
}

export class DatabaseError extends Data.TaggedError("DatabaseError")<{
  readonly reason: "EmbeddedStartFailed" | "MigrationFailed"
  readonly cause: unknown
}> {}

export const migrations = Migrator.fromRecord({
  "1_init": init
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
    onSome: (url) => PgClient.layer({ ...clientDefaults(options), url }),
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
      connectionTtl: config.dbConnectionTtl
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

// PGlite runs one statement at a time; its socket server queues the pool's connections and keeps a transaction on
// the connection that opened it, so the same pooled client works unchanged.
const layerEmbedded = (options: DatabaseOptions) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const { host, port } = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            if (options.dataDir !== undefined) await Fs.mkdir(options.dataDir, { recursive: true })
            const db = await PGlite.create(options.dataDir)
            const server = new PGLiteSocketServer({
              db,
              host: "127.0.0.1",
              port: 0,
              maxConnections: Math.max(options.poolMax, 1) + 2
            })
            await server.start()
            const [host = "127.0.0.1", portText = "0"] = server.getServerConn().split(":")
            return { db, server, host, port: Number(portText) }
          },
          catch: (cause) => new DatabaseError({ reason: "EmbeddedStartFailed", cause })
        }),
        ({ db, server }) =>
          Effect.promise(async () => {
            await server.stop()
            await db.close()
          })
      )
      return PgClient.layer({ ...clientDefaults(options), host, port, username: "postgres", database: "postgres" })
    })
  )
