// The Grafana dashboard (scripts/grafana/confessions.json) and the README's alert rules name only metrics the bot
// exposes: every metric name in their PromQL appears on /metrics of the real application (webhook mode with Redis,
// after a few updates, one of them failing, and a 429), so a renamed or removed metric fails here, not in production.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { HttpServer } from "effect/http"
import * as Fs from "node:fs"
import * as Prometheus from "../../scripts/bench/prometheus.ts"
import * as App from "../../src/App.ts"
import { BotApiEmulator, Faults } from "../../src/emulator/BotApiEmulator.ts"
import { command, person, text } from "../../src/emulator/Updates.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import * as TestRedis from "../support/TestRedis.ts"

const repo = (path: string) => new URL(`../../${path}`, import.meta.url)

/** Words of PromQL that are not metric names (functions are recognised by the parenthesis that follows them). */
const keywords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"])

/**
 * Metric names in a PromQL expression: identifiers left after removing strings, label matchers, range selectors and
 * grouping clauses, that are not functions or keywords. Every metric of this bot is lower-case with an underscore
 * in its name, which keeps prose (`/readyz`) and setting names (`STATE_MAX_ENTRIES`) out.
 */
export const metricNames = (expr: string): ReadonlyArray<string> => {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$__\w+/g, " ")
  const names: Array<string> = []
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0]
    const after = bare.slice((match.index ?? 0) + name.length).trimStart()
    if (after.startsWith("(") || keywords.has(name) || !/^[a-z][a-z0-9]*_[a-z0-9_:]*$/.test(name)) continue
    names.push(name)
  }
  return names
}

/** Every PromQL expression of the dashboard (its panels' targets, rows' panels included). */
export const dashboardExpressions = (json: unknown): ReadonlyArray<string> => {
  const found: Array<string> = []
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (typeof node !== "object" || node === null) return
    for (const [key, value] of Object.entries(node)) {
      if (key === "expr" && typeof value === "string") found.push(value)
      else walk(value)
    }
  }
  walk(json)
  return found
}

/**
 * The README's alert rules: the code spans of the table between `<!-- alert-rules:start -->` and
 * `<!-- alert-rules:end -->`, or (without the markers) of the section "What to watch".
 */
export const readmeRules = (readme: string): ReadonlyArray<string> => {
  const marked = /<!-- alert-rules:start -->([\s\S]*?)<!-- alert-rules:end -->/.exec(readme)?.[1]
  const section = marked ?? /### What to watch[^\n]*\n([\s\S]*?)(?=\n#{1,3} )/.exec(readme)?.[1] ?? ""
  return section
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .flatMap((line) => [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string))
}

describe("Observability", () => {
  it("metricNames - finds metrics, skips functions, labels, ranges and keywords", () => {
    assert.deepStrictEqual(
      metricNames('histogram_quantile(0.95, sum by (le, instance) (rate(confessions_handler_duration_seconds_bucket{route="x"}[5m]))) > 1'),
      ["confessions_handler_duration_seconds_bucket"]
    )
    assert.deepStrictEqual(
      metricNames('sum(rate(confessions_updates_total{outcome="error"}[$__rate_interval])) / sum(rate(confessions_updates_total[5m]))'),
      ["confessions_updates_total", "confessions_updates_total"]
    )
    assert.deepStrictEqual(metricNames("max_over_time(confessions_updates_queued[5m]) > 0 and on(instance) up == 1"), [
      "confessions_updates_queued"
    ])
    assert.deepStrictEqual(metricNames("/readyz"), [])
    assert.deepStrictEqual(metricNames("STATE_MAX_ENTRIES"), [])
  })

  it("the dashboard and the README's rules have expressions to check", () => {
    const dashboard = dashboardExpressions(JSON.parse(Fs.readFileSync(repo("scripts/grafana/confessions.json"), "utf8")))
    assert.isAtLeast(dashboard.length, 20)
    assert.isAtLeast(readmeRules(Fs.readFileSync(repo("README.md"), "utf8")).flatMap(metricNames).length, 5)
  })

  it.live("every metric the dashboard and the README's alert rules name is on /metrics", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const prefix = TestRedis.freshPrefix()
      const url = "https://bot.example.org/hook"
      const secret = "observability-secret-0123"
      const app = yield* Layer.build(
        TestApp.layer({
          features: App.features,
          env: { BOT_MODE: "webhook", WEBHOOK_URL: url, WEBHOOK_SECRET: secret, REDIS_URL: TestRedis.url, REDIS_KEY_PREFIX: prefix },
          database: TestDatabase.layer()
        }).pipe(Layer.provideMerge(TestRedis.dropOnClose(prefix).pipe(Layer.provide(TestRedis.connection()))))
      )
      const port = (Context.get(app, HttpServer.HttpServer).address as { readonly port: number }).port
      const post = (body: unknown) =>
        Effect.promise(() =>
          fetch(`http://127.0.0.1:${port}/hook`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
            body: JSON.stringify(body)
          }).then((r) => r.status)
        )
      const ann = person(61_001, "Ann")
      // A failing send (a handler error, tried again) and a 429 (waited out), a flow that stores state, a profile twice (a miss, then a hit).
      fake.fail("sendMessage", Faults.status(400, "Bad Request: chat not found"), { times: 1 })
      assert.strictEqual(yield* post(command(ann, "help")), 200)
      fake.fail("sendMessage", Faults.rateLimit(1), { times: 1 })
      assert.strictEqual(yield* post(command(ann, "confess")), 200)
      assert.strictEqual(yield* post(text(ann, "hello")), 200)
      assert.strictEqual(yield* post(command(ann, "profile")), 200)
      assert.strictEqual(yield* post(command(ann, "profile")), 200)

      const body = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()))
      const exposed = new Set(Prometheus.parse(body).samples.map((sample) => sample.name))
      const readme = Fs.readFileSync(repo("README.md"), "utf8")
      const dashboard = JSON.parse(Fs.readFileSync(repo("scripts/grafana/confessions.json"), "utf8"))
      const missing = [
        ...dashboardExpressions(dashboard).map((expr) => ["dashboard", expr] as const),
        ...readmeRules(readme).map((expr) => ["README alert rules", expr] as const)
      ].flatMap(([where, expr]) => metricNames(expr).filter((name) => !exposed.has(name)).map((name) => `${where}: ${name} in ${expr}`))
      assert.deepStrictEqual(missing, [])
    }).pipe(Effect.provide(Layer.fresh(BotApiEmulator.layer()))), { timeout: 60_000 })
})
