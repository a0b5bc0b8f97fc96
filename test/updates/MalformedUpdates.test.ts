// Malformed updates (`{"update_id":1,"message":{}}`, a button press without `from`) are checked at the edge of both
// sources: logged (id and reason, never content), counted, recorded as processed, skipped; never a crash, and never
// replayed from the inbox. Polling still moves its offset past them; the webhook answers 200 so Telegram stops.
import { assert, describe, it } from "@effect/vitest"
import type { PgClient } from "@effect/sql-pg"
import { type Context, Effect, Exit, Layer, Scope } from "effect"
import { HttpServer } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { SqlClient } from "effect/sql"
import { TestConsole } from "effect/testing"
import { Telegram } from "../../src/services/Telegram.ts"
import { Router } from "../../src/updates/Router.ts"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import { type Person, person, text } from "../../src/emulator/Updates.ts"
import type { Update } from "grammy/types"

const echo = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const telegram = yield* Telegram
    yield* router.onFallback((context) => Effect.asVoid(telegram.sendMessage(context.chatId, "ok")))
  })
)

type Db = Context.Context<SqlClient.SqlClient | PgClient.PgClient>

const sqlOn = <A>(db: Db, run: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.gen(function* () {
    return yield* run(yield* SqlClient.SqlClient)
  }).pipe(Effect.provideContext(db), Effect.orDie)

const recordedAmong = (db: Db, ids: ReadonlyArray<number>) =>
  sqlOn(db, (sql) => sql<{ updateId: number }>`
    select update_id::int as update_id from processed_updates where update_id in ${sql.in(ids)} order by update_id`).pipe(
    Effect.map((rows) => rows.map((row) => row.updateId))
  )

/** Re-checks a database condition until it holds (the dispatcher records in batches every 200 ms). */
const eventually = (check: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      if (yield* check) return
      yield* Effect.sleep("50 millis")
    }
    assert.fail("condition never held")
  })

const metric = (name: string, labels: string) =>
  PrometheusMetrics.format().pipe(
    Effect.map((body) => {
      const line = body.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels))
      return line === undefined ? 0 : Number(line.split(" ").at(-1))
    })
  )

const refusals = Effect.map(TestConsole.logLines, (lines) =>
  lines.map((line) => String(line)).filter((line) => line.includes("malformed update refused"))
)

const messagesTo = (fake: BotApiEmulator["Service"], who: Person) =>
  fake.callsTo("sendMessage").filter((call) => call.body.chat_id === who.id).map((call) => String(call.body.text))

/** Shapes Telegram never sends, typed as updates only so that the fake Bot API will serve them. */
const junk = (value: Record<string, unknown>) => value as unknown as Update

const secretName = "Zebulon-Secret-Name"
const secretText = "a private confession that must not reach the log"

