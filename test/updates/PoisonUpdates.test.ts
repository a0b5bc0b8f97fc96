// One update that keeps failing never blocks anyone: anything a client can send is stored, a failing update is tried
// a bounded number of times (counted across restarts), then skipped (logged with its id and the real cause, counted,
// recorded, its user told once) while every other user keeps being answered; nothing skipped comes back at a restart.
import { assert, describe, it } from "@effect/vitest"
import type { PgClient } from "@effect/sql-pg"
import { type Context, Effect, Exit, Layer, Scope } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { SqlClient } from "effect/sql"
import { TestConsole } from "effect/testing"
import type { Update } from "grammy/types"
import { Telegram } from "../../src/services/Telegram.ts"
import { Router } from "../../src/updates/Router.ts"
import { temporaryProblem } from "../../src/views/Messages.ts"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import { type Person, person, text } from "../../src/emulator/Updates.ts"

/** What the test feature saw: texts it handled, tries per update, handlers started. */
interface Probe {
  readonly handled: Array<{ readonly updateId: number; readonly text: string | undefined }>
  readonly tries: Map<number, number>
}

const newProbe = (): Probe => ({ handled: [], tries: new Map() })

/**
 * Answers "ok" to any text; "fail" always fails, "hang" never ends, and a text starting with "store:" is handed to
 * PostgreSQL as is (which refuses a NUL in it on every try).
 */
const feature = (probe: Probe) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const router = yield* Router
      const telegram = yield* Telegram
      const sql = yield* SqlClient.SqlClient
      yield* router.onFallback((context) =>
        Effect.gen(function* () {
          probe.tries.set(context.updateId, (probe.tries.get(context.updateId) ?? 0) + 1)
          if (context.text === "fail") return yield* Effect.fail(new Error("this handler always fails"))
          if (context.text === "hang") return yield* Effect.never
          if (context.text?.startsWith("store:") === true) yield* sql`select ${context.text}::text as stored`
          probe.handled.push({ updateId: context.updateId, text: context.text })
          yield* telegram.sendMessage(context.chatId, "ok")
        })
      )
    })
  )

type Db = Context.Context<SqlClient.SqlClient | PgClient.PgClient>

/** Starts the app (polling) on `db` in a scope of its own. */
const start = (db: Db, probe: Probe, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    yield* Layer.buildWithScope(TestApp.layer({ features: feature(probe), env, database: Layer.succeedContext(db) }), scope)
    return { scope }
  })

/** A sample's value as /metrics shows it; metrics live as long as the process, so tests compare before and after. */
const metric = (name: string, labels = "") =>
  PrometheusMetrics.format().pipe(
    Effect.map((body) => {
      const line = body.split("\n").find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels))
      return line === undefined ? 0 : Number(line.split(" ").at(-1))
    })
  )

const messagesTo = (fake: BotApiEmulator["Service"], who: Person) =>
  fake.callsTo("sendMessage").filter((call) => call.body.chat_id === who.id).map((call) => String(call.body.text))

const logLines = Effect.map(TestConsole.logLines, (lines) => lines.map((line) => String(line)))

const query = <A extends object>(db: Db, run: (sql: SqlClient.SqlClient) => Effect.Effect<ReadonlyArray<A>, unknown>) =>
  Effect.gen(function* () {
    return yield* run(yield* SqlClient.SqlClient)
  }).pipe(Effect.provideContext(db), Effect.orDie)

const unfinishedIds = (db: Db) =>
  query<{ updateId: number }>(db, (sql) => sql`
    select i.update_id::int as update_id from update_inbox i
    where not exists (select 1 from processed_updates p where p.update_id = i.update_id)`).pipe(
    Effect.map((rows) => rows.map((row) => row.updateId))
  )

const others = (firstId: number, count: number): Array<Update> =>
  Array.from({ length: count }, (_, i) => text(person(70_000 + i, `Other${i}`), `hello ${i}`, firstId + i))

