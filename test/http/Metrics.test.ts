// GET /metrics through the real HTTP server: valid Prometheus text that moves when updates flow.
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { HttpServer } from "effect/http"
import { Telegram } from "../../src/services/Telegram.ts"
import { Router } from "../../src/updates/Router.ts"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import * as Prometheus from "../../scripts/bench/prometheus.ts"
import { person, text } from "../../src/emulator/Updates.ts"

const echo = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const telegram = yield* Telegram
    yield* router.onFallback((c) => Effect.asVoid(telegram.sendMessage(c.chatId, "hi")))
  })
)

const app = Layer.unwrap(
  Effect.succeed(TestApp.layer({ features: echo, database: TestDatabase.layer() }))
).pipe(Layer.provideMerge(BotApiEmulator.layer()))

/** Parses Prometheus text exposition; fails the test on any malformed line. */
const parse = (body: string) => {
  const { samples, invalid } = Prometheus.parse(body)
  assert.deepStrictEqual(invalid, [], "every line is a sample, a comment or blank")
  return samples
}

const sumOf = (samples: ReadonlyArray<Prometheus.Sample>, name: string) => Prometheus.sumOf(samples, name) ?? 0

describe("Metrics", () => {
  layer(app, { timeout: "120 seconds", excludeTestServices: true })(TestDatabase.backend, (it) => {
    it.effect("GET /metrics - Prometheus text that moves when updates flow", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const server = yield* HttpServer.HttpServer
        const port = (server.address as { readonly port: number }).port
        const scrape = Effect.promise(() =>
          fetch(`http://127.0.0.1:${port}/metrics`).then(async (r) => ({ status: r.status, type: r.headers.get("content-type"), body: await r.text() }))
        )
        const before = yield* scrape
        assert.strictEqual(before.status, 200)
        assert.include(before.type ?? "", "text/plain")
        const first = parse(before.body)
        const dan = person(60_001, "Dan")
        fake.push(text(dan, "hello"), text(dan, "again"))
        yield* fake.waitUntil(() => fake.callsTo("sendMessage").filter((c) => c.body.chat_id === dan.id).length === 2)
        const after = parse((yield* scrape).body)
        assert.strictEqual(sumOf(after, "confessions_updates_total") - sumOf(first, "confessions_updates_total"), 2)
        assert.isAbove(sumOf(after, "confessions_sql_statements_total"), sumOf(first, "confessions_sql_statements_total"))
        assert.isAbove(
          sumOf(after, "confessions_telegram_api_calls_total"),
          sumOf(first, "confessions_telegram_api_calls_total")
        )
        for (const name of [
          "confessions_handler_duration_seconds_bucket",
          "confessions_update_queue_wait_seconds_bucket",
          "confessions_updates_in_flight",
          "confessions_sql_duration_seconds_bucket",
          "confessions_db_connections_in_use",
          "process_resident_memory_bytes",
          "nodejs_heap_used_bytes"
        ]) {
          assert.isTrue(after.some((sample) => sample.name === name), `${name} exposed`)
        }
      }))

    it.effect("GET /healthz - ok while the process runs", () =>
      Effect.gen(function* () {
        const server = yield* HttpServer.HttpServer
        const port = (server.address as { readonly port: number }).port
        const response = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/healthz`).then(async (r) => [r.status, await r.text()] as const))
        assert.deepStrictEqual(response, [200, "ok"])
      }))
  })
})
