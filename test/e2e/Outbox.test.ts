// Issue 11 through the real app and the Bot API emulator: once a write committed, its actor gets the answer (from the
// outbox if Telegram fails right then) and never "please try again"; an update that was already handled and comes
// again (webhook redelivery, polling after a restart) still answers its button; the outbox's metrics move with
// traffic on /metrics.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, type Scope } from "effect"
import type { Update } from "grammy/types"
import { BotApiEmulator, Faults } from "../../src/emulator/BotApiEmulator.ts"
import { person } from "../../src/emulator/Updates.ts"
import * as Messages from "../../src/views/Messages.ts"
import * as Prometheus from "../../scripts/bench/prometheus.ts"
import * as Restartable from "../support/Restartable.ts"
import * as TestApp from "../support/TestApp.ts"

const ann = person(732_000_001, "Ann")
const dan = person(732_000_004, "Dan")
const bea = person(TestApp.admins.bea, "Bea")

type World = Restartable.World
type Running = Restartable.Running

const live = (name: string, body: () => Effect.Effect<void, unknown, BotApiEmulator | Scope.Scope>) =>
  it.live(name, () => body().pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 90_000 })

/** Ann's confession, submitted and approved by Bea through the app; returns its id and Bea's press. */
const approved = (world: World, running: Running) =>
  Effect.gen(function* () {
    const { fake } = world
    yield* world.handled(running, yield* fake.send(ann, "/confess"))
    yield* world.handled(running, yield* fake.send(ann, "The library printer likes me more than my roommate does"))
    const preview = Restartable.messageWithButton(fake, ann.id, "✅ Submit")
    yield* world.handled(running, yield* fake.press(ann, ann.id, preview.message_id, "✅ Submit"))
    const [row] = yield* world.sql<{ id: number }>`select max(id)::int as id from confessions`
    const id = row?.id ?? 0
    const copy = Restartable.messageWithButton(fake, bea.id, "✅ Approve", `Confession #${id}`)
    const press = yield* fake.press(bea, bea.id, copy.message_id, "✅ Approve")
    yield* world.handled(running, press)
    return { id, press }
  })

