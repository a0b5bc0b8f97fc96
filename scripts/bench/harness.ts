// The benchmark's moving parts, shared by `run.ts` and the smoke test: a fresh seeded database per scenario (a new
// PostgreSQL database, dropped afterwards, or a PGlite data directory, removed afterwards, both opened through the
// project's Database layer, which migrates), the bot as a separate process started by its normal entry point, the
// virtual users on the project's Bot API emulator, /metrics scraping, /proc sampling, and one measured load window.
// Every resource is scoped: interrupting a run (Ctrl-C) stops the bot and drops its database.
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Fiber, Layer, Option, Redacted } from "effect"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as Database from "../../src/sql/Database.ts"
import { temporaryProblem } from "../../src/views/Messages.ts"
import { token, unthrottledEnv } from "../../src/emulator/BotApiEmulator.ts"
import * as Load from "./load.ts"
import * as Prometheus from "./prometheus.ts"
import * as SqlCounter from "./sql-counter.ts"
import { defaultMix, ids, type Mix, seed, type Seeded, type SeedSize } from "./workload.ts"

export const repoRoot = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

/** The file `node` runs for a `script` option: relative to this repository, or as given when absolute (another checkout). */
export const entryPath = (script: string): string => Path.resolve(repoRoot, script)

export type Backend =
  | { readonly _tag: "postgres"; readonly url: string }
  | { readonly _tag: "pglite" }

export const backendFromEnv = (url: string | undefined): Backend =>
  url !== undefined && url.length > 0 ? { _tag: "postgres", url } : { _tag: "pglite" }

export interface PreparedDatabase {
  /** Variables that point the bot at this database. */
  readonly env: Record<string, string>
  readonly seeded: Seeded
  /** Wire-level statement counts, when the bot talks to PostgreSQL through the counting proxy. */
  readonly sqlCounter: SqlCounter.SqlCounter | undefined
  /** Committed + rolled back transactions in this database (pg_stat_database), PostgreSQL only. */
  readonly transactions: Effect.Effect<number | undefined>
  /** How to open this database directly (not through the counter); with PGlite only while the bot is stopped. */
  readonly direct: Database.DatabaseOptions
  /** Process ids of the PostgreSQL backends serving this database (empty for PGlite, which runs in the bot). */
  readonly backendPids: Effect.Effect<ReadonlyArray<number>>
}

/** Id ranges for a database that was migrated but not seeded (engine-only runs, where handlers read nothing). */
const unseeded: Seeded = { firstConfession: 1, lastConfession: 1000, firstComment: 1, lastComment: 20_000 }

/**
 * A migrated database, seeded with `seedSize` (or left empty), that lives as long as the scope. With PostgreSQL:
 * `create database`, then `drop database … with (force)` at the end; the bot connects through the statement
 * counter when `countSql`. With PGlite: a temporary DATA_DIR the bot opens after the seeding client closed it.
 */
