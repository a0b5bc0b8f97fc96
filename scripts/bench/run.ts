// `npm run bench`: the load benchmark of issue 7. Each scenario starts the bot as a separate process by its normal
// entry point (`node src/main.ts`, long polling) against the project's Bot API emulator (src/emulator), on a fresh
// seeded database (PostgreSQL when DATABASE_URL is set, a new database per scenario, dropped afterwards; embedded
// PGlite in a temporary DATA_DIR otherwise), and writes JSON, a Markdown table and a latency-vs-load chart to
// bench-results/. The usage below is also what `--help` prints.
//
//   node scripts/bench/run.ts [--scenarios a,b,c,d,e,f,g] [--duration 30s] [--warmup 5s] [--step 10s] [--soak 5m]
//                             [--users 256] [--ramp 100,250,...] [--soak-users N] [--reply-timeout 30s] [--takeovers 3]
//                             [--no-sql-count] [--out bench-results] [--bot src/main.ts] [--set NAME=value ...]
//                             [--mix openComments=40,react=25,profile=15,comment=10,confess=5,other=5]
//                             [--ramp-all]   (keep ramping past saturation, e.g. to see memory at 10,000 users)
//
//   a  "before": UPDATE_CONCURRENCY=1, STATS_CACHE_TTL="0 seconds" (cache off), DB_POOL_MAX=1
//   b  defaults                                  (a and b: `--users` users in a closed loop, `--duration` each)
//   c  ramp: `--ramp` user counts at one update per user per second, `--step` each, until p99 > 1 s or errors
//   d  soak at half the saturation rate found by c (or `--soak-users`), for `--soak`, memory at start and end
//   e  engine only: the real App graph with one no-op route vs grammY's runner with sequentialize, same load
//   f  scale-out: 1, 2 and 3 webhook processes behind a load balancer with Redis (`--users` users, closed loop)
//   g  takeover: two polling processes, the leader killed with SIGKILL `--takeovers` times under a steady load
//      (f and g need DATABASE_URL: the embedded database serves one process; see scripts/bench/scaleout.ts)
//
// `--set` adds a setting to every bot process (e.g. `--set DB_POOL_MAX=1`); `--bot` benchmarks another entry point
// (relative to this repository, or absolute: `--bot /path/to/other-checkout/src/main.ts` compares another checkout).
// Everything listens on 127.0.0.1; every loop is bounded in count and time. Ctrl-C stops the bot and drops the
// scenario's database.
import { NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { type Backend, backendFromEnv, drain, launch, type LaunchOptions, logLevels, logTail, measureWindow, repoRoot } from "./harness.ts"
import { errorsOf, latencyChart, markdown, renderPng, type RampResult, type Report, type Row, type SoakResult } from "./report.ts"
import { type ClusterResult, scaleOut, takeover } from "./scaleout.ts"
import { type ActionKind, actionKinds, defaultMix, defaultSeedSize, type Mix } from "./workload.ts"

export interface Options {
  readonly scenarios: ReadonlySet<string>
  readonly durationMs: number
  readonly warmupMs: number
  readonly stepMs: number
  readonly soakMs: number
  readonly users: number
  readonly ramp: ReadonlyArray<number>
  readonly soakUsers: number | undefined
  readonly replyTimeoutMs: number
  readonly countSql: boolean
  readonly out: string
  /** The bot's entry point, relative to the repository root or absolute (another checkout, e.g. main's, to compare). */
  readonly bot: string
  /** Extra settings for every bot process (`--set NAME=value`). */
  readonly set: Readonly<Record<string, string>>
  /** Action weights; kinds left out get 0 when `--mix` is given. */
  readonly mix: Mix
  /** Run every ramp step, also past the saturation point. */
  readonly rampAll: boolean
  /** Scenario g: how many times the leader is killed. */
  readonly takeovers: number
}

const defaultRamp = [100, 250, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10_000]

/** "30s", "500ms", "5m", "1h", or Effect's "30 seconds" / "5 minutes". */
export const parseDuration = (text: string): number => {
  const short = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)$/.exec(text.trim())
  if (short) {
    const value = Number(short[1])
    const unit = short[2]
    return value * (unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "h" ? 3_600_000 : 60_000)
  }
  const parsed = Duration.fromInput(text as Duration.Input)
  if (parsed._tag === "Some") return Duration.toMillis(parsed.value)
  throw new Error(`not a duration: ${text} (try 30s, 5m or "5 minutes")`)
}

