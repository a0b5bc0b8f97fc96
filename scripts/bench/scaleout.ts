// The benchmark's multi-process scenarios (issue 14), PostgreSQL only (the embedded database serves one process):
//   f  scale-out: 1, 2 and 3 webhook processes (`node src/main.ts`, BOT_MODE=webhook, REDIS_URL to a Redis of the
//      run's own) behind a round-robin load balancer, Telegram's webhook delivery played from the emulator
//      (scripts/bench/cluster.ts), the same closed-loop virtual users as scenario b, one measured window each; first
//      one process without Redis (state and limits in memory), which separates the cost of Redis from the cost of
//      the webhook path;
//   g  takeover: two polling processes on one database under a light steady load; the leader is killed with SIGKILL
//      `--takeovers` times (restarted as a standby each time); the time from the kill to the standby's first
//      getUpdates is the takeover time. Every update must still be answered.
// All processes, the database, Redis and the load generator share the machine's cores: on 2 cores more processes
// mostly add contention. The point is no loss and correct behaviour; the numbers say what it costs.
import { Duration, Effect } from "effect"
import * as Path from "node:path"
import { loadBalancer, readiness, startRedis, waitForReadiness, webhookBridge } from "./cluster.ts"
import {
  type Backend,
  botEnv,
  drain,
  freePort,
  logLevels,
  prepareDatabase,
  safeProcStatus,
  startProcess,
  type BotProcess
} from "./harness.ts"
import * as Load from "./load.ts"
import { temporaryProblem } from "../../src/views/Messages.ts"
import { defaultSeedSize, type Mix } from "./workload.ts"

export interface ScaleOutRow {
  readonly processes: number
  /** Whether the processes shared state, limits and leases through Redis (false: one process, all in memory). */
  readonly redis: boolean
  readonly users: number
  readonly updatesPerSecond: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  /** No reply within the timeout, during the window or after the drain. */
  readonly unanswered: number
  /** Replies that were the apology. */
  readonly failures: number
  /** CPU of all bot processes together during the window, in cores. */
  readonly botCpu: number | undefined
  /** Requests the load balancer passed to each process. */
  readonly perProcess: ReadonlyArray<number>
  readonly logErrors: number
}

export interface TakeoverResult {
  /** Milliseconds from each SIGKILL to the new leader's first getUpdates. */
  readonly takeoversMs: ReadonlyArray<number>
  readonly updatesSent: number
  readonly unanswered: number
  readonly failures: number
}

export interface ClusterResult {
  readonly scaleOut: ReadonlyArray<ScaleOutRow>
  readonly takeover: TakeoverResult | undefined
}

export interface ScaleOutOptions {
  readonly backend: Backend
  readonly logDir: string
  readonly users: number
  readonly durationMs: number
  readonly warmupMs: number
  readonly replyTimeoutMs: number
  readonly mix: Mix
  readonly set: Readonly<Record<string, string>>
}

const webhookPath = "/telegram/hook"
const webhookSecret = "bench-webhook-secret-0123456789"
const setWebhookOk = { status: 200, body: { ok: true, result: true, description: "Webhook was set" } }

const print = (text: string) => Effect.sync(() => console.log(text))

