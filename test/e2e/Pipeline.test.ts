// The update pipeline end to end: real grammY client, the Bot API emulator, the real dispatcher, router and database.
import { assert, describe, it } from "@effect/vitest"
import type { PgClient } from "@effect/sql-pg"
import { HttpServer } from "effect/http"
import { type Context, Effect, Exit, Layer, Random, Ref, Scope } from "effect"
import { SqlClient } from "effect/sql"
import type { Update } from "grammy/types"
import { Processed } from "../../src/sql/Processed.ts"
import { Router } from "../../src/updates/Router.ts"
import { temporaryProblem } from "../../src/views/Messages.ts"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import { person, text } from "../../src/emulator/Updates.ts"

interface Probe {
  readonly running: Ref.Ref<number>
  readonly peak: Ref.Ref<number>
}

/** A feature that records every text it handles (inside the update's claiming transaction) after a random delay. */
const recorder = (probe: Probe, maxDelayMillis: number) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const router = yield* Router
      const processed = yield* Processed
      const sql = yield* SqlClient.SqlClient
      yield* router.onFallback((context) =>
        Effect.gen(function* () {
          if (context.text === "boom") return yield* Effect.die(new Error("handler defect"))
          const now = yield* Ref.updateAndGet(probe.running, (n) => n + 1)
          yield* Ref.update(probe.peak, (p) => Math.max(p, now))
          yield* Effect.sleep(`${yield* Random.nextIntBetween(0, maxDelayMillis)} millis`)
          yield* processed.transaction(
            sql`insert into pipeline_log (update_id, user_id, body) values (${context.updateId}, ${context.user.id}, ${context.text ?? ""})`
          )
          yield* Ref.update(probe.running, (n) => n - 1)
        }).pipe(Effect.onInterrupt(() => Ref.update(probe.running, (n) => n - 1)))
      )
    })
  )

const createLog = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`create table if not exists pipeline_log (
    handled bigserial primary key, update_id bigint not null, user_id bigint not null, body text not null)`
})

/** 50 users × 20 texts, interleaved so each user's texts arrive in order among everyone else's. */
const workload = (firstId: number): Array<Update> => {
  const updates: Array<Update> = []
  let id = firstId
  for (let seq = 1; seq <= 20; seq++) {
    for (let user = 1; user <= 50; user++) updates.push(text(person(10_000 + user, `U${user}`), `m${seq}`, id++))
  }
  return updates
}

const logRows = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ updateId: number; userId: number; body: string }>`
    select update_id::int as update_id, user_id::int as user_id, body from pipeline_log order by handled`
})

/** Waits (re-checking the table) until `n` rows were logged; confirmation to Telegram no longer implies handling. */
const waitForRows = (fake: BotApiEmulator["Service"], n: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    let count = 0
    const refresh = sql<{ n: number }>`select count(*)::int as n from pipeline_log`.pipe(
      Effect.map((rows) => {
        count = rows[0]?.n ?? 0
      })
    )
    yield* refresh
    while (count < n) {
      yield* fake.waitUntil(() => true)
      yield* Effect.sleep("20 millis")
      yield* refresh
    }
  })

const assertOrderedAndOnce = (rows: ReadonlyArray<{ updateId: number; userId: number; body: string }>, expected: number) => {
  assert.strictEqual(rows.length, expected)
  assert.strictEqual(new Set(rows.map((r) => r.updateId)).size, expected, "every update handled once")
  const lastSeq = new Map<number, number>()
  for (const row of rows) {
    const seq = Number(row.body.slice(1))
    assert.isAbove(seq, lastSeq.get(row.userId) ?? 0, `user ${row.userId} handled in arrival order`)
    lastSeq.set(row.userId, seq)
  }
}

/**
 * Launches the app in webhook mode at `url` on the database `db`, handling texts with the recorder. Returns a POST of
 * a body to the hook's path (with `secret` as the secret-token header, none when undefined) that gives the HTTP status.
 */
