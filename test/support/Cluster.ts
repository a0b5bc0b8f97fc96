// What the cluster tests (test/cluster) share: a fresh PostgreSQL database with the probe table, bot processes started
// from test/support/ClusterBot.ts with settings pointing at the emulator in the test process, and readers of what the
// probe recorded. Several processes need a PostgreSQL server: the embedded PGlite serves one process only, so without
// TEST_DATABASE_URL these tests are skipped.
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { freePort, logTail, startProcess } from "../../scripts/bench/harness.ts"
import { token, unthrottledEnv } from "../../src/emulator/BotApiEmulator.ts"
import * as Database from "../../src/sql/Database.ts"
import { probeTable } from "./ClusterBot.ts"
import * as TestDatabase from "./TestDatabase.ts"

export const serverUrl = process.env.TEST_DATABASE_URL

/** Appended to the test names, so a skipped run says why. */
export const needsPostgres = "(needs TEST_DATABASE_URL: several processes need a PostgreSQL server, PGlite serves one)"

export const webhookUrl = "https://bot.example.org/hook"
export const webhookSecret = "cluster-test-secret-0123456789"
export const admin = 900_001

class DatabaseUrl extends Context.Service<DatabaseUrl, string>()("test/Cluster/DatabaseUrl") {}

/** A fresh migrated PostgreSQL database with `cluster_probe`, dropped when the scope closes; its URL. */
export const freshDatabase = Effect.gen(function* () {
  const context = yield* Layer.build(
    TestDatabase.withFreshDatabase({ poolMax: 2 }, (options) =>
      Database.layer(options).pipe(
        Layer.merge(Layer.succeed(DatabaseUrl, options.url._tag === "Some" ? Redacted.value(options.url.value) : ""))
      )
    )
  )
  const url = Context.get(context, DatabaseUrl)
  if (url === "") return yield* Effect.die(new Error(`cluster tests ${needsPostgres}`))
  yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(probeTable)).pipe(Effect.provideContext(context))
  return url
})

/** A directory for this run's process logs (kept, so a failure can be read after the run). */
export const logDirectory = (name: string) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), `confessions-cluster-${name}-`))
  return dir
}

export interface BotOptions {
  readonly label: string
  readonly logDir: string
  readonly apiRoot: string
  readonly databaseUrl: string
  readonly redisUrl?: string | undefined
  readonly redisKeyPrefix?: string | undefined
  readonly webhook?: boolean | undefined
  readonly env?: Record<string, string> | undefined
}

export interface Bot {
  readonly label: string
  readonly port: number
  readonly pid: number
  readonly logFile: string
  readonly isRunning: () => boolean
  readonly kill: (signal: NodeJS.Signals) => void
  readonly exited: Effect.Effect<string>
}

/** Starts a bot process; SIGTERM (then SIGKILL after 20 s) when the scope closes, unless it already exited. */
export const startBot = (options: BotOptions) =>
  Effect.gen(function* () {
    const port = yield* freePort
    const logFile = Path.join(options.logDir, `${options.label}.log`)
    const bot = yield* startProcess({
      script: "test/support/ClusterBot.ts",
      logFile,
      env: {
        BOT_TOKEN: token,
        TELEGRAM_API_ROOT: options.apiRoot,
        DATABASE_URL: options.databaseUrl,
        HTTP_PORT: String(port),
        ADMIN_IDS: String(admin),
        CHANNEL_ID: "-1001234567890",
        ADMIN_NOTIFY_JITTER: "0 seconds",
        LOG_LEVEL: "info",
        LOG_FORMAT: "json",
        SHUTDOWN_GRACE: "5 seconds",
        DB_POOL_MAX: "4",
        ...unthrottledEnv,
        CONFESSIONS_PER_HOUR: "1000",
        CONFESSION_COOLDOWN: "0 seconds",
        ...(options.webhook ? { BOT_MODE: "webhook", WEBHOOK_URL: webhookUrl, WEBHOOK_SECRET: webhookSecret } : {}),
        ...(options.redisUrl !== undefined ? { REDIS_URL: options.redisUrl } : {}),
        ...(options.redisKeyPrefix !== undefined ? { REDIS_KEY_PREFIX: options.redisKeyPrefix } : {}),
        ...options.env
      }
    })
    return {
      label: options.label,
      port,
      pid: bot.pid,
      logFile,
      isRunning: bot.isRunning,
      kill: bot.kill,
      exited: bot.exited
    } satisfies Bot
  })

/** The last lines of each bot's log, for an assertion message. */
export const logsOf = (bots: ReadonlyArray<Bot>) =>
  bots.map((bot) => `--- ${bot.logFile} ---\n${logTail(bot.logFile, 15)}`).join("\n")

export interface ProbeRow {
  readonly updateId: number
  readonly userId: number
  readonly tag: string
  readonly pid: number
  readonly startedAt: number
  readonly finishedAt: number
}

/** Runs `f` on a one-connection client of the database at `url`. */
export const query = <A>(url: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.gen(function* () {
    return yield* f(yield* SqlClient.SqlClient)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })), Effect.orDie)

export const probeRows = (url: string) =>
  query(url, (sql) =>
    sql<{ updateId: string; userId: string; tag: string; pid: number; startedAt: number; finishedAt: number }>`
      select update_id::text as "updateId", user_id::text as "userId", tag, pid, started_at as "startedAt",
             finished_at as "finishedAt"
      from cluster_probe order by id`.pipe(
      Effect.map((rows) =>
        rows.map(
          (row): ProbeRow => ({
            updateId: Number(row.updateId),
            userId: Number(row.userId),
            tag: row.tag,
            pid: row.pid,
            startedAt: Number(row.startedAt),
            finishedAt: Number(row.finishedAt)
          })
        )
      )
    )
  )

/** Pairs of one user's probe handlers whose [start, end] intervals overlap (should be none). */
export const overlaps = (rows: ReadonlyArray<ProbeRow>) => {
  const byUser = new Map<number, Array<ProbeRow>>()
  for (const row of rows) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), row])
  const found: Array<readonly [ProbeRow, ProbeRow]> = []
  for (const list of byUser.values()) {
    const sorted = [...list].sort((a, b) => a.startedAt - b.startedAt)
    for (let i = 1; i < sorted.length; i++) {
      const before = sorted[i - 1] as ProbeRow
      const after = sorted[i] as ProbeRow
      if (after.startedAt < before.finishedAt) found.push([before, after])
    }
  }
  return found
}

/** How many "probe <tag> done" answers each tag got, from the emulator's recorded sendMessage calls. */
export const answersByTag = (texts: ReadonlyArray<unknown>) => {
  const counts = new Map<string, number>()
  for (const text of texts) {
    const match = typeof text === "string" ? /^probe (\S+) done$/.exec(text) : null
    if (match) counts.set(match[1] as string, (counts.get(match[1] as string) ?? 0) + 1)
  }
  return counts
}