export const prepareDatabase = (options: {
  readonly backend: Backend
  readonly label: string
  readonly seedSize: SeedSize | undefined
  readonly countSql: boolean
}) =>
  Effect.gen(function* () {
    const seedWith = (dbOptions: Database.DatabaseOptions) =>
      Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(Database.layer(dbOptions))
          return options.seedSize === undefined ? unseeded : yield* seed(options.seedSize).pipe(Effect.provideContext(context))
        })
      )
    const clientOptions = (url: Option.Option<Redacted.Redacted<string>>, dataDir: string | undefined): Database.DatabaseOptions => ({
      url,
      dataDir,
      poolMax: 2,
      connectionTtl: Duration.minutes(5),
      acquireTimeout: Duration.minutes(1)
    })

    if (options.backend._tag === "pglite") {
      const dataDir = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), `confessions-bench-${options.label}-`))),
        (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
      )
      const direct = clientOptions(Option.none(), dataDir)
      const seeded = yield* seedWith(direct)
      return {
        env: { DATA_DIR: dataDir },
        seeded,
        sqlCounter: undefined,
        transactions: Effect.succeed(undefined),
        direct,
        backendPids: Effect.succeed([])
      } satisfies PreparedDatabase
    }

    const serverUrl = options.backend.url
    const name = `confessions_bench_${options.label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}_${Date.now().toString(36)}`
    yield* Effect.acquireRelease(admin(serverUrl, (sql) => sql`create database ${sql(name)}`), () =>
      admin(serverUrl, (sql) => sql`drop database if exists ${sql(name)} with (force)`).pipe(Effect.ignore({ log: "Warn" }))
    )
    const directUrl = new URL(serverUrl)
    directUrl.pathname = `/${name}`
    const direct = clientOptions(Option.some(Redacted.make(directUrl.toString())), undefined)
    const seeded = yield* seedWith(direct)
    const botUrl = new URL(directUrl.toString())
    let sqlCounter: SqlCounter.SqlCounter | undefined
    if (options.countSql) {
      sqlCounter = yield* SqlCounter.make({ host: directUrl.hostname, port: Number(directUrl.port || 5432) })
      botUrl.hostname = sqlCounter.host
      botUrl.port = String(sqlCounter.port)
    }
    const transactions = admin(
      serverUrl,
      (sql) => sql<{ readonly n: string }>`
        select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = ${name}`
    ).pipe(
      Effect.map((rows) => (rows[0] ? Number(rows[0].n) : undefined)),
      Effect.catchCause(() => Effect.succeed(undefined))
    )
    const backendPids = admin(
      serverUrl,
      (sql) => sql<{ readonly pid: number }>`select pid from pg_stat_activity where datname = ${name}`
    ).pipe(
      Effect.map((rows) => rows.map((row) => Number(row.pid))),
      Effect.catchCause(() => Effect.succeed([]))
    )
    return { env: { DATABASE_URL: botUrl.toString() }, seeded, sqlCounter, transactions, direct, backendPids } satisfies PreparedDatabase
  })

/** One statement on the server's maintenance database, through the project's own client. */
const admin = <A>(serverUrl: string, f: (sql: PgClient.PgClient) => Effect.Effect<A, unknown>) =>
  Effect.gen(function* () {
    const sql = yield* PgClient.PgClient
    return yield* f(sql)
  }).pipe(
    Effect.provide(
      Database.layerClient({
        url: Option.some(Redacted.make(serverUrl)),
        dataDir: undefined,
        poolMax: 1,
        connectionTtl: Duration.minutes(5),
        acquireTimeout: Duration.minutes(1)
      })
    ),
    Effect.orDie
  )

/** A TCP port that was free a moment ago, on 127.0.0.1. */
export const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Settings every benchmarked bot gets; scenarios add their own on top. */
export const botEnv = (apiRoot: string, httpPort: number): Record<string, string> => ({
  BOT_TOKEN: token,
  TELEGRAM_API_ROOT: apiRoot,
  BOT_MODE: "polling",
  HTTP_PORT: String(httpPort),
  ADMIN_IDS: ids.admins.join(","),
  CHANNEL_ID: ids.channel,
  ...unthrottledEnv,
  // Virtual users confess every ~20 actions and comment every ~10; the per-user anti-spam limits would turn most of
  // those into refusals.
  CONFESSIONS_PER_HOUR: "1000",
  CONFESSION_COOLDOWN: "0 seconds",
  COMMENTS_PER_HOUR: "100000",
  LOG_FORMAT: "json",
  LOG_LEVEL: "info",
  SHUTDOWN_GRACE: "5 seconds"
})

export interface BotProcess {
  readonly pid: number
  readonly logFile: string
  /** Completes when the process exits, with its exit code (or signal name). */
  readonly exited: Effect.Effect<string>
  readonly isRunning: () => boolean
  /** Sends a signal (SIGKILL: the kill -9 of the fail-over scenarios). */
  readonly kill: (signal: NodeJS.Signals) => void
}

/**
 * Starts `node <script>` as a separate process with exactly `env` (plus PATH and HOME), in a scratch working
 * directory (so a developer's `.env` cannot leak in), output to `logFile`. Stops it with SIGTERM when the scope
 * closes, and SIGKILL if it has not exited 20 seconds later.
 */