/** Scenario f for one process count. */
const scaleOutOnce = (options: ScaleOutOptions, processes: number, withRedis: boolean) =>
  Effect.scoped(
    Effect.gen(function* () {
      if (options.backend._tag !== "postgres") return yield* Effect.die(new Error("scale-out needs DATABASE_URL"))
      const label = `f-${processes}${withRedis ? "" : "-memory"}`
      const database = yield* prepareDatabase({ backend: options.backend, label, seedSize: defaultSeedSize, countSql: false })
      const redisEnv = withRedis ? { REDIS_URL: (yield* startRedis(Path.join(options.logDir, `${label}-redis.log`))).url } : {}
      const load = yield* Load.make({
        seeded: database.seeded,
        mix: options.mix,
        randomSeed: 7,
        replyTimeoutMs: options.replyTimeoutMs,
        failureTexts: [temporaryProblem]
      })
      load.emulator.script("setWebhook", setWebhookOk, { times: 100 })
      const bots: Array<{ readonly bot: BotProcess; readonly port: number }> = []
      for (let i = 0; i < processes; i++) {
        const port = yield* freePort
        const bot = yield* startProcess({
          script: "src/main.ts",
          logFile: Path.join(options.logDir, `${label}-${i}.log`),
          env: {
            ...botEnv(load.emulator.apiRoot, port),
            ...database.env,
            BOT_MODE: "webhook",
            WEBHOOK_URL: `https://bot.example.org${webhookPath}`,
            WEBHOOK_SECRET: webhookSecret,
            ...redisEnv,
            LOG_LEVEL: "warn",
            ...options.set
          }
        })
        bots.push({ bot, port })
      }
      yield* Effect.forEach(bots, ({ port }) => waitForReadiness(port, (r) => r.status === 200, "120 seconds"), {
        concurrency: "unbounded"
      })
      const balancer = yield* loadBalancer({ upstreams: () => bots.map(({ port }) => `http://127.0.0.1:${port}`), strategy: "round-robin" })
      yield* webhookBridge({
        apiRoot: load.emulator.apiRoot,
        token: load.emulator.token,
        url: `${balancer.url}${webhookPath}`,
        secret: webhookSecret,
        maxConnections: 100
      })
      load.setUsers(options.users, 0)
      yield* Effect.sleep(Duration.millis(options.warmupMs))
      const cpuBefore = yield* Effect.forEach(bots, ({ bot }) => safeProcStatus(bot.pid))
      const countsBefore = balancer.counts()
      load.beginWindow()
      yield* Effect.sleep(Duration.millis(options.durationMs))
      const window = load.endWindow()
      const cpuAfter = yield* Effect.forEach(bots, ({ bot }) => safeProcStatus(bot.pid))
      const countsAfter = balancer.counts()
      const unansweredAtEnd = yield* drain(load, 15_000)
      const cpu = cpuBefore.every((s) => s !== undefined) && cpuAfter.every((s) => s !== undefined)
        ? cpuAfter.reduce((sum, s, i) => sum + (s?.cpuSeconds ?? 0) - (cpuBefore[i]?.cpuSeconds ?? 0), 0) / window.seconds
        : undefined
      const row: ScaleOutRow = {
        processes,
        redis: withRedis,
        users: options.users,
        updatesPerSecond: window.updatesPerSecond,
        p50: window.latency.p50,
        p95: window.latency.p95,
        p99: window.latency.p99,
        unanswered: window.unanswered + unansweredAtEnd,
        failures: window.failures,
        botCpu: cpu,
        perProcess: bots.map(({ port }) => {
          const key = `http://127.0.0.1:${port}`
          return (countsAfter[key] ?? 0) - (countsBefore[key] ?? 0)
        }),
        logErrors: bots.reduce((sum, { bot }) => sum + logLevels(bot.logFile).errors, 0)
      }
      yield* print(
        `  f:${processes}${withRedis ? "" : " (no Redis)"}  ${row.updatesPerSecond.toFixed(0).padStart(6)} updates/s  p50 ${row.p50.toFixed(1)} ms  p95 ${row.p95.toFixed(1)} ms  ` +
          `p99 ${row.p99.toFixed(1)} ms  bot CPU ${row.botCpu?.toFixed(2) ?? "—"}  per process ${row.perProcess.join("/")}  ` +
          `unanswered ${row.unanswered}  apologies ${row.failures}  log errors ${row.logErrors}`
      )
      return row
    })
  )

export const scaleOut = (options: ScaleOutOptions, counts: ReadonlyArray<number> = [1, 2, 3]) =>
  Effect.gen(function* () {
    yield* print(`▶ f scale-out: ${counts.join(", ")} webhook processes behind a load balancer, ${options.users} users, closed loop, ${options.durationMs / 1000} s each`)
    const rows: Array<ScaleOutRow> = [yield* scaleOutOnce(options, 1, false)]
    for (const n of counts) rows.push(yield* scaleOutOnce(options, n, true))
    return rows
  })