const startWebhook = (options: {
  readonly probe: Probe
  readonly db: Context.Context<SqlClient.SqlClient | PgClient.PgClient>
  readonly url: string
  readonly secret: string
}) =>
  Effect.gen(function* () {
    const ctx = yield* Layer.build(
      TestApp.layer({
        features: recorder(options.probe, 0),
        env: { BOT_MODE: "webhook", WEBHOOK_URL: options.url, WEBHOOK_SECRET: options.secret },
        database: Layer.succeedContext(options.db)
      })
    )
    const server = yield* HttpServer.HttpServer.pipe(Effect.provideContext(ctx))
    const port = (server.address as { readonly port: number }).port
    const path = new URL(options.url).pathname
    return (body: string, secret: string | undefined) =>
      Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(secret ? { "x-telegram-bot-api-secret-token": secret } : {}) },
          body
        }).then((r) => r.status)
      )
  })

const database = TestDatabase.layer()

/** A fresh database with the recorder's log table, and a probe that has seen nothing yet. */
const freshDatabaseAndProbe = Effect.gen(function* () {
  const probe: Probe = { running: yield* Ref.make(0), peak: yield* Ref.make(0) }
  const db = yield* Layer.build(database)
  yield* createLog.pipe(Effect.provideContext(db))
  return { probe, db }
})