export const startProcess = (options: { readonly script: string; readonly env: Record<string, string>; readonly logFile: string }) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      Fs.mkdirSync(Path.dirname(options.logFile), { recursive: true })
      const cwd = Fs.mkdtempSync(Path.join(Os.tmpdir(), "confessions-bench-cwd-"))
      const log = Fs.openSync(options.logFile, "w")
      const child = spawn(process.execPath, [entryPath(options.script)], {
        cwd,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? cwd, ...options.env },
        stdio: ["ignore", log, log]
      })
      let exit: string | undefined
      const waiters: Array<(code: string) => void> = []
      child.on("exit", (code, signal) => {
        exit = code === null ? String(signal) : String(code)
        Fs.closeSync(log)
        Fs.rmSync(cwd, { recursive: true, force: true })
        for (const waiter of waiters.splice(0)) waiter(exit)
      })
      const exited = Effect.callback<string>((resume) => {
        if (exit !== undefined) return resume(Effect.succeed(exit))
        waiters.push((code) => resume(Effect.succeed(code)))
      })
      const kill = (signal: NodeJS.Signals) => {
        if (exit === undefined) child.kill(signal)
      }
      return { child, process: { pid: child.pid ?? -1, logFile: options.logFile, exited, isRunning: () => exit === undefined, kill } }
    }),
    ({ child, process: bot }) =>
      Effect.gen(function* () {
        if (!bot.isRunning()) return
        child.kill("SIGTERM")
        const stopped = yield* bot.exited.pipe(Effect.timeoutOption("20 seconds"))
        if (Option.isNone(stopped)) {
          child.kill("SIGKILL")
          yield* bot.exited
        }
      })
  ).pipe(Effect.map(({ process: bot }) => bot as BotProcess))

/** The last lines of a log file, for a start-up failure message. */
export const logTail = (file: string, lines = 30): string => {
  const text = Fs.existsSync(file) ? Fs.readFileSync(file, "utf8") : ""
  return text.split("\n").slice(-lines).join("\n")
}

/** Waits until the bot called getUpdates; fails with the log's tail if the process exits first or it takes too long. */
export const waitUntilPolling = (load: Load.Load, bot: BotProcess, maxMs = 120_000) =>
  Effect.raceFirst(
    load.firstPoll.pipe(
      Effect.timeoutOrElse({
        duration: Duration.millis(maxMs),
        orElse: () =>
          Effect.fail(new Error(`the bot did not call getUpdates within ${maxMs} ms\n--- ${bot.logFile} ---\n${logTail(bot.logFile)}`))
      })
    ),
    bot.exited.pipe(
      Effect.flatMap((code) => Effect.fail(new Error(`the process exited (${code}) before polling\n--- ${bot.logFile} ---\n${logTail(bot.logFile)}`)))
    )
  )

// ---- /metrics and /proc -----------------------------------------------------------------------------------------

export const scrape = (port: number) =>
  Effect.tryPromise(() =>
    fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text())
  ).pipe(
    Effect.map((text) => Prometheus.parse(text).samples),
    Effect.catchCause(() => Effect.succeed(undefined))
  )

export interface ProcStatus {
  readonly rssBytes: number
  /** Peak resident set size since the process started (VmHWM). */
  readonly peakRssBytes: number
  /** User + system CPU seconds so far. */
  readonly cpuSeconds: number
}

const clockTicks = 100 // sysconf(_SC_CLK_TCK) on Linux x86-64

export const procStatus = (pid: number): ProcStatus | undefined => {
  const status = readOrUndefined(`/proc/${pid}/status`)
  const stat = readOrUndefined(`/proc/${pid}/stat`)
  if (status === undefined || stat === undefined) return undefined
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0)
  return { rssBytes: kb("VmRSS"), peakRssBytes: kb("VmHWM"), cpuSeconds: ticks / clockTicks }
}

const readOrUndefined = (file: string) => {
  const text = Fs.readFileSync(file, { encoding: "utf8", flag: "r" }).toString()
  return text.length > 0 ? text : undefined
}