export const parseArgs = (argv: ReadonlyArray<string>): Options => {
  const values = new Map<string, string>()
  const flags = new Set<string>()
  const set: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (!arg.startsWith("--")) throw new Error(`unexpected argument: ${arg}`)
    const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined]
    if (name.startsWith("no-") || name === "ramp-all") {
      flags.add(name)
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new Error(`--${name} needs a value`)
    if (name === "set") {
      const assignment = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(value)
      if (!assignment) throw new Error(`--set takes NAME=value, got ${value}`)
      set[assignment[1] as string] = assignment[2] as string
      continue
    }
    values.set(name, value)
  }
  const known = new Set(["scenarios", "duration", "warmup", "step", "soak", "users", "ramp", "soak-users", "reply-timeout", "out", "bot", "mix", "takeovers"])
  for (const name of values.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`)
  for (const flag of flags) if (flag !== "no-sql-count" && flag !== "ramp-all") throw new Error(`unknown option --${flag}`)
  const scenarios = new Set((values.get("scenarios") ?? "a,b,c,d,e,f,g").split(",").map((s) => s.trim().toLowerCase()))
  for (const s of scenarios) if (!["a", "b", "c", "d", "e", "f", "g"].includes(s)) throw new Error(`unknown scenario ${s}`)
  const int = (name: string, fallback: number) => {
    const raw = values.get(name)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`)
    return value
  }
  const ramp = values.has("ramp")
    ? (values.get("ramp") as string).split(",").map((s) => Number(s.trim()))
    : defaultRamp
  if (ramp.some((n) => !Number.isInteger(n) || n < 1 || n > 100_000)) throw new Error("--ramp takes user counts such as 100,500,1000")
  return {
    scenarios,
    durationMs: parseDuration(values.get("duration") ?? "30s"),
    warmupMs: parseDuration(values.get("warmup") ?? "5s"),
    stepMs: parseDuration(values.get("step") ?? "10s"),
    soakMs: parseDuration(values.get("soak") ?? "5 minutes"),
    users: int("users", 256),
    ramp,
    soakUsers: values.has("soak-users") ? int("soak-users", 1) : undefined,
    replyTimeoutMs: parseDuration(values.get("reply-timeout") ?? "30s"),
    countSql: !flags.has("no-sql-count"),
    out: Path.resolve(repoRoot, values.get("out") ?? "bench-results"),
    bot: values.get("bot") ?? "src/main.ts",
    set,
    mix: values.has("mix") ? parseMix(values.get("mix") as string) : defaultMix,
    rampAll: flags.has("ramp-all"),
    takeovers: int("takeovers", 3)
  }
}

const parseMix = (text: string): Mix => {
  const mix: Record<ActionKind, number> = { openComments: 0, react: 0, profile: 0, comment: 0, confess: 0, other: 0 }
  for (const part of text.split(",")) {
    const [kind, weight] = part.split("=").map((s) => s.trim()) as [string, string | undefined]
    if (!actionKinds.includes(kind as ActionKind) || weight === undefined || !(Number(weight) >= 0)) {
      throw new Error(`--mix takes kind=weight pairs with kinds ${actionKinds.join(", ")}`)
    }
    mix[kind as ActionKind] = Number(weight)
  }
  if (actionKinds.every((k) => mix[k] === 0)) throw new Error("--mix needs at least one positive weight")
  return mix
}

const beforeSettings = { UPDATE_CONCURRENCY: "1", STATS_CACHE_TTL: "0 seconds", DB_POOL_MAX: "1" }

interface Context {
  readonly options: Options
  readonly backend: Backend
  readonly logDir: string
}

const baseLaunch = (context: Context, label: string): LaunchOptions => ({
  label,
  backend: context.backend,
  seedSize: defaultSeedSize,
  countSql: context.options.countSql,
  script: context.options.bot,
  needsDatabase: true,
  hasMetrics: true,
  env: context.options.set,
  logDir: context.logDir,
  mix: context.options.mix,
  replyTimeoutMs: context.options.replyTimeoutMs
})

