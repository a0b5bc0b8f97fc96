// A short run of the benchmark harness (scripts/bench) against the real bot process, so `npm run bench` keeps
// working: 40 virtual users × 6 actions of the mix on a small seeded database. It asserts correctness only:
// every update answered, none twice, none with the apology, and the database holding exactly what the answered
// steps wrote. Never speed. PGlite by default, PostgreSQL with TEST_DATABASE_URL.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Database from "../../src/sql/Database.ts"
import * as Harness from "../../scripts/bench/harness.ts"
import * as Prometheus from "../../scripts/bench/prometheus.ts"
import { ids, type SeedSize } from "../../scripts/bench/workload.ts"

const users = 40
const actionsPerUser = 6
const seedSize: SeedSize = { confessions: 50, comments: 500, reactions: 300 }

const countRows = (options: Database.DatabaseOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(Database.layerClient(options))
      const sql = yield* SqlClient.SqlClient.pipe(Effect.provideContext(context))
      const [row] = yield* sql<{ readonly comments: number; readonly pending: number; readonly users: number }>`
        select (select count(*)::int from comments) as comments,
               (select count(*)::int from confessions where status = 'pending') as pending,
               (select count(*)::int from users) as users`
      return row
    })
  )

describe("BenchSmoke", () => {
  it("entryPath - a relative script is found in this repository, an absolute one (another checkout) is kept", () => {
    assert.strictEqual(Harness.entryPath("src/main.ts"), Path.join(Harness.repoRoot, "src/main.ts"))
    assert.strictEqual(Harness.entryPath("/elsewhere/checkout/src/main.ts"), "/elsewhere/checkout/src/main.ts")
  })

  it.live(
    "bench harness - 40 users × 6 actions through the real bot: every update answered once, database counts match",
    () =>
      Effect.gen(function* () {
        const logDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "confessions-bench-smoke-"))
        const backend = Harness.backendFromEnv(process.env.TEST_DATABASE_URL)
        yield* Effect.gen(function* () {
          const database = yield* Harness.prepareDatabase({ backend, label: "smoke", seedSize, countSql: false })
          const run = yield* Effect.scoped(
            Effect.gen(function* () {
              const running = yield* Harness.launchOn(database, {
                label: "smoke",
                backend,
                seedSize,
                countSql: false,
                script: "src/main.ts",
                needsDatabase: true,
                hasMetrics: true,
                env: { LOG_LEVEL: "warn" },
                logDir,
                replyTimeoutMs: 20_000
              })
              running.load.setUsers(users, 0, actionsPerUser)
              const finished = yield* Effect.promise(() => running.load.idle(35_000))
              const totals = running.load.totals()
              // The router counts an update after its handler returned, a moment after the reply reached us.
              const metrics = yield* Harness.scrape(running.metricsPort ?? 0).pipe(
                Effect.repeat({
                  until: (samples) => (Prometheus.sumOf(samples, "confessions_updates_total") ?? 0) >= totals.sent,
                  schedule: Schedule.spaced("100 millis"),
                  times: 50
                })
              )
              return { finished, totals, metrics, logFile: running.bot.logFile }
            })
          )
          const { totals, metrics } = run
          const context = `see ${run.logFile}`
          assert.isTrue(run.finished, `every user finished its actions (${context})`)
          assert.strictEqual(totals.unanswered, 0, `updates without a reply (${context})`)
          assert.strictEqual(totals.failures, 0, `answers that were the apology (${context})`)
          assert.strictEqual(totals.badRequests, 0, "requests the emulator rejected")
          assert.isAtLeast(totals.sent, users * actionsPerUser, "at least one update per action")
          assert.strictEqual(totals.offered, totals.sent, "every update was handed out")
          assert.strictEqual(totals.answered, totals.sent, "every update answered")
          const handled = Prometheus.sumOf(metrics, "confessions_updates_total")
          assert.strictEqual(handled, totals.sent, "the bot handled each update exactly once")

          const rows = yield* countRows(database.direct)
          const written = (step: string) => totals.answeredBySteps[step] ?? 0
          assert.isDefined(rows)
          assert.strictEqual(rows?.comments, seedSize.comments + written("comment#2"), "one comment per answered comment text")
          assert.strictEqual(rows?.pending, written("confess#3"), "one pending confession per answered submit")
          const active = new Set(Object.keys(totals.answeredByKind).filter((k) => (totals.answeredByKind[k as keyof typeof totals.answeredByKind] ?? 0) > 0))
          assert.isAtLeast(active.size, 4, "the mix exercised most kinds of action")
          assert.strictEqual(rows?.users, ids.seededAuthors + users, "every virtual user registered once")
        }).pipe(
          Effect.scoped,
          // The bot's log stays for a failed run (the assertions name it).
          Effect.tap(() => Effect.sync(() => Fs.rmSync(logDir, { recursive: true, force: true })))
        )
      }),
    { timeout: 60_000 }
  )
})