export const safeProcStatus = (pid: number) => {
  const read = Effect.try(() => procStatus(pid))
  return read.pipe(Effect.catchCause(() => Effect.succeed(undefined)))
}

/** Lines at WARN / ERROR level in a JSON log file. */
export const logLevels = (file: string): { readonly warnings: number; readonly errors: number } => {
  const text = Fs.existsSync(file) ? Fs.readFileSync(file, "utf8") : ""
  let warnings = 0
  let errors = 0
  for (const line of text.split("\n")) {
    if (/"(logLevel|level)":"(WARN|Warn|WARNING)"/i.test(line)) warnings++
    else if (/"(logLevel|level)":"(ERROR|FATAL)"/i.test(line)) errors++
  }
  return { warnings, errors }
}

// ---- one measured window ----------------------------------------------------------------------------------------

export interface Running {
  readonly load: Load.Load
  readonly bot: BotProcess
  /** The bot's HTTP port for /metrics, when it has one. */
  readonly metricsPort: number | undefined
  readonly database: PreparedDatabase | undefined
}

export interface Measurement {
  readonly window: Load.WindowResult
  /**
   * SQL statements per answered update, BEGIN/COMMIT included: the bot's own `confessions_sql_statements_total`
   * when it exposes one, otherwise the wire count.
   */
  readonly sqlPerUpdate: number | undefined
  /** Wire counts (PostgreSQL with the counting proxy): all statements, and without transaction control. */
  readonly sqlPerUpdateAtWire: number | undefined
  readonly sqlPerUpdateWithoutTransactionControl: number | undefined
  /** From the bot's own `confessions_sql_statements_total`, when it exposes one. */
  readonly sqlPerUpdateFromMetrics: number | undefined
  readonly transactionsPerUpdate: number | undefined
  readonly rssStartBytes: number | undefined
  readonly rssEndBytes: number | undefined
  readonly rssMaxBytes: number | undefined
  readonly peakRssBytes: number | undefined
  readonly rssSeries: ReadonlyArray<readonly [number, number]>
  /** Bot CPU during the window, in cores (1.0 = one core busy all the time). */
  readonly botCpu: number | undefined
  /** Bot CPU milliseconds per answered update during the window: the cost per update, whatever the load. */
  readonly botCpuMsPerUpdate: number | undefined
  /** CPU of the PostgreSQL backends serving the scenario's database during the window, in cores. */
  readonly databaseCpu: number | undefined
  readonly stateEntriesMax: number | undefined
  readonly stateEntriesEnd: number | undefined
  readonly statsCacheHits: number | undefined
  readonly statsCacheMisses: number | undefined
  readonly botUpdates: number | undefined
  readonly botUpdatesByOutcome: Readonly<Record<string, number>>
  readonly handlerErrors: number | undefined
  readonly telegram429: number | undefined
}

/** CPU seconds so far of each backend process serving the database. */
const backendsCpu = (database: PreparedDatabase) =>
  Effect.gen(function* () {
    const cpu = new Map<number, number>()
    for (const pid of yield* database.backendPids) {
      const status = yield* safeProcStatus(pid)
      if (status) cpu.set(pid, status.cpuSeconds)
    }
    return cpu
  })

/** CPU used between two readings; a backend that appeared in between counts from zero (one that exited counts up to its last sample). */
const cpuDelta = (before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>) => {
  let total = 0
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0)
  return total
}

const delta = (before: number | undefined, after: number | undefined) =>
  before === undefined || after === undefined ? undefined : after - before

const perUpdate = (value: number | undefined, updates: number) =>
  value === undefined || updates === 0 ? undefined : value / updates

/**
 * Runs the emulator's current load for `durationMs` as one window, sampling the process every second and /metrics
 * every five seconds, and returns everything a report row needs.
 */
