// Three webhook processes behind a load balancer that picks one at random per request, sharing PostgreSQL and a Redis
// of this test's own; Telegram's delivery is played from the emulator (scripts/bench/cluster.ts), up to 40 requests
// in flight, so one user's updates regularly reach two processes at once. Every update is applied and answered exactly
// once, one user's handlers never overlap in time (from the probe's start and end records), and conversation flows
// whose steps land on different processes complete.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Prometheus from "../../scripts/bench/prometheus.ts"
import { loadBalancer, startRedis, waitForReadiness, webhookBridge } from "../../scripts/bench/cluster.ts"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import { command, person, type Person } from "../../src/emulator/Updates.ts"
import * as Path from "node:path"
import * as Cluster from "../support/Cluster.ts"

/**
 * Probe load: users × updates each. The shape is 500 × 10 (CLUSTER_TEST_USERS=500); the default is 100 × 10,
 * which keeps this test near a minute on a busy 2-core CI machine.
 */
const userCount = Number(process.env.CLUSTER_TEST_USERS ?? 100)
const updatesPerUser = 10
const flowCount = 20

const probeUsers = Array.from({ length: userCount }, (_, i) => person(720_000 + i, `Hooked${i}`))
const flowUsers = Array.from({ length: flowCount }, (_, i) => person(730_000 + i, `Flow${i}`))

/** A deterministic shuffle (xorshift), so a failure can be replayed. */
const makeRandom = (seed: number) => {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4_294_967_296
  }
}