describe("PoisonUpdates", () => {
  it.live("NUL and lone surrogates are stored and handed on as sent; an update PostgreSQL refuses is skipped after 3 tries; no one else waits", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const db = yield* Layer.build(TestDatabase.layer())
      const probe = newProbe()
      const app = yield* start(db, probe)
      const skippedBefore = yield* metric("confessions_updates_skipped_total", 'reason="error"')
      const retriesBefore = yield* metric("confessions_update_retries_total")
      const ann = person(61_001, "Ann")
      const hostile = "nul:\u0000 lone high:\ud800 lone low:\udc00 rtl:\u202e zero-width:\u200b"
      // A name PostgreSQL could not store is stored without what it cannot hold; her first text is a poison: the test
      // feature hands it to PostgreSQL, which refuses the NUL in it on every try.
      const eve = person(61_002, "Eve\u0000\udc00")
      fake.push(
        text(ann, hostile, 100),
        text(eve, "store:\u0000", 101),
        text(eve, "later", 102),
        ...others(103, 20)
      )
      const everyoneElse = others(103, 20).map((u) => u.update_id)
      yield* fake.waitUntil(() => everyoneElse.every((id) => probe.handled.some((h) => h.updateId === id)))
      yield* fake.waitUntil(() => messagesTo(fake, eve).length === 2)

      // Ann's text reached the handler exactly as sent, NUL and lone surrogates included.
      assert.deepStrictEqual(probe.handled.find((h) => h.updateId === 100)?.text, hostile)
      assert.deepStrictEqual(messagesTo(fake, ann), ["ok"])
      // Eve: one apology for the poison update, then her next update, in order.
      assert.deepStrictEqual(messagesTo(fake, eve), [temporaryProblem, "ok"])
      assert.strictEqual(probe.tries.get(101), 3)
      const [stored] = yield* query<{ firstName: string }>(db, (sql) => sql`select first_name from users where id = ${eve.id}`)
      assert.strictEqual(stored?.firstName, "Eve\uFFFD")
      // Nobody else waited for it: every other user was answered before Eve's apology, which came after 3 tries.
      const apologyAt = fake.calls.findIndex((c) => c.method === "sendMessage" && c.body.chat_id === eve.id)
      const lastOtherAt = Math.max(...others(103, 20).map((u) => fake.calls.findIndex((c) => c.body.chat_id === u.message?.chat.id)))
      assert.isBelow(lastOtherAt, apologyAt)
      yield* fake.waitUntil(() => fake.confirmedOffset() === 123)

      const lines = yield* logLines
      const skip = lines.find((line) => line.includes("update skipped after 3 tries (error)"))
      assert.isDefined(skip, lines.join("\n"))
      assert.include(skip ?? "", '"updateId":101')
      // The real cause, in PostgreSQL's words.
      assert.include(skip ?? "", "invalid byte sequence for encoding")
      assert.strictEqual(lines.filter((line) => line.includes("it will be tried again") && line.includes('"updateId":101')).length, 2)
      assert.strictEqual((yield* metric("confessions_updates_skipped_total", 'reason="error"')) - skippedBefore, 1)
      assert.strictEqual((yield* metric("confessions_update_retries_total")) - retriesBefore, 2)

      // Nothing comes back at the next start.
      yield* Scope.close(app.scope, Exit.void)
      assert.deepStrictEqual(yield* unfinishedIds(db), [])
      const again = yield* start(db, newProbe())
      const zed = person(61_003, "Zed")
      fake.push(text(zed, "still there?", 200))
      yield* fake.waitUntil(() => messagesTo(fake, zed).length === 1)
      assert.deepStrictEqual(messagesTo(fake, ann), ["ok"])
      assert.deepStrictEqual(messagesTo(fake, eve), [temporaryProblem, "ok"])
      yield* Scope.close(again.scope, Exit.void)
    }).pipe(Effect.provide([BotApiEmulator.layer(), TestConsole.layer])), { timeout: 120_000 })

  it.live("a handler that always fails: 3 tries, one apology, skipped and recorded while the others are answered", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const db = yield* Layer.build(TestDatabase.layer())
      const probe = newProbe()
      const app = yield* start(db, probe)
      const skippedBefore = yield* metric("confessions_updates_skipped_total", 'reason="error"')
      const bob = person(62_001, "Bob")
      fake.push(text(bob, "fail", 300), text(bob, "after", 301), ...others(302, 10))
      yield* fake.waitUntil(() => messagesTo(fake, bob).length === 2)
      assert.deepStrictEqual(messagesTo(fake, bob), [temporaryProblem, "ok"])
      assert.strictEqual(probe.tries.get(300), 3)
      yield* fake.waitUntil(() => others(302, 10).every((u) => probe.handled.some((h) => h.updateId === u.update_id)))
      assert.strictEqual((yield* metric("confessions_updates_skipped_total", 'reason="error"')) - skippedBefore, 1)
      const skip = (yield* logLines).find((line) => line.includes("update skipped after 3 tries"))
      assert.include(skip ?? "", "this handler always fails")
      // The inbox counted the failed tries.
      const [row] = yield* query<{ attempts: number }>(db, (sql) => sql`select attempts from update_inbox where update_id = 300`)
      assert.strictEqual(row?.attempts, 3)
      yield* Scope.close(app.scope, Exit.void)
      assert.deepStrictEqual(yield* unfinishedIds(db), [])
    }).pipe(Effect.provide([BotApiEmulator.layer(), TestConsole.layer])), { timeout: 120_000 })

  it.live("a handler cut off by HANDLER_TIMEOUT is answered at once and not tried again", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const db = yield* Layer.build(TestDatabase.layer())
      const probe = newProbe()
      const app = yield* start(db, probe, { HANDLER_TIMEOUT: "500 millis" })
      const skippedBefore = yield* metric("confessions_updates_skipped_total", 'reason="timeout"')
      const gus = person(62_501, "Gus")
      fake.push(text(gus, "hang", 350), text(gus, "after", 351))
      yield* fake.waitUntil(() => messagesTo(fake, gus).length === 2)
      assert.deepStrictEqual(messagesTo(fake, gus), [temporaryProblem, "ok"])
      assert.strictEqual(probe.tries.get(350), 1)
      assert.strictEqual((yield* metric("confessions_updates_skipped_total", 'reason="timeout"')) - skippedBefore, 1)
      yield* Scope.close(app.scope, Exit.void)
      assert.deepStrictEqual(yield* unfinishedIds(db), [])
    }).pipe(Effect.provide([BotApiEmulator.layer(), TestConsole.layer])), { timeout: 120_000 })

  it.live("an update the inbox refuses is isolated from its batch and skipped, with the database's reason in the log", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const db = yield* Layer.build(TestDatabase.layer())
      // Stands for any storage failure specific to one update (after migration 4 no content can cause one).
      yield* query(db, (sql) => sql`
        create function inbox_guard() returns trigger language plpgsql as $$
        begin
          if new.update_id = 401 then raise exception 'inbox_guard refuses update %', new.update_id; end if;
          return new;
        end $$`)
      yield* query(db, (sql) => sql`create trigger inbox_guard before insert on update_inbox for each row execute function inbox_guard()`)
      const probe = newProbe()
      const app = yield* start(db, probe)
      const skippedBefore = yield* metric("confessions_updates_skipped_total", 'reason="unstorable"')
      const [amy, ben, cat] = [person(63_001, "Amy"), person(63_002, "Ben"), person(63_003, "Cat")]
      fake.push(text(amy, "one", 400), text(ben, "two", 401), text(cat, "three", 402))
      yield* fake.waitUntil(() => messagesTo(fake, amy).length === 1 && messagesTo(fake, ben).length === 1 && messagesTo(fake, cat).length === 1)
      assert.deepStrictEqual([messagesTo(fake, amy), messagesTo(fake, ben), messagesTo(fake, cat)], [["ok"], [temporaryProblem], ["ok"]])
      assert.isFalse(probe.tries.has(401))
      yield* fake.waitUntil(() => fake.confirmedOffset() === 403)
      const skip = (yield* logLines).find((line) => line.includes("(unstorable)"))
      assert.include(skip ?? "", '"updateId":401')
      assert.include(skip ?? "", "inbox_guard refuses update 401")
      assert.strictEqual((yield* metric("confessions_updates_skipped_total", 'reason="unstorable"')) - skippedBefore, 1)
      const recorded = yield* query<{ n: number }>(db, (sql) => sql`select count(*)::int as n from processed_updates where update_id = 401`)
      assert.strictEqual(recorded[0]?.n, 1)
      yield* Scope.close(app.scope, Exit.void)
    }).pipe(Effect.provide([BotApiEmulator.layer(), TestConsole.layer])), { timeout: 120_000 })

  it.live("tries cut short by restarts are counted in the inbox; at the limit the update is skipped at start, once", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const db = yield* Layer.build(TestDatabase.layer())
      const dan = person(64_001, "Dan")
      const attempts = query<{ attempts: number }>(db, (sql) => sql`select attempts from update_inbox where update_id = 500`).pipe(
        Effect.map((rows) => rows[0]?.attempts)
      )
      const probe = newProbe()
      // A run that starts the hanging update, then stops (as a crash would, the try never ends).
      const runUntilStarted = (expectedTries: number) =>
        Effect.gen(function* () {
          const app = yield* start(db, probe, { SHUTDOWN_GRACE: "50 millis" })
          yield* fake.waitUntil(() => probe.tries.get(500) === expectedTries)
          yield* Scope.close(app.scope, Exit.void)
        })
      fake.push(text(dan, "hang", 500), text(dan, "queued behind it", 501))
      yield* runUntilStarted(1)
      assert.strictEqual(yield* attempts, 0, "the first try of a fresh update is not counted up front")
      yield* runUntilStarted(2)
      assert.strictEqual(yield* attempts, 1, "a replayed try is counted before it starts")
      yield* runUntilStarted(3)
      yield* runUntilStarted(4)
      assert.strictEqual(yield* attempts, 3)
      assert.deepStrictEqual(messagesTo(fake, dan), [], "no try ended, so nobody told Dan anything")

      const skippedBefore = yield* metric("confessions_updates_skipped_total", 'reason="restarts"')
      const last = yield* start(db, probe)
      yield* fake.waitUntil(() => messagesTo(fake, dan).length === 2)
      assert.deepStrictEqual(messagesTo(fake, dan), [temporaryProblem, "ok"], (yield* logLines).join("\n"))
      assert.strictEqual(probe.tries.get(500), 4, "not started again")
      assert.strictEqual((yield* metric("confessions_updates_skipped_total", 'reason="restarts"')) - skippedBefore, 1)
      assert.isDefined((yield* logLines).find((line) => line.includes("update skipped after 3 tries (restarts)") && line.includes('"updateId":500')))
      yield* Scope.close(last.scope, Exit.void)
      assert.deepStrictEqual(yield* unfinishedIds(db), [])
    }).pipe(Effect.provide([BotApiEmulator.layer(), TestConsole.layer])), { timeout: 120_000 })
})
