// Polling with a standby, as real processes (node test/support/ClusterBot.ts) on one PostgreSQL database with the Bot
// API emulator in this process: under steady load the leader is killed with SIGKILL three times (and restarted as a
// standby each time), then stopped with SIGTERM once. The standby takes over within 5 s every time (the next
// getUpdates after the kill comes from it), and every update's writes are applied exactly once.
//
// Answers: each probe answer is an outbox row sent inline right after its commit. A process killed between Telegram's
// acknowledgement of that send and the statement that marks the row sent leaves a row another process sends again
// (the Bot API has no idempotency key, so at-least-once is the best any bot can do at that instant). So the test
// requires every update answered at least once, and a second copy only for an update the killed process handled.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import { command, person } from "../../src/emulator/Updates.ts"
import { readiness, waitForReadiness } from "../../scripts/bench/cluster.ts"
import * as Cluster from "../support/Cluster.ts"

const users = Array.from({ length: 20 }, (_, i) => person(710_000 + i, `Poller${i}`))

describe("Cluster: polling with a standby", () => {
  it.live.skipIf(Cluster.serverUrl === undefined)(
    `kill -9 the leader three times, then stop it: takeover ≤ 5 s, every update applied once ${Cluster.needsPostgres}`,
    () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const databaseUrl = yield* Cluster.freshDatabase
        const logDir = Cluster.logDirectory("polling")
        let generation = 0
        const start = (name: string) =>
          Cluster.startBot({ label: `${name}-${generation++}`, logDir, apiRoot: fake.apiRoot, databaseUrl })

        const first = yield* start("a")
        yield* waitForReadiness(first.port, (r) => r.status === 200 && r.body.role === "leader")
        const second = yield* start("b")
        yield* waitForReadiness(second.port, (r) => r.status === 200 && r.body.role === "standby")
        const bots = [first, second]

        // Steady load: one probe every 100 ms, round-robin over the users (10 updates/s; this must pass on a busy
        // 2-core CI machine, where one process handles a few dozen probes per second).
        const sent: Array<{ readonly tag: string; readonly userId: number }> = []
        const load = yield* Effect.gen(function* () {
          for (let n = 0; ; n++) {
            const user = users[n % users.length] ?? users[0]
            if (user === undefined) return
            const tag = `p${n}`
            fake.push(command(user, "probe", tag))
            sent.push({ tag, userId: user.id })
            yield* Effect.sleep("100 millis")
          }
        }).pipe(Effect.forkChild)

        const roleOf = (port: number) => Effect.map(readiness(port), (r) => r.body.role)
        const takeovers: Array<number> = []
        const killedPids: Array<number> = []
        for (let round = 0; round < 4; round++) {
          yield* Effect.sleep("1500 millis")
          const leaderIndex = (yield* roleOf(bots[0]?.port ?? 0)) === "leader" ? 0 : 1
          const leader = bots[leaderIndex] as Cluster.Bot
          const standby = bots[1 - leaderIndex] as Cluster.Bot
          assert.strictEqual(yield* roleOf(standby.port), "standby", Cluster.logsOf(bots))
          const graceful = round === 3
          const stoppedAt = Date.now()
          leader.kill(graceful ? "SIGTERM" : "SIGKILL")
          if (!graceful) killedPids.push(leader.pid)
          yield* leader.exited
          // Measured from the kill, or from the exit of a leader that stopped (its drain is its own business). Its
          // last getUpdates (a confirmation on stopping, or one in flight at the kill) arrived before it exited, so
          // the first getUpdates after that is the new leader's.
          const since = graceful ? Date.now() : stoppedAt
          const exitedAt = Date.now()
          yield* fake.waitUntil(() => fake.callsTo("getUpdates").some((call) => call.at > exitedAt))
          const firstPoll = fake.callsTo("getUpdates").find((call) => call.at > exitedAt)
          takeovers.push((firstPoll?.at ?? Infinity) - since)
          yield* waitForReadiness(standby.port, (r) => r.body.role === "leader", "10 seconds")
          if (graceful) break
          const replacement = yield* start(leaderIndex === 0 ? "a" : "b")
          yield* waitForReadiness(replacement.port, (r) => r.status === 200 && r.body.role === "standby")
          bots[leaderIndex] = replacement
        }
        yield* Effect.sleep("1 second")
        yield* Fiber.interrupt(load)

        // Everything sent is answered (an inline answer a killed process never sent waits for its 30 s lease).
        const tags = new Set(sent.map((s) => s.tag))
        const answered = () => Cluster.answersByTag(fake.callsTo("sendMessage").map((call) => call.body.text))
        yield* fake
          .waitUntil(() => {
            const counts = answered()
            return [...tags].every((tag) => (counts.get(tag) ?? 0) > 0)
          })
          .pipe(
            Effect.timeoutOrElse({
              duration: "60 seconds",
              orElse: () => Effect.die(new Error(`not every probe was answered\n${Cluster.logsOf(bots)}`))
            })
          )

        const rows = yield* Cluster.probeRows(databaseUrl)
        const rowsByTag = new Map<string, number>()
        for (const row of rows) rowsByTag.set(row.tag, (rowsByTag.get(row.tag) ?? 0) + 1)
        assert.strictEqual(rows.length, sent.length, "one row per update")
        assert.deepStrictEqual([...rowsByTag.values()].filter((n) => n !== 1), [], "every update applied exactly once")
        assert.strictEqual(rowsByTag.size, tags.size)

        const counts = answered()
        const twice = [...counts].filter(([, n]) => n > 1).map(([tag]) => tag)
        const handledByKilled = new Set(rows.filter((row) => killedPids.includes(row.pid)).map((row) => row.tag))
        assert.deepStrictEqual(twice.filter((tag) => !handledByKilled.has(tag) || (counts.get(tag) ?? 0) > 2), [])
        // Only answers in flight at a kill can go twice: one or two per kill at 10 updates/s, a few when a loaded
        // machine slows the handlers down (seen: 4 over three kills, with other suites on both cores).
        assert.isAtMost(twice.length, 3 * killedPids.length, "only the answers in flight at a kill go twice")

        yield* Effect.logWarning(
          `polling fail-over: takeover ${takeovers.map((ms) => `${ms} ms`).join(", ")}; ${sent.length} updates; ` +
            `answers sent twice: ${twice.length}`
        )
        for (const ms of takeovers) assert.isAtMost(ms, 5000, `takeover within 5 s\n${Cluster.logsOf(bots)}`)
        assert.strictEqual(takeovers.length, 4)
      }).pipe(Effect.provide(Layer.fresh(BotApiEmulator.layer()))),
    { timeout: 240_000 }
  )
})