export const measureWindow = (running: Running, durationMs: number) =>
  Effect.gen(function* () {
    const { load, bot, metricsPort, database } = running
    const metricsBefore = metricsPort === undefined ? undefined : yield* scrape(metricsPort)
    const sqlBefore = database?.sqlCounter?.counts()
    const txBefore = database ? yield* database.transactions : undefined
    const procBefore = yield* safeProcStatus(bot.pid)
    const dbCpuBefore = database ? yield* backendsCpu(database) : undefined
    const dbCpuSeen = dbCpuBefore ? new Map(dbCpuBefore) : undefined
    const series: Array<readonly [number, number]> = []
    const stateSeen: Array<number> = []
    const started = performance.now()
    load.beginWindow()
    const sampler = yield* Effect.gen(function* () {
      let tick = 0
      for (;;) {
        yield* Effect.sleep("1 second")
        tick++
        const status = yield* safeProcStatus(bot.pid)
        if (status) series.push([(performance.now() - started) / 1000, status.rssBytes])
        // Backends come and go (DB_CONNECTION_TTL): remember each one's latest CPU reading.
        if (database && dbCpuSeen && tick % 5 === 0) for (const [pid, cpu] of yield* backendsCpu(database)) dbCpuSeen.set(pid, cpu)
        if (metricsPort !== undefined && tick % 5 === 0) {
          const state = Prometheus.sumOf(yield* scrape(metricsPort), "confessions_state_entries")
          if (state !== undefined) stateSeen.push(state)
        }
      }
    }).pipe(Effect.forkChild)
    yield* Effect.sleep(Duration.millis(durationMs))
    const window = load.endWindow()
    yield* Fiber.interrupt(sampler)
    const procAfter = yield* safeProcStatus(bot.pid)
    const dbCpuAfter = database && dbCpuSeen ? yield* backendsCpu(database) : undefined
    if (dbCpuAfter && dbCpuSeen) for (const [pid, cpu] of dbCpuAfter) dbCpuSeen.set(pid, cpu)
    const metricsAfter = metricsPort === undefined ? undefined : yield* scrape(metricsPort)
    const sqlAfter = database?.sqlCounter?.counts()
    const txAfter = database ? yield* database.transactions : undefined
    const answered = window.answered
    const stateEnd = Prometheus.sumOf(metricsAfter, "confessions_state_entries")
    if (stateEnd !== undefined) stateSeen.push(stateEnd)
    const outcomes: Record<string, number> = {}
    for (const s of metricsAfter ?? []) {
      if (s.name !== "confessions_updates_total") continue
      const key = `${s.labels.kind ?? "?"}/${s.labels.outcome ?? "?"}`
      const before = Prometheus.sumOf(metricsBefore, "confessions_updates_total", (l) => l.kind === s.labels.kind && l.outcome === s.labels.outcome) ?? 0
      outcomes[key] = (outcomes[key] ?? 0) + s.value - before
    }
    const rssValues = series.map(([, rss]) => rss)
    const dataStatements = sqlBefore && sqlAfter ? sqlAfter.data - sqlBefore.data : undefined
    const controlStatements = sqlBefore && sqlAfter ? sqlAfter.transactionControl - sqlBefore.transactionControl : undefined
    const atWire = perUpdate(
      dataStatements === undefined || controlStatements === undefined ? undefined : dataStatements + controlStatements,
      answered
    )
    const fromMetrics = perUpdate(
      delta(Prometheus.sumOf(metricsBefore, "confessions_sql_statements_total"), Prometheus.sumOf(metricsAfter, "confessions_sql_statements_total")),
      answered
    )
    return {
      window,
      sqlPerUpdate: fromMetrics ?? atWire,
      sqlPerUpdateAtWire: atWire,
      sqlPerUpdateWithoutTransactionControl: perUpdate(dataStatements, answered),
      sqlPerUpdateFromMetrics: fromMetrics,
      transactionsPerUpdate: perUpdate(delta(txBefore, txAfter), answered),
      rssStartBytes: rssValues[0] ?? procBefore?.rssBytes,
      rssEndBytes: rssValues.at(-1) ?? procAfter?.rssBytes,
      rssMaxBytes: rssValues.length > 0 ? Math.max(...rssValues) : undefined,
      peakRssBytes: procAfter?.peakRssBytes,
      rssSeries: series,
      botCpu:
        procBefore && procAfter ? (procAfter.cpuSeconds - procBefore.cpuSeconds) / window.seconds : undefined,
      botCpuMsPerUpdate: perUpdate(procBefore && procAfter ? (procAfter.cpuSeconds - procBefore.cpuSeconds) * 1000 : undefined, answered),
      databaseCpu: dbCpuBefore && dbCpuSeen && dbCpuSeen.size > 0 ? cpuDelta(dbCpuBefore, dbCpuSeen) / window.seconds : undefined,
      stateEntriesMax: stateSeen.length > 0 ? Math.max(...stateSeen) : undefined,
      stateEntriesEnd: stateEnd,
      statsCacheHits: delta(Prometheus.sumOf(metricsBefore, "confessions_stats_cache_hits_total"), Prometheus.sumOf(metricsAfter, "confessions_stats_cache_hits_total")),
      statsCacheMisses: delta(
        Prometheus.sumOf(metricsBefore, "confessions_stats_cache_misses_total"),
        Prometheus.sumOf(metricsAfter, "confessions_stats_cache_misses_total")
      ),
      botUpdates: delta(Prometheus.sumOf(metricsBefore, "confessions_updates_total"), Prometheus.sumOf(metricsAfter, "confessions_updates_total")),
      botUpdatesByOutcome: outcomes,
      handlerErrors: delta(Prometheus.sumOf(metricsBefore, "confessions_handler_errors_total") ?? 0, Prometheus.sumOf(metricsAfter, "confessions_handler_errors_total") ?? 0),
      telegram429: delta(Prometheus.sumOf(metricsBefore, "confessions_telegram_429_total") ?? 0, Prometheus.sumOf(metricsAfter, "confessions_telegram_429_total") ?? 0)
    } satisfies Measurement
  })