const print = (text: string) => Effect.sync(() => console.log(text))

const describeRow = (row: Row) => {
  const w = row.measurement.window
  return (
    `  ${row.id.padEnd(10)} ${w.updatesPerSecond.toFixed(0).padStart(6)} updates/s  p50 ${w.latency.p50.toFixed(1)} ms  ` +
    `p95 ${w.latency.p95.toFixed(1)} ms  p99 ${w.latency.p99.toFixed(1)} ms  (user p99 ${w.userLatency.p99.toFixed(1)} ms)  ` +
    `SQL/update ${row.measurement.sqlPerUpdateFromMetrics?.toFixed(2) ?? "—"} metrics, ${row.measurement.sqlPerUpdateAtWire?.toFixed(2) ?? "—"} wire ` +
    `(${row.measurement.sqlPerUpdateWithoutTransactionControl?.toFixed(2) ?? "—"} w/o BEGIN/COMMIT)  ` +
    `RSS peak ${row.measurement.peakRssBytes === undefined ? "—" : (row.measurement.peakRssBytes / 1_048_576).toFixed(0)} MB  ` +
    `bot CPU ${row.measurement.botCpu?.toFixed(2) ?? "—"} (${row.measurement.botCpuMsPerUpdate?.toFixed(3) ?? "—"} ms/update)  db CPU ${row.measurement.databaseCpu?.toFixed(2) ?? "—"}  ` +
    `harness CPU ${w.emulatorCpu.toFixed(2)}  polls ${w.getUpdatesCalls} (${w.freshPerPoll.toFixed(1)} new each, ` +
    `unconfirmed ${w.unconfirmedMean.toFixed(0)} mean / ${w.unconfirmedMax} max)  errors ${errorsOf(row)}`
  )
}

/** One process, one load, one window: scenarios a, b and e. */
const steady = (
  context: Context,
  spec: {
    readonly id: string
    readonly title: string
    readonly launch: LaunchOptions
    readonly users: number
    readonly paceMs: number
    readonly durationMs: number
  }
) =>
  Effect.gen(function* () {
    yield* print(`▶ ${spec.id} ${spec.title}: ${spec.users} users, ${spec.paceMs === 0 ? "closed loop" : `pace ${spec.paceMs} ms`}, ${spec.durationMs / 1000} s`)
    const measured = yield* Effect.scoped(
      Effect.gen(function* () {
        const running = yield* launch(spec.launch)
        running.load.setUsers(spec.users, spec.paceMs)
        yield* Effect.sleep(Duration.millis(context.options.warmupMs))
        const measurement = yield* measureWindow(running, spec.durationMs)
        const unansweredAtEnd = yield* drain(running.load, 15_000)
        if (!running.bot.isRunning()) {
          return yield* Effect.die(new Error(`${spec.id}: the process exited during the run\n${logTail(running.bot.logFile)}`))
        }
        return { measurement, unansweredAtEnd, logFile: running.bot.logFile }
      })
    )
    const levels = logLevels(measured.logFile)
    const row: Row = {
      id: spec.id,
      title: spec.title,
      settings: spec.launch.env,
      users: spec.users,
      paceMs: spec.paceMs,
      measurement: measured.measurement,
      unansweredAtEnd: measured.unansweredAtEnd,
      logWarnings: levels.warnings,
      logErrors: levels.errors
    }
    yield* print(describeRow(row))
    return row
  })