const post = (port: number, path: string, update: Update, secret: string) =>
  Effect.promise(() =>
    fetch(`http://127.0.0.1:${port}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
      body: JSON.stringify(update)
    }).then((response) => response.status)
  )

const scrape = (port: number) =>
  Effect.promise(() => fetch(`http://127.0.0.1:${port}/metrics`).then((response) => response.text())).pipe(
    Effect.map((body) => {
      const parsed = Prometheus.parse(body)
      assert.deepStrictEqual(parsed.invalid, [], "valid Prometheus text")
      return parsed.samples
    })
  )

describe("Outbox end to end", () => {
  live("5xx on the actor's confirmation after the commit: delivered by the outbox, never the apology, stored once", () =>
    Effect.gen(function* () {
      const world = yield* Restartable.make()
      const { fake, ledger, sql } = world
      const running = yield* world.start()
      yield* world.handled(running, yield* fake.send(ann, "/start"))
      const [confession] = yield* sql<{ id: number }>`
        insert into confessions (author_id, text, anonymous, status)
        values (${ann.id}, 'The vending machine owes me three euros', true, 'approved') returning id::int as id`
      yield* world.handled(running, yield* fake.send(dan, `/comment ${confession?.id}`))
      // The confirmation is refused once, right after the comment committed.
      fake.fail("sendMessage", Faults.status(502, "Bad Gateway"), { chatId: dan.id, times: 1 })
      const comment = yield* fake.send(dan, "It ate my coins too.")
      yield* world.handled(running, comment)
      yield* world.eventually(Effect.sync(() => ledger.sent(dan.id, "is posted").length > 0), "the confirmation")
      yield* running.courier.settle
      const refused = fake.callsTo("sendMessage").filter((call) => call.chatId === dan.id && String(call.body.text).includes("is posted"))
      assert.strictEqual(refused.length, 2, "the refused inline send, then the outbox's")
      assert.strictEqual(ledger.sent(dan.id, "is posted").length, 1, "delivered once")
      assert.notInclude(ledger.texts(), Messages.temporaryProblem)
      const [stored] = yield* sql<{ comments: number; answers: number; delivered: number }>`
        select (select count(*)::int from comments) as comments,
          count(*)::int as answers, count(*) filter (where status = 'delivered')::int as delivered
        from outbox where kind = 'answer' and dedupe_key like ${`answer:${comment.update_id}:%`}`
      assert.deepStrictEqual(stored, { comments: 1, answers: 1, delivered: 1 })
      // The author's notice went out once, through the courier.
      assert.strictEqual(ledger.sent(ann.id, "Someone commented").length, 1)
    })
  )

  live("a handler failing after its commit: the answer from the outbox, no apology, the write not repeated", () =>
    Effect.gen(function* () {
      const world = yield* Restartable.make()
      const { fake, ledger, sql } = world
      const running = yield* world.start()
      yield* world.handled(running, yield* fake.send(ann, "/profile"))
      const card = Restartable.messageWithButton(fake, ann.id, "🎭 Toggle anonymity")
      // The card cannot be refreshed after the new default committed: the handler fails after its write.
      fake.fail("editMessageText", Faults.status(502, "Bad Gateway"), { chatId: ann.id })
      const press = yield* fake.press(ann, ann.id, card.message_id, "🎭 Toggle anonymity")
      yield* world.handled(running, press)
      fake.clearFaults()
      yield* running.courier.settle
      assert.deepStrictEqual(ledger.answered(press), [Messages.anonymityToast(false)], "the toast, and nothing else")
      assert.notInclude(ledger.texts(), Messages.temporaryProblem)
      const [user] = yield* sql<{ anonymous: boolean }>`select anonymous_default as anonymous from users where id = ${ann.id}`
      assert.strictEqual(user?.anonymous, false, "toggled exactly once")
    })
  )

  live("an already handled press that comes again (webhook redelivery, polling after a restart) is answered, changes nothing", () =>
    Effect.gen(function* () {
      const world = yield* Restartable.make()
      const { fake, ledger } = world
      const polling = yield* world.start()
      const { id, press } = yield* approved(world, polling)
      assert.deepStrictEqual(ledger.answered(press), [Messages.approvedToast])
      yield* polling.kill

      // Webhook mode, a new process: Telegram delivers the same press again, twice.
      const path = "/telegram/hook"
      const secret = "redelivery-secret-0123"
      const webhook = yield* world.start({ BOT_MODE: "webhook", WEBHOOK_URL: `https://bot.example.org${path}`, WEBHOOK_SECRET: secret })
      assert.strictEqual(yield* post(webhook.port, path, press, secret), 200)
      yield* webhook.dispatcher.awaitIdle
      yield* fake.waitUntil(() => ledger.answered(press).length === 2)
      assert.strictEqual(yield* post(webhook.port, path, press, secret), 200)
      yield* fake.waitUntil(() => ledger.answered(press).length === 3)
      assert.deepStrictEqual(ledger.answered(press), [Messages.approvedToast, undefined, undefined], "answered without a word")
      yield* webhook.kill

      // Polling again, after a restart, from a Telegram that had not seen the press confirmed (a fresh emulator),
      // once the inbox has dropped the handled updates (its periodic clean): polling then resumes from Telegram's
      // offset instead of one past the newest stored update, which would confirm the press away unseen.
      yield* world.sql`delete from update_inbox`
      const telegram = yield* Layer.build(BotApiEmulator.layer())
      const replay = Context.get(telegram, BotApiEmulator)
      const again = yield* world.start({}, telegram)
      replay.push(press)
      yield* replay.waitUntil(() => replay.confirmedOffset() > press.update_id)
      yield* again.dispatcher.awaitIdle
      yield* replay.waitUntil(() =>
        replay.callsTo("answerCallbackQuery").some((call) => call.body.callback_query_id === press.callback_query?.id)
      )
      const answers = replay.callsTo("answerCallbackQuery").filter((call) => call.body.callback_query_id === press.callback_query?.id)
      assert.deepStrictEqual(answers.map((call) => call.body.text), [undefined])
      yield* again.courier.settle

      // Nothing was applied twice: one post, one notice, each copy closed once, and no new rows after the first run.
      assert.strictEqual(ledger.sent(Restartable.channel, `#${id}`).length, 1)
      assert.strictEqual(ledger.sent(ann.id, `#${id} was approved`).length, 1)
      assert.strictEqual(ledger.edited(bea.id, "Approved by an admin").length, 1)
      assert.strictEqual(replay.callsTo("sendMessage").length + replay.callsTo("editMessageText").length, 0)
      assert.strictEqual(yield* world.unfinished, 0)
    })
  )

  live("metrics - outbox pending, oldest pending and deliveries by kind and outcome move with traffic", () =>
    Effect.gen(function* () {
      const world = yield* Restartable.make()
      const { fake } = world
      const running = yield* world.start()
      const sum = (samples: ReadonlyArray<Prometheus.Sample>, name: string, labels: Record<string, string> = {}) =>
        Prometheus.sumOf(samples, name, (found) => Object.entries(labels).every(([key, value]) => found[key] === value)) ?? 0
      const before = yield* scrape(running.port)
      for (const name of ["confessions_outbox_pending", "confessions_outbox_oldest_pending_seconds"]) {
        assert.isTrue(before.some((sample) => sample.name === name), `${name} exposed`)
      }
      // The channel refuses posts: the approval's post waits in the outbox, and the admins are alerted.
      fake.fail("sendMessage", Faults.status(400, "Bad Request: not enough rights to send text messages to the chat"), {
        chatId: Restartable.channel
      })
      const { id } = yield* approved(world, running)
      let stuck = before
      yield* world.eventually(
        Effect.gen(function* () {
          stuck = yield* scrape(running.port)
          return sum(stuck, "confessions_outbox_pending") >= 2 && sum(stuck, "confessions_outbox_oldest_pending_seconds") >= 1
        }),
        "the post (and the notice after it) pending on /metrics"
      )
      const retried = (samples: ReadonlyArray<Prometheus.Sample>) =>
        sum(samples, "confessions_outbox_deliveries_total", { kind: "channel_post", outcome: "retry" })
      assert.isAtLeast(retried(stuck) - retried(before), 1)
      const delivered = (samples: ReadonlyArray<Prometheus.Sample>, kind: string) =>
        sum(samples, "confessions_outbox_deliveries_total", { kind, outcome: "delivered" })
      assert.isAtLeast(delivered(stuck, "admin_notice") - delivered(before, "admin_notice"), 2, "both admins' notices")
      assert.isAtLeast(delivered(stuck, "answer") - delivered(before, "answer"), 3, "the submit's two answers, the approval's toast")
      yield* world.eventually(
        Effect.map(scrape(running.port), (samples) => delivered(samples, "admin_alert") - delivered(before, "admin_alert") === 2),
        "both admins alerted once"
      )

      fake.clearFaults()
      yield* world.eventually(Effect.sync(() => world.ledger.sent(ann.id, `#${id} was approved`).length === 1), "posted at last")
      let after = stuck
      yield* world.eventually(
        Effect.gen(function* () {
          after = yield* scrape(running.port)
          return sum(after, "confessions_outbox_pending") === 0
        }),
        "nothing pending on /metrics"
      )
      assert.strictEqual(sum(after, "confessions_outbox_oldest_pending_seconds"), 0)
      assert.strictEqual(delivered(after, "channel_post") - delivered(before, "channel_post"), 1)
      assert.strictEqual(delivered(after, "notice") - delivered(before, "notice"), 1, "the author's notice")
    })
  )
})