// ---- a bot under load -------------------------------------------------------------------------------------------

export interface LaunchOptions {
  readonly label: string
  readonly backend: Backend
  /** `undefined`: migrate only (engine runs). */
  readonly seedSize: SeedSize | undefined
  readonly countSql: boolean
  /** The script to run, relative to the repository root (`src/main.ts` for the bot) or absolute (another checkout). */
  readonly script: string
  /** Whether the process needs a database at all. */
  readonly needsDatabase: boolean
  /** Whether the process serves /metrics on HTTP_PORT. */
  readonly hasMetrics: boolean
  readonly env: Record<string, string>
  readonly logDir: string
  readonly mix?: Mix
  readonly randomSeed?: number
  readonly replyTimeoutMs: number
}

/** Database, emulator and process for one scenario, all released with the scope (process first). */
export const launch = (options: LaunchOptions) =>
  Effect.gen(function* () {
    const database = options.needsDatabase
      ? yield* prepareDatabase({ backend: options.backend, label: options.label, seedSize: options.seedSize, countSql: options.countSql })
      : undefined
    return yield* launchOn(database, options)
  })

/** Emulator, virtual users and process on an already prepared database (which outlives them when its scope is wider). */
export const launchOn = (database: PreparedDatabase | undefined, options: LaunchOptions) =>
  Effect.gen(function* () {
    const load = yield* Load.make({
      seeded: database?.seeded ?? unseeded,
      mix: options.mix ?? defaultMix,
      randomSeed: options.randomSeed ?? 7,
      replyTimeoutMs: options.replyTimeoutMs,
      failureTexts: [temporaryProblem]
    })
    const httpPort = yield* freePort
    const bot = yield* startProcess({
      script: options.script,
      env: { ...botEnv(load.emulator.apiRoot, httpPort), ...(database?.env ?? {}), ...options.env },
      logFile: Path.join(options.logDir, `${options.label}.log`)
    })
    yield* waitUntilPolling(load, bot)
    return {
      load,
      bot,
      metricsPort: options.hasMetrics ? httpPort : undefined,
      database
    } satisfies Running
  })

/** Lets the bot finish what is outstanding (no new updates), up to `maxMs`; returns how many never got a reply. */
export const drain = (load: Load.Load, maxMs: number) =>
  Effect.suspend(() => {
    load.setUsers(0, 0)
    return Effect.promise(() => load.idle(maxMs)).pipe(Effect.map(() => load.outstanding()))
  })