const ramp = (context: Context) =>
  Effect.gen(function* () {
    const { options } = context
    yield* print(`▶ c ramp: ${options.ramp.join(", ")} users at 1 update/s each, ${options.stepMs / 1000} s per step`)
    const result = yield* Effect.scoped(
      Effect.gen(function* () {
        const running = yield* launch(baseLaunch(context, "c-ramp"))
        const steps: Array<RampResult["steps"][number]> = []
        for (const users of options.ramp) {
          running.load.setUsers(users, 1000)
          // Newly added users start over one second; give the step a moment to settle before measuring.
          yield* Effect.sleep(Duration.millis(Math.min(options.warmupMs, Math.max(2000, options.stepMs * 0.3))))
          const measurement = yield* measureWindow(running, options.stepMs)
          if (!running.bot.isRunning()) {
            return yield* Effect.die(new Error(`c@${users}: the bot exited during the ramp\n${logTail(running.bot.logFile)}`))
          }
          const w = measurement.window
          const problems: Array<string> = []
          // The issue's latency (offered → reply) decides; the user-perceived p99 is reported beside it.
          if (w.latency.p99 > 1000) problems.push(`p99 ${w.latency.p99.toFixed(0)} ms > 1 s`)
          if (w.unanswered + w.failures + w.badRequests > 0) problems.push("errors")
          if (w.updatesPerSecond < 0.9 * users) problems.push(`throughput ${w.updatesPerSecond.toFixed(0)}/s < 90 % of offered ${users}/s`)
          const row: Row = {
            id: `c@${users}`,
            title: "ramp",
            settings: {},
            users,
            paceMs: 1000,
            measurement,
            unansweredAtEnd: 0,
            logWarnings: 0,
            logErrors: 0
          }
          steps.push({ ...row, passed: problems.length === 0, reason: problems.join("; ") })
          yield* print(`${describeRow(row)}${problems.length === 0 ? "" : `  ✗ ${problems.join("; ")}`}`)
          if (problems.length > 0 && !options.rampAll) break
        }
        const unansweredAtEnd = yield* drain(running.load, 15_000)
        return { steps, unansweredAtEnd }
      })
    )
    // The saturation point is the last step before the first failing one (later steps may pass by chance).
    const firstFailure = result.steps.findIndex((s) => !s.passed)
    const last = (firstFailure < 0 ? result.steps : result.steps.slice(0, firstFailure)).at(-1)
    return {
      steps: result.steps,
      saturation: last ? { users: last.users, updatesPerSecond: last.measurement.window.updatesPerSecond } : undefined
    } satisfies RampResult
  })

const soak = (context: Context, users: number) =>
  Effect.gen(function* () {
    const row = yield* steady(context, {
      id: "d",
      title: "soak",
      launch: baseLaunch(context, "d-soak"),
      users,
      paceMs: 1000,
      durationMs: context.options.soakMs
    })
    const series = row.measurement.rssSeries.map(([, rss]) => rss)
    const tenth = Math.max(1, Math.floor(series.length / 10))
    const mean = (values: ReadonlyArray<number>) => (values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length)
    const start = mean(series.slice(0, tenth))
    const end = mean(series.slice(-tenth))
    return {
      row,
      rssStartBytes: start,
      rssEndBytes: end,
      driftPercent: start !== undefined && end !== undefined ? ((end - start) / start) * 100 : undefined
    } satisfies SoakResult
  })

const databaseVersion = (backend: Backend) =>
  backend._tag === "pglite"
    ? Effect.succeed("embedded PGlite (in the bot process)")
    : Effect.gen(function* () {
        const sql = yield* PgClient.PgClient
        const rows = yield* sql<{ readonly version: string }>`select version()`
        return `${(rows[0]?.version ?? "PostgreSQL").split(" on ")[0]} on 127.0.0.1 (local)`
      }).pipe(
        Effect.provide(PgClient.layer({ url: Redacted.make(backend.url), maxConnections: 1 })),
        Effect.catchCause(() => Effect.succeed("PostgreSQL"))
      )