/** Scenario g. */
export const takeover = (options: ScaleOutOptions & { readonly takeovers: number }) =>
  Effect.scoped(
    Effect.gen(function* () {
      if (options.backend._tag !== "postgres") return yield* Effect.die(new Error("takeover needs DATABASE_URL"))
      yield* print(`▶ g takeover: two polling processes, ${options.takeovers} × SIGKILL of the leader under a steady load`)
      const database = yield* prepareDatabase({ backend: options.backend, label: "g-takeover", seedSize: defaultSeedSize, countSql: false })
      const load = yield* Load.make({
        seeded: database.seeded,
        mix: options.mix,
        randomSeed: 11,
        replyTimeoutMs: 60_000,
        failureTexts: [temporaryProblem]
      })
      let started = 0
      const start = Effect.gen(function* () {
        const port = yield* freePort
        const bot = yield* startProcess({
          script: "src/main.ts",
          logFile: Path.join(options.logDir, `g-takeover-${started++}.log`),
          env: { ...botEnv(load.emulator.apiRoot, port), ...database.env, LOG_LEVEL: "warn", ...options.set }
        })
        return { bot, port }
      })
      const first = yield* start
      yield* waitForReadiness(first.port, (r) => r.status === 200 && r.body.role === "leader", "120 seconds")
      const second = yield* start
      yield* waitForReadiness(second.port, (r) => r.status === 200 && r.body.role === "standby", "120 seconds")
      const pair = [first, second]
      load.setUsers(50, 1000)
      const takeoversMs: Array<number> = []
      for (let round = 0; round < options.takeovers; round++) {
        yield* Effect.sleep("3 seconds")
        const leaderIndex = (yield* readiness(pair[0]?.port ?? 0)).body.role === "leader" ? 0 : 1
        const leader = pair[leaderIndex] as { readonly bot: BotProcess; readonly port: number }
        const killedAt = performance.now()
        leader.bot.kill("SIGKILL")
        yield* leader.bot.exited
        const polls = load.emulator.stats().requests.getUpdates ?? 0
        yield* load.emulator.waitUntil(() => (load.emulator.stats().requests.getUpdates ?? 0) > polls)
        takeoversMs.push(performance.now() - killedAt)
        yield* print(`  takeover ${round + 1}: ${takeoversMs.at(-1)?.toFixed(0)} ms`)
        const replacement = yield* start
        yield* waitForReadiness(replacement.port, (r) => r.status === 200 && r.body.role === "standby", "120 seconds")
        pair[leaderIndex] = replacement
      }
      const unansweredAtEnd = yield* drain(load, 45_000)
      const totals = load.totals()
      return {
        takeoversMs,
        updatesSent: totals.sent,
        unanswered: totals.unanswered + unansweredAtEnd,
        failures: totals.failures
      } satisfies TakeoverResult
    })
  )

/** The report's section for f and g. */
export const markdownSection = (result: ClusterResult): ReadonlyArray<string> => {
  const lines: Array<string> = []
  if (result.scaleOut.length > 0) {
    const base = result.scaleOut.find((row) => row.redis && row.processes === 1)?.updatesPerSecond ?? 0
    lines.push(
      "Scale-out (f): webhook processes behind a round-robin load balancer, shared PostgreSQL and Redis, same machine:",
      "",
      "| processes | users | updates/s | vs 1 with Redis | p50 ms | p95 ms | p99 ms | bot CPU (cores) | requests per process | unanswered | apologies | log errors |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    for (const row of result.scaleOut) {
      lines.push(
        `| ${row.processes}${row.redis ? "" : " (no Redis)"} | ${row.users} | ${row.updatesPerSecond.toFixed(0)} | ${base > 0 ? `${(row.updatesPerSecond / base).toFixed(2)}×` : "—"} | ` +
          `${row.p50.toFixed(1)} | ${row.p95.toFixed(1)} | ${row.p99.toFixed(1)} | ${row.botCpu?.toFixed(2) ?? "—"} | ` +
          `${row.perProcess.join(" / ")} | ${row.unanswered} | ${row.failures} | ${row.logErrors} |`
      )
    }
    lines.push("")
  }
  if (result.takeover) {
    const t = result.takeover
    const sorted = [...t.takeoversMs].sort((a, b) => a - b)
    lines.push(
      `Takeover (g): SIGKILL of the polling leader → the standby's first getUpdates: ${t.takeoversMs.map((ms) => `${ms.toFixed(0)} ms`).join(", ")} ` +
        `(max ${sorted.at(-1)?.toFixed(0) ?? "—"} ms); ${t.updatesSent} updates sent, ${t.unanswered} unanswered, ${t.failures} apologies.`,
      ""
    )
  }
  return lines
}