describe("Cluster: webhook behind a load balancer", () => {
  it.live.skipIf(Cluster.serverUrl === undefined)(
    `three processes, ${userCount} users × ${updatesPerUser} updates at random processes: once each, never overlapping ${Cluster.needsPostgres}`,
    () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        // The bots register the webhook at start; the emulator must not deliver itself (it would need https).
        fake.script("setWebhook", { status: 200, body: { ok: true, result: true, description: "Webhook was set" } }, { times: 100 })
        const databaseUrl = yield* Cluster.freshDatabase
        const logDir = Cluster.logDirectory("webhook")
        const redis = yield* startRedis(Path.join(logDir, "redis.log"))
        const bots = yield* Effect.forEach(["a", "b", "c"], (label) =>
          Cluster.startBot({
            label,
            logDir,
            apiRoot: fake.apiRoot,
            databaseUrl,
            redisUrl: redis.url,
            webhook: true,
            env: { STATE_MAX_ENTRIES: "100" }
          })
        )
        yield* Effect.forEach(bots, (bot) => waitForReadiness(bot.port, (r) => r.status === 200 && r.body.role === "webhook"), {
          concurrency: "unbounded"
        })
        const random = makeRandom(20_261_130)
        const routed = new Map<number, string>()
        const balancer = yield* loadBalancer({
          upstreams: () => bots.map((bot) => `http://127.0.0.1:${bot.port}`),
          strategy: "random",
          random,
          observe: (body, upstream) => {
            const id = /"update_id":(\d+)/.exec(body.toString())?.[1]
            if (id !== undefined) routed.set(Number(id), upstream)
          }
        })
        const bridge = yield* webhookBridge({
          apiRoot: fake.apiRoot,
          token: fake.token,
          url: `${balancer.url}${new URL(Cluster.webhookUrl).pathname}`,
          secret: Cluster.webhookSecret,
          maxConnections: 40
        })

        // Flows, step by step as a person would (each step once the previous one was answered), concurrently.
        const lastText = (who: Person) => fake.chat(who.id).messages.at(-1)
        const flowIds: Array<Array<number>> = []
        const flow = (who: Person, index: number) =>
          Effect.gen(function* () {
            const ids: Array<number> = []
            flowIds[index] = ids
            const waitFor = (pattern: RegExp) =>
              fake.waitUntil(() => {
                const last = lastText(who)
                return last !== undefined && "text" in last && last.from?.is_bot === true && pattern.test(last.text ?? "")
              })
            ids.push((yield* fake.send(who, "/confess")).update_id)
            yield* waitFor(/Send me your confession/)
            ids.push((yield* fake.send(who, `A confession written on several machines, number ${index}`)).update_id)
            yield* waitFor(/Preview/)
            const preview = lastText(who)
            if (preview === undefined) return yield* Effect.die(new Error("no preview"))
            ids.push((yield* fake.press(who, who.id, preview.message_id, "✅ Submit")).update_id)
            yield* fake.waitUntil(() =>
              fake.chat(who.id).messages.some((m) => "text" in m && /is waiting for review/.test(m.text ?? ""))
            )
          })

        // Probes: each user's updates in bursts of 1–4 in a row, users interleaved at random.
        const queue = probeUsers.map((who) => ({ who, next: 1 }))
        let pushed = 0
        const pushProbes = Effect.gen(function* () {
          while (queue.length > 0) {
            const at = Math.floor(random() * queue.length)
            const entry = queue[at] as { readonly who: Person; next: number }
            const burst = 1 + Math.floor(random() * 4)
            for (let i = 0; i < burst && entry.next <= updatesPerUser; i++) {
              fake.push(command(entry.who, "probe", `u${entry.who.id}-${entry.next}`))
              entry.next++
              pushed++
            }
            if (entry.next > updatesPerUser) queue.splice(at, 1)
            if (pushed % 200 < 4) yield* Effect.sleep("20 millis")
          }
        })
        const started = Date.now()
        yield* Effect.all([pushProbes, Effect.forEach(flowUsers, flow, { concurrency: "unbounded", discard: true })], {
          concurrency: "unbounded",
          discard: true
        }).pipe(
          Effect.timeoutOrElse({
            duration: "180 seconds",
            orElse: () => Effect.die(new Error(`flows did not complete\n${Cluster.logsOf(bots)}`))
          })
        )
        const total = userCount * updatesPerUser
        const answered = () => Cluster.answersByTag(fake.callsTo("sendMessage").map((call) => call.body.text))
        yield* fake.waitUntil(() => answered().size === total).pipe(
          Effect.timeoutOrElse({
            duration: "180 seconds",
            orElse: () => Effect.die(new Error(`${answered().size} of ${total} probes answered\n${Cluster.logsOf(bots)}`))
          })
        )
        const elapsed = Date.now() - started
        yield* Effect.sleep("500 millis")

        // Exactly once: one row and one answer per update.
        const rows = yield* Cluster.probeRows(databaseUrl)
        assert.strictEqual(rows.length, total, "one row per update")
        assert.strictEqual(new Set(rows.map((r) => r.tag)).size, total)
        assert.deepStrictEqual([...answered().values()].filter((n) => n !== 1), [], "one answer per update")
        // One user's handlers never overlap, though their updates often ran on different processes.
        assert.deepStrictEqual(Cluster.overlaps(rows), [])
        const pids = new Set(rows.map((r) => r.pid))
        assert.strictEqual(pids.size, 3, "all three processes handled probes")
        let hops = 0
        const byUser = new Map<number, Array<Cluster.ProbeRow>>()
        for (const row of rows) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), row])
        for (const list of byUser.values()) {
          const sorted = [...list].sort((a, b) => a.startedAt - b.startedAt)
          for (let i = 1; i < sorted.length; i++) if (sorted[i]?.pid !== sorted[i - 1]?.pid) hops++
        }
        assert.isAbove(hops, total / 4, "consecutive updates of one user ran on different processes")

        // The leases were contended (updates of one user arrived at two processes at once) and never lost.
        const metrics = yield* Effect.forEach(bots, (bot) =>
          Effect.promise(() => fetch(`http://127.0.0.1:${bot.port}/metrics`).then((r) => r.text())).pipe(
            Effect.map((text) => Prometheus.parse(text).samples)
          )
        )
        const sum = (name: string) => metrics.reduce((acc, samples) => acc + (Prometheus.sumOf(samples, name) ?? 0), 0)
        const waited = metrics.reduce(
          (acc, samples) =>
            acc +
            (Prometheus.sumOf(samples, "confessions_user_lock_wait_seconds_count") ?? 0) -
            (Prometheus.sumOf(samples, "confessions_user_lock_wait_seconds_bucket", (labels) => labels.le === "0.01") ?? 0),
          0
        )
        assert.isAbove(waited, 0, "some updates waited (over 10 ms) for a lease another process held")
        assert.strictEqual(sum("confessions_user_lock_lost_total"), 0)
        // The shared state store's cap (STATE_MAX_ENTRIES=100) held for all three together.
        for (const samples of metrics) assert.isAtMost(Prometheus.sumOf(samples, "confessions_state_entries") ?? 0, 100)

        // Every flow completed (above), most of them across processes: /confess, the text and the button press
        // landed on one process for only 1 in 9 of them by chance.
        const hopped = flowIds.filter((ids) => new Set(ids.map((id) => routed.get(id))).size > 1).length
        assert.strictEqual(flowIds.length, flowCount)
        assert.isAtLeast(hopped, flowCount / 2, "flows continued on other processes")
        const statuses = bridge.statuses()
        assert.deepStrictEqual(Object.keys(statuses), ["200"], "every delivery answered 200 the first time")
        assert.strictEqual(bridge.pending(), 0)

        yield* Effect.logWarning(
          `webhook cluster: ${total} probes + ${flowCount} flows in ${elapsed} ms over 3 processes; ` +
            `lease waits over 10 ms ${waited}; per process ${JSON.stringify(balancer.counts())}; ` +
            `consecutive same-user updates on another process: ${hops}; flows across processes: ${hopped}/${flowCount}`
        )
      }).pipe(Effect.provide(Layer.fresh(BotApiEmulator.layer()))),
    { timeout: 420_000 }
  )
})