export const program = (options: Options) =>
  Effect.gen(function* () {
    const startedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z")
    const stamp = startedAt.replace(/[:]/g, "-")
    const backend = backendFromEnv(process.env.DATABASE_URL)
    const logDir = Path.join(options.out, "logs", stamp)
    Fs.mkdirSync(logDir, { recursive: true })
    const context: Context = { options, backend, logDir }
    const loadStart = Os.loadavg()
    const database = yield* databaseVersion(backend)
    yield* print(`benchmark ${startedAt}: scenarios ${[...options.scenarios].join(",")}, database: ${database}`)

    const rows: Array<Row> = []
    let rampResult: RampResult | undefined
    let soakResult: SoakResult | undefined
    const notes: Array<string> = []
    const closedLoop = { users: options.users, paceMs: 0, durationMs: options.durationMs }

    if (options.scenarios.has("a")) {
      rows.push(
        yield* steady(context, {
          id: "a",
          title: "before (concurrency 1, cache off, pool 1)",
          launch: { ...baseLaunch(context, "a-before"), env: { ...options.set, ...beforeSettings } },
          ...closedLoop
        })
      )
    }
    if (options.scenarios.has("b")) {
      rows.push(yield* steady(context, { id: "b", title: "defaults", launch: baseLaunch(context, "b-defaults"), ...closedLoop }))
    }
    if (options.scenarios.has("c")) {
      rampResult = yield* ramp(context)
      rows.push(...rampResult.steps)
    }
    if (options.scenarios.has("d")) {
      const saturationUsers = rampResult?.saturation?.users
      const users = options.soakUsers ?? (saturationUsers !== undefined ? Math.max(1, Math.round(saturationUsers / 2)) : 500)
      if (options.soakUsers === undefined && saturationUsers === undefined) {
        notes.push("Soak: no saturation point from a ramp in this run, so it ran at 500 users (pass --soak-users to choose).")
      }
      soakResult = yield* soak(context, users)
      rows.push(soakResult.row)
    }
    if (options.scenarios.has("e")) {
      const engine = (label: string, script: string, ours: boolean): LaunchOptions => ({
        ...baseLaunch(context, label),
        script,
        needsDatabase: ours,
        seedSize: undefined,
        hasMetrics: ours
      })
      rows.push(
        yield* steady(context, {
          id: "e:ours",
          title: "engine: the real App graph, no-op route",
          launch: engine("e-ours", "scripts/bench/engine-ours.ts", true),
          ...closedLoop
        })
      )
      rows.push(
        yield* steady(context, {
          id: "e:grammy",
          title: "engine: grammY runner + sequentialize, no-op",
          launch: engine("e-grammy", "scripts/bench/engine-grammy.ts", false),
          ...closedLoop
        })
      )
    }

    let cluster: ClusterResult | undefined
    if (options.scenarios.has("f") || options.scenarios.has("g")) {
      if (backend._tag !== "postgres") {
        notes.push("Scenarios f and g did not run: several processes need PostgreSQL (set DATABASE_URL); the embedded database serves one.")
      } else {
        const clusterOptions = {
          backend,
          logDir,
          users: options.users,
          durationMs: options.durationMs,
          warmupMs: options.warmupMs,
          replyTimeoutMs: options.replyTimeoutMs,
          mix: options.mix,
          set: options.set
        }
        cluster = {
          scaleOut: options.scenarios.has("f") ? yield* scaleOut(clusterOptions) : [],
          takeover: options.scenarios.has("g") ? yield* takeover({ ...clusterOptions, takeovers: options.takeovers }) : undefined
        }
        notes.push(
          "Scale-out (f): each process has its own pool (DB_POOL_MAX each), all share one PostgreSQL and one Redis started for the " +
            "run; the load balancer and Telegram's webhook delivery (played from the emulator, 100 requests in flight) run in the " +
            "harness process. On one machine every process competes for the same cores, so the figures show the cost of the " +
            "per-user leases and shared state, not the gain of adding machines."
        )
      }
    }

    const sqlMethod =
      "SQL statements per answered update, BEGIN/COMMIT/ROLLBACK included, from the bot's own " +
      "`confessions_sql_statements_total` on /metrics (every statement the SqlClient ran, background work such as " +
      "batched processed-update records included)" +
      (backend._tag === "postgres" && options.countSql
        ? "; in parentheses: the same without transaction control, counted independently at the PostgreSQL wire " +
          "by a proxy between the bot and the server (every simple Query and every extended-protocol Execute; " +
          "the JSON also has the wire total, which should match the metric)."
        : "; with embedded PGlite there is no wire to count at (run with DATABASE_URL for the split without BEGIN/COMMIT).")
    notes.push(
      "The emulator answers every Bot API call at once and has no rate limits, so the bot runs with TELEGRAM_RATE_* at " +
        "their maximum; CONFESSIONS_PER_HOUR=1000, CONFESSION_COOLDOWN=0 and COMMENTS_PER_HOUR=100000 so the confess and " +
        "comment flows are measured instead of their anti-spam refusals.",
      "Closed loop (a, b, e): each virtual user sends its next update as soon as the previous one was answered, so " +
        "updates/s is the bot's capacity; latency there is queueing (users ÷ throughput), not service time.",
      `State store cap: STATE_MAX_ENTRIES=${options.set.STATE_MAX_ENTRIES ?? "2000 (default)"}; the state column is the largest ` +
        "confessions_state_entries seen (sampled every 5 s and at the end of each window).",
      "The JSON has more per row: latency by action kind, Bot API calls by method, getUpdates calls with the " +
        "number of updates received but not yet confirmed at each call (`unconfirmedMean`/`unconfirmedMax`; " +
        "Telegram returns at most 100 from the offset), stats-cache hits and misses, and the resident-memory series."
    )
    const report: Report = {
      startedAt,
      command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
      machine: {
        cpu: Os.cpus()[0]?.model ?? "unknown CPU",
        cores: Os.cpus().length,
        memoryGb: Os.totalmem() / 1_073_741_824,
        os: `${Os.type()} ${Os.release()}`,
        node: process.versions.node,
        database,
        loadAverageStart: loadStart,
        loadAverageEnd: Os.loadavg()
      },
      sqlMethod,
      mix: options.mix,
      rows,
      ramp: rampResult,
      soak: soakResult,
      cluster,
      notes
    }
    yield* Effect.sync(() => write(report, options.out, stamp))
  })