describe("MalformedUpdates", () => {
  it.live("polling - refused, recorded and moved past; stored junk from an older version too; nothing replayed", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const db = yield* Layer.build(TestDatabase.layer())
      // What an earlier version stored without checking.
      yield* sqlOn(db, (sql) => sql`
        insert into update_inbox (update_id, payload) values
          (700, ${JSON.stringify({ update_id: 700, message: {} })}), (701, 'not json at all')`)
      const invalidBefore = {
        polling: yield* metric("confessions_updates_invalid_total", 'source="polling"'),
        inbox: yield* metric("confessions_updates_invalid_total", 'source="inbox"')
      }
      const first = yield* Scope.make()
      yield* Layer.buildWithScope(TestApp.layer({ features: echo, database: Layer.succeedContext(db) }), first)
      const ann = person(71_001, "Ann")
      fake.push(
        junk({ update_id: 702, message: {} }),
        junk({ update_id: 703, callback_query: { id: "q1", chat_instance: "ci", data: "1:no" } }),
        junk({ update_id: 704, message: { text: secretText, from: { id: 71_002, is_bot: false, first_name: secretName } } }),
        text(ann, "hello", 705)
      )
      yield* fake.waitUntil(() => messagesTo(fake, ann).length === 1 && fake.confirmedOffset() === 706)
      yield* eventually(Effect.map(recordedAmong(db, [700, 701, 702, 703, 704]), (ids) => ids.length === 5))

      const lines = yield* refusals
      for (const id of [700, 701, 702, 703, 704]) {
        assert.isDefined(lines.find((line) => line.includes(`"updateId":${id}`) && line.includes('"level":"WARN"')), `${id}:\n${lines.join("\n")}`)
      }
      assert.include(lines.find((line) => line.includes('"updateId":703')) ?? "", "callback_query.from")
      for (const line of lines) {
        assert.notInclude(line, secretText)
        assert.notInclude(line, secretName)
      }
      assert.strictEqual((yield* metric("confessions_updates_invalid_total", 'source="polling"')) - invalidBefore.polling, 3)
      assert.strictEqual((yield* metric("confessions_updates_invalid_total", 'source="inbox"')) - invalidBefore.inbox, 2)
      const stored = yield* sqlOn(db, (sql) => sql<{ n: number }>`
        select count(*)::int as n from update_inbox where update_id in (702, 703, 704)`)
      assert.strictEqual(stored[0]?.n, 0, "junk is not stored in the inbox")
      yield* Scope.close(first, Exit.void)

      // The next start replays none of it and polling goes on.
      const refusedSoFar = (yield* refusals).length
      const second = yield* Scope.make()
      yield* Layer.buildWithScope(TestApp.layer({ features: echo, database: Layer.succeedContext(db) }), second)
      const bea = person(71_003, "Bea")
      fake.push(text(bea, "still polling?", 706))
      yield* fake.waitUntil(() => messagesTo(fake, bea).length === 1)
      assert.strictEqual((yield* refusals).length, refusedSoFar, "nothing was replayed and refused again")
      assert.deepStrictEqual(messagesTo(fake, ann), ["ok"])
      yield* Scope.close(second, Exit.void)
    }).pipe(Effect.provide([BotApiEmulator.layer(), TestConsole.layer])), { timeout: 120_000 })

  it.live("webhook - answered 200, recorded and never handled; a valid update is still handled", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const db = yield* Layer.build(TestDatabase.layer())
      const secret = "webhook-secret-0123456789"
      const invalidBefore = yield* metric("confessions_updates_invalid_total", 'source="webhook"')
      const ctx = yield* Layer.build(
        TestApp.layer({
          features: echo,
          env: { BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example.org/hook", WEBHOOK_SECRET: secret },
          database: Layer.succeedContext(db)
        })
      )
      const server = yield* HttpServer.HttpServer.pipe(Effect.provideContext(ctx))
      const port = (server.address as { readonly port: number }).port
      const post = (body: unknown) =>
        Effect.promise(() =>
          fetch(`http://127.0.0.1:${port}/hook`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
            body: JSON.stringify(body)
          }).then((r) => r.status)
        )
      assert.strictEqual(yield* post({ update_id: 800, message: {} }), 200)
      assert.strictEqual(yield* post({ update_id: 801, callback_query: { id: "q", chat_instance: "ci", data: "x" } }), 200)
      assert.strictEqual(yield* post({ update_id: 802, message: { text: secretText, from: { id: 1, first_name: secretName } } }), 200)
      assert.strictEqual(yield* post([1, 2, 3]), 200)
      const cid = person(72_001, "Cid")
      assert.strictEqual(yield* post(text(cid, "hello", 803)), 200)
      assert.deepStrictEqual(messagesTo(fake, cid), ["ok"])
      yield* eventually(Effect.map(recordedAmong(db, [800, 801, 802, 803]), (ids) => ids.length === 4))
      assert.strictEqual((yield* metric("confessions_updates_invalid_total", 'source="webhook"')) - invalidBefore, 4)
      const lines = yield* refusals
      assert.strictEqual(lines.length, 4, lines.join("\n"))
      assert.isDefined(lines.find((line) => line.includes('"updateId":"unusable"')))
      for (const line of lines) {
        assert.notInclude(line, secretText)
        assert.notInclude(line, secretName)
      }
      // Only the valid update reached a handler, and nothing else was sent.
      assert.strictEqual(fake.callsTo("sendMessage").length, 1)
    }).pipe(Effect.provide([BotApiEmulator.layer(), TestConsole.layer])), { timeout: 120_000 })
})