describe("Pipeline", () => {
  it.live("dispatcher - 50 users × 20 updates at UPDATE_CONCURRENCY=8: ordered per user, ≤ 8 at once, each once", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const { probe, db } = yield* freshDatabaseAndProbe
      yield* Layer.build(
        TestApp.layer({
          features: recorder(probe, 5),
          env: { UPDATE_CONCURRENCY: "8" },
          database: Layer.succeedContext(db)
        })
      )
      fake.push(...workload(1))
      yield* waitForRows(fake, 1000).pipe(Effect.provideContext(db))
      const rows = yield* logRows.pipe(Effect.provideContext(db))
      assertOrderedAndOnce(rows, 1000)
      assert.isAtMost(yield* Ref.get(probe.peak), 8)
      assert.isAtLeast(yield* Ref.get(probe.peak), 2, "different users ran concurrently")
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

  it.live("shutdown mid-load, then restart on the same data: every update handled exactly once", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const { probe, db } = yield* freshDatabaseAndProbe
      const count = logRows.pipe(Effect.map((rows) => rows.length), Effect.provideContext(db))
      const app = (grace: string) =>
        TestApp.layer({
          features: recorder(probe, 30),
          env: { UPDATE_CONCURRENCY: "16", SHUTDOWN_GRACE: grace },
          database: Layer.succeedContext(db)
        })

      fake.push(...workload(1))
      const first = yield* Scope.make()
      yield* Layer.buildWithScope(app("50 millis"), first)
      let handled = 0
      while (handled < 200) {
        yield* fake.waitUntil(() => true)
        handled = yield* count
        yield* Effect.sleep("20 millis")
      }
      yield* Scope.close(first, Exit.void)
      const afterShutdown = yield* count
      assert.isBelow(afterShutdown, 1000, "the shutdown really happened mid-load")
      // Telegram was told to forget every update the first run stored; those it did not finish must come back
      // from the inbox, not from Telegram.
      const confirmedAtShutdown = fake.confirmedOffset()
      assert.isAtLeast(confirmedAtShutdown - 1, afterShutdown, "everything handled or stored was confirmed")

      yield* Layer.build(app("5 seconds"))
      yield* waitForRows(fake, 1000).pipe(Effect.provideContext(db))
      yield* fake.waitUntil(() => fake.confirmedOffset() === 1001)
      assertOrderedAndOnce(yield* logRows.pipe(Effect.provideContext(db)), 1000)
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

  it.live("the same update delivered twice (polling, then webhook) is handled once", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const { probe, db } = yield* freshDatabaseAndProbe
      const ann = person(20_001, "Ann")
      const once = text(ann, "m1", 5000)
      // Polling: the same update twice in one answer, then again after it was handled.
      const polling = yield* Scope.make()
      yield* Layer.buildWithScope(
        TestApp.layer({ features: recorder(probe, 0), database: Layer.succeedContext(db) }),
        polling
      )
      fake.push(once, once)
      yield* waitForRows(fake, 1).pipe(Effect.provideContext(db))
      fake.push(once)
      yield* fake.waitUntil(() => fake.confirmedOffset() === 5001 && fake.pendingUpdates() === 0)
      const closer = text(ann, "m2", 5001)
      fake.push(closer)
      yield* waitForRows(fake, 2).pipe(Effect.provideContext(db))
      yield* Scope.close(polling, Exit.void)
      assert.deepStrictEqual((yield* logRows.pipe(Effect.provideContext(db))).map((r) => r.updateId), [5000, 5001])

      // Webhook, on the same database: the redelivery is skipped too.
      const post = yield* startWebhook({ probe, db, url: "https://bot.example.org/telegram/hook", secret: "s3cret-s3cret-s3cret" })
      assert.strictEqual(yield* post(JSON.stringify(once), "s3cret-s3cret-s3cret"), 200)
      assert.strictEqual(yield* post(JSON.stringify(once), "s3cret-s3cret-s3cret"), 200)
      assert.strictEqual((yield* logRows.pipe(Effect.provideContext(db))).length, 2)
      const setWebhook = fake.callsTo("setWebhook").at(-1)
      assert.strictEqual(setWebhook?.body.url, "https://bot.example.org/telegram/hook")
      assert.strictEqual(setWebhook?.body.secret_token, "s3cret-s3cret-s3cret")
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

  it.live("webhook - wrong secret 401, oversized 413, valid update handled and answered 200", () =>
    Effect.gen(function* () {
      const { probe, db } = yield* freshDatabaseAndProbe
      const post = yield* startWebhook({ probe, db, url: "https://bot.example.org/hook", secret: "right-right-right-right" })
      const update = JSON.stringify(text(person(30_001, "Wes"), "m1", 7000))
      assert.strictEqual(yield* post(update, "wrong"), 401)
      assert.strictEqual(yield* post(update, undefined), 401)
      assert.strictEqual(yield* post(JSON.stringify({ padding: "x".repeat(2 * 1024 * 1024) }), "right-right-right-right"), 413)
      assert.strictEqual(yield* post("not json", "right-right-right-right"), 400)
      assert.strictEqual((yield* logRows.pipe(Effect.provideContext(db))).length, 0, "nothing processed before a valid request")
      assert.strictEqual(yield* post(update, "right-right-right-right"), 200)
      assert.deepStrictEqual((yield* logRows.pipe(Effect.provideContext(db))).map((r) => r.updateId), [7000])
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

  it.live("a defecting handler affects only its own update: the others are handled, its user gets the apology", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const { probe, db } = yield* freshDatabaseAndProbe
      yield* Layer.build(
        TestApp.layer({ features: recorder(probe, 2), env: { UPDATE_CONCURRENCY: "8" }, database: Layer.succeedContext(db) })
      )
      const updates = workload(1)
      const victim = person(40_001, "Vic")
      updates.splice(500, 0, text(victim, "boom", 10_000))
      fake.push(...updates)
      yield* waitForRows(fake, 1000).pipe(Effect.provideContext(db))
      yield* fake.waitUntil(() => fake.callsTo("sendMessage").some((c) => c.body.chat_id === victim.id))
      assert.strictEqual((yield* logRows.pipe(Effect.provideContext(db))).length, 1000)
      const apology = fake.callsTo("sendMessage").filter((c) => c.body.chat_id === victim.id)
      assert.deepStrictEqual(apology.map((c) => c.body.text), [temporaryProblem])
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })
})