const write = (report: Report, out: string, stamp: string) => {
  Fs.mkdirSync(out, { recursive: true })
  const files: Array<string> = []
  const put = (name: string, contents: string) => {
    const file = Path.join(out, name)
    Fs.writeFileSync(file, contents)
    files.push(file)
    return file
  }
  put(`bench-${stamp}.json`, JSON.stringify(report, null, 2))
  const md = markdown(report)
  put(`bench-${stamp}.md`, md)
  put("latest.md", md)
  put("latest.json", JSON.stringify(report, null, 2))
  const chartRows = report.ramp ? report.ramp.steps : report.rows
  if (chartRows.length > 0) {
    const svg = report.ramp
      ? latencyChart(chartRows, "Latency vs load (ramp c, default settings)", true)
      : latencyChart(chartRows, "Latency vs load (scenarios)", false)
    const svgFile = put(`latency-vs-load-${stamp}.svg`, svg)
    put("latency-vs-load.svg", svg)
    const png = Path.join(out, `latency-vs-load-${stamp}.png`)
    const tool = renderPng(svgFile, png)
    if (tool) {
      Fs.copyFileSync(png, Path.join(out, "latency-vs-load.png"))
      files.push(png)
    }
  }
  console.log(`\n${md}`)
  console.log(`written:\n${files.map((f) => `  ${Path.relative(repoRoot, f)}`).join("\n")}`)
}

/** The usage block of this file's header, which `--help` prints. */
const usage = (): string => {
  const source = Fs.readFileSync(new URL(import.meta.url), "utf8")
  const lines = source.split("\n")
  const first = lines.findIndex((line) => line.startsWith("//   node scripts/bench/run.ts"))
  const last = lines.findIndex((line, index) => index > first && !line.startsWith("//"))
  return ["Usage:", ...lines.slice(first, last).map((line) => line.replace(/^\/\/ ?/, ""))].join("\n")
}

if (import.meta.main && (process.argv.includes("--help") || process.argv.includes("-h"))) {
  console.log(usage())
} else if (import.meta.main) {
  const main = Effect.try({
    try: () => parseArgs(process.argv.slice(2)),
    catch: (error) => (error instanceof Error ? error.message : String(error))
  }).pipe(
    Effect.matchEffect({
      onFailure: (message) => Effect.sync(() => {
        console.error(`${message}\n(npm run bench -- --help shows the usage)`)
        process.exitCode = 2
      }),
      onSuccess: program
    })
  )
  // A script entry point: the one place a run function is allowed.
  NodeRuntime.runMain(main)
}
