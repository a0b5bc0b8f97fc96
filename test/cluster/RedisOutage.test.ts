// Redis stopped for 10 s under load: two webhook processes behind a load balancer share PostgreSQL and a Redis started
// by this test on a port of its own (never the machine's shared one), and keep receiving probes and plain texts while
// it is down. Both report not ready with the reason while it is down, and ready again within 5 s of its return;
// every update gets exactly one answer (its own, or the temporary-problem apology when it failed throughout), and
// every probe answered as done was applied exactly once.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import * as Path from "node:path"
import { loadBalancer, startRedis, waitForReadiness, webhookBridge } from "../../scripts/bench/cluster.ts"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import { command, person, text } from "../../src/emulator/Updates.ts"
import { temporaryProblem } from "../../src/views/Messages.ts"
import * as Cluster from "../support/Cluster.ts"

const users = Array.from({ length: 16 }, (_, i) => person(740_000 + i, `Outage${i}`))

describe("Cluster: Redis outage", () => {
  it.live.skipIf(Cluster.serverUrl === undefined)(
    `Redis down 10 s under load: not ready with the reason, ready ≤ 5 s after it returns, no update lost ${Cluster.needsPostgres}`,
    () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        fake.script("setWebhook", { status: 200, body: { ok: true, result: true, description: "Webhook was set" } }, { times: 100 })
        const databaseUrl = yield* Cluster.freshDatabase
        const logDir = Cluster.logDirectory("redis-outage")
        const redis = yield* startRedis(Path.join(logDir, "redis.log"))
        const bots = yield* Effect.forEach(["a", "b"], (label) =>
          Cluster.startBot({ label, logDir, apiRoot: fake.apiRoot, databaseUrl, redisUrl: redis.url, webhook: true })
        )
        yield* Effect.forEach(bots, (bot) => waitForReadiness(bot.port, (r) => r.status === 200), { concurrency: "unbounded" })
        const balancer = yield* loadBalancer({
          upstreams: () => bots.map((bot) => `http://127.0.0.1:${bot.port}`),
          strategy: "round-robin"
        })
        yield* webhookBridge({
          apiRoot: fake.apiRoot,
          token: fake.token,
          url: `${balancer.url}${new URL(Cluster.webhookUrl).pathname}`,
          secret: Cluster.webhookSecret
        })

        // Steady load: every 100 ms one update, round-robin over the users; every third a plain text (which reads
        // the conversation state in Redis), the others probes (which take the user's lease in Redis).
        const sentTo = new Map<number, number>()
        const probes: Array<string> = []
        const load = yield* Effect.gen(function* () {
          for (let n = 0; ; n++) {
            const user = users[n % users.length]
            if (user === undefined) return
            if (n % 3 === 2) fake.push(text(user, `hello ${n}`))
            else {
              probes.push(`o${n}`)
              fake.push(command(user, "probe", `o${n}`))
            }
            sentTo.set(user.id, (sentTo.get(user.id) ?? 0) + 1)
            yield* Effect.sleep("100 millis")
          }
        }).pipe(Effect.forkChild)

        yield* Effect.sleep("3 seconds")
        yield* redis.stop
        const stoppedAt = Date.now()
        const unready = yield* Effect.forEach(bots, (bot) =>
          waitForReadiness(bot.port, (r) => r.status === 503, "5 seconds")
        )
        for (const r of unready) {
          assert.strictEqual(r.body.redis, "unreachable")
          assert.strictEqual(r.body.database, "ok")
          assert.match(String((r.body.reasons as ReadonlyArray<string>)[0]), /^redis unreachable: ./)
        }
        const unreadyAfter = Date.now() - stoppedAt
        yield* Effect.sleep(`${Math.max(0, 10_000 - (Date.now() - stoppedAt))} millis`)
        yield* redis.start
        const restartedAt = Date.now()
        yield* Effect.forEach(bots, (bot) => waitForReadiness(bot.port, (r) => r.status === 200, "15 seconds"), {
          concurrency: "unbounded"
        })
        const readyAfter = Date.now() - restartedAt
        yield* Effect.sleep("4 seconds")
        yield* Fiber.interrupt(load)

        // Every update gets exactly one answer.
        const messagesTo = (chatId: number) =>
          fake.callsTo("sendMessage").filter((call) => call.body.chat_id === chatId).map((call) => String(call.body.text))
        const expected = [...sentTo.values()].reduce((a, b) => a + b, 0)
        const answeredCount = () => users.reduce((n, user) => n + messagesTo(user.id).length, 0)
        yield* fake.waitUntil(() => answeredCount() >= expected).pipe(
          Effect.timeoutOrElse({
            duration: "60 seconds",
            orElse: () => Effect.die(new Error(`${answeredCount()} of ${expected} answered\n${Cluster.logsOf(bots)}`))
          })
        )
        yield* Effect.sleep("1 second")
        for (const user of users) {
          assert.strictEqual(messagesTo(user.id).length, sentTo.get(user.id), `one answer per update for ${user.id}`)
        }
        const all = users.flatMap((user) => messagesTo(user.id))
        const apologies = all.filter((t) => t === temporaryProblem).length
        const done = Cluster.answersByTag(all)
        assert.deepStrictEqual([...done.values()].filter((n) => n !== 1), [])
        const rows = yield* Cluster.probeRows(databaseUrl)
        assert.deepStrictEqual(rows.map((r) => r.tag).sort(), [...done.keys()].sort(), "a probe answered done was applied once")
        assert.isAbove(apologies, 0, "updates that failed throughout the outage were apologised for")
        assert.isAbove(done.size, probes.length / 2, "most probes were handled")
        // Service resumed: the last probes sent after Redis returned were handled.
        assert.isTrue(done.has(probes.at(-1) ?? ""), "the last probe was handled after the outage")

        yield* Effect.logWarning(
          `redis outage: not ready after ${unreadyAfter} ms, ready again ${readyAfter} ms after Redis returned; ` +
            `${expected} updates, ${apologies} apologies, ${done.size}/${probes.length} probes done`
        )
        assert.isAtMost(readyAfter, 5000, `ready within 5 s of Redis returning\n${Cluster.logsOf(bots)}`)
      }).pipe(Effect.provide(Layer.fresh(BotApiEmulator.layer()))),
    { timeout: 180_000 }
  )
})
