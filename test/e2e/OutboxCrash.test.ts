// Issue 11: the app is killed at each step of the flows that write and tell people (submit, approve, reject and its
// reason, a report reaching the threshold, feedback), then a new app starts on the same database. Whatever the kill
// interrupted, every message the committed state implies reaches its person (the actor's answer, notices to others, the
// channel post, every admin's copy closed) and none twice.
//
// "Kill" closes the app's scope with SHUTDOWN_GRACE=0 while the emulator refuses (502) the calls of the step to stop
// at, so the rows of that step are still waiting in the outbox; the new app delivers them once the emulator accepts
// again. Before the commit, the actor's previous update is held in flight instead, so the act is stored but never
// handled: the inbox replays it. The one repeat the outbox allows, a send whose outcome was lost (the process died
// between Telegram's answer and the record of it, as a real kill -9 can), cannot happen here: a scope close waits for
// a send in progress and its record, which are one uninterruptible step. So every count below is exact.
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import type { Message, Update } from "grammy/types"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { CommentId } from "../../src/domain/Ids.ts"
import { BotApiEmulator, Faults } from "../../src/emulator/BotApiEmulator.ts"
import { callback, type Person, person } from "../../src/emulator/Updates.ts"
import * as Messages from "../../src/views/Messages.ts"
import * as Restartable from "../support/Restartable.ts"
import * as TestApp from "../support/TestApp.ts"

const ann = person(731_000_001, "Ann")
const bea = person(TestApp.admins.bea, "Bea")
const cal = person(TestApp.admins.cal, "Cal")
const dan = person(731_000_004, "Dan")
const gus = person(731_000_007, "Gus", "gus_secret")
const admins = [bea, cal] as const

/** Where the first app is killed: before the act's commit, or while the emulator refuses the calls of one step. */
type Stop =
  | { readonly _tag: "BeforeCommit"; readonly name: string }
  | { readonly _tag: "Refused"; readonly name: string; readonly calls: ReadonlyArray<readonly [method: string, chatId: number]> }

const beforeCommit: Stop = { _tag: "BeforeCommit", name: "before the act commits" }
const refused = (step: string, ...calls: ReadonlyArray<readonly [string, number]>): Stop => ({ _tag: "Refused", name: `at ${step}`, calls })

type World = Restartable.World
type Running = Restartable.Running

/**
 * Runs `act` (by `actor`) on `first` so that it stops at `stop`, kills `first`, starts a second app on the same
 * database with the emulator accepting everything again, and returns it with the act's update.
 */
const killAt = (world: World, first: Running, stop: Stop, actor: Person, act: Effect.Effect<Update, unknown>) =>
  Effect.gen(function* () {
    const { fake } = world
    const mark = fake.calls.length
    let update: Update
    if (stop._tag === "BeforeCommit") {
      // The actor's previous update waits for Telegram; the act queues behind it (one user's updates run in order).
      fake.fail("sendMessage", Faults.delay("60 seconds"), { chatId: actor.id, times: 1 })
      yield* fake.send(actor, "/help")
      yield* world.attempted(mark, (call) => call.method === "sendMessage" && call.chatId === actor.id, "the held /help answer")
      update = yield* act
      yield* fake.waitUntil(() => fake.confirmedOffset() > update.update_id)
    } else {
      for (const [method, chatId] of stop.calls) fake.fail(method, Faults.status(502, "Bad Gateway"), { chatId })
      update = yield* act
      yield* world.attempted(
        mark,
        (call) => stop.calls.some(([method, chatId]) => call.method === method && String(call.chatId) === String(chatId)),
        `a refused call ${stop.name}`
      )
    }
    yield* first.kill
    fake.clearFaults()
    return { update, second: yield* world.start() }
  })

/**
 * Waits until the second app has delivered everything (rows refused before the kill fall due after their back-off)
 * and `done` holds, then checks that nobody was told to try again.
 */
const settled = (world: World, second: Running, done: () => boolean, what: string) =>
  Effect.gen(function* () {
    yield* world.eventually(
      Effect.map(world.unfinished, (left) => left === 0 && done()),
      what
    )
    yield* second.dispatcher.awaitIdle
    yield* second.courier.settle
    assert.strictEqual(yield* world.unfinished, 0, "nothing left in the outbox")
    assert.notInclude(world.ledger.texts(), Messages.temporaryProblem, "no apology")
  })

/** Exactly one message in `chatId` containing `includes`; returns it. */
const once = (world: World, chatId: number, includes: string): Message => {
  const found = world.ledger.sent(chatId, includes)
  assert.strictEqual(found.length, 1, `one message "${includes}" to ${chatId}, got ${found.length}`)
  return found[0] as Message
}

const buttonsOf = (message: Message | undefined) =>
  (message?.reply_markup?.inline_keyboard ?? []).flat().map((key) => key.text)

/** /confess, the text, and the preview's ✅ Submit: handled, the admins' notices delivered; returns the id. */
const confessed = (world: World, running: Running) =>
  Effect.gen(function* () {
    yield* world.handled(running, yield* world.fake.send(ann, "/confess"))
    yield* world.handled(running, yield* world.fake.send(ann, "I ate the last slice of pizza in the dorm fridge"))
    const preview = Restartable.messageWithButton(world.fake, ann.id, "✅ Submit")
    yield* world.handled(running, yield* world.fake.press(ann, ann.id, preview.message_id, "✅ Submit"))
    return yield* newest(world, "confessions")
  })

const newest = (world: World, table: "confessions" | "comments" | "feedback") =>
  Effect.map(world.sql<{ id: number }>`select max(id)::int as id from ${world.sql(table)}`, (rows) => rows[0]?.id ?? 0)

const notificationOf = (world: World, admin: Person, id: number) =>
  Restartable.messageWithButton(world.fake, admin.id, "✅ Approve", `Confession #${id}`)

const scenario = (name: string, body: () => Effect.Effect<void, unknown, BotApiEmulator | Scope.Scope>) =>
  it.live(name, () => body().pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 90_000 })

describe("Outbox crash recovery", () => {
  describe("submit", () => {
    /** /confess and the text: the preview with ✅ Submit. */
    const previewed = (world: World, running: Running) =>
      Effect.gen(function* () {
        yield* world.handled(running, yield* world.fake.send(ann, "/confess"))
        yield* world.handled(running, yield* world.fake.send(ann, "I ate the last slice of pizza in the dorm fridge"))
        return Restartable.messageWithButton(world.fake, ann.id, "✅ Submit")
      })

    for (const stop of [
      refused("the author's confirmation", ["editMessageText", ann.id], ["answerCallbackQuery", ann.id]),
      refused("the admins' notices", ["sendMessage", bea.id], ["sendMessage", cal.id])
    ]) {
      scenario(`killed ${stop.name}: the confession once, the author confirmed once, each admin notified once`, () =>
        Effect.gen(function* () {
          const world = yield* Restartable.make()
          const first = yield* world.start()
          const preview = yield* previewed(world, first)
          const { update, second } = yield* killAt(world, first, stop, ann, world.fake.press(ann, ann.id, preview.message_id, "✅ Submit"))
          const id = yield* newest(world, "confessions")
          yield* settled(
            world,
            second,
            () => admins.every((admin) => world.ledger.sent(admin.id, `Confession #${id}`).length > 0),
            "every admin notified"
          )
          const rows = yield* world.sql<{ status: string }>`select status from confessions`
          assert.deepStrictEqual(rows.map((row) => row.status), ["pending"], "one confession")
          const confirmations = world.ledger.edited(ann.id, `Confession #${id} is waiting for review`)
          assert.deepStrictEqual(confirmations.map((message) => message.message_id), [preview.message_id], "the preview became the confirmation, once")
          assert.strictEqual(world.ledger.sent(ann.id, "is waiting for review").length, 0, "not sent again as a new message")
          assert.deepStrictEqual(world.ledger.answered(update), [Messages.submittedToast])
          for (const admin of admins) {
            assert.deepStrictEqual(buttonsOf(once(world, admin.id, `Confession #${id}`)), ["✅ Approve", "❌ Reject"])
          }
        })
      )
    }

    // The draft lives in the conversation store, in this process's memory until the store is shared (REDIS_URL): a
    // press replayed by a new process finds no draft. Nothing was committed, so nothing is owed but that answer.
    scenario("killed before its commit: the replayed press finds no draft; nothing stored, nobody notified", () =>
      Effect.gen(function* () {
        const world = yield* Restartable.make()
        const first = yield* world.start()
        const preview = yield* previewed(world, first)
        const { update, second } = yield* killAt(world, first, beforeCommit, ann, world.fake.press(ann, ann.id, preview.message_id, "✅ Submit"))
        yield* settled(world, second, () => world.ledger.answered(update).length > 0, "the replayed press answered")
        assert.deepStrictEqual(world.ledger.answered(update), [Messages.previewExpired])
        assert.strictEqual(yield* newest(world, "confessions"), 0)
        for (const admin of admins) assert.strictEqual(world.ledger.sent(admin.id, "Confession #").length, 0)
      })
    )
  })

  describe("approve", () => {
    for (const stop of [
      beforeCommit,
      refused("the admin's toast", ["answerCallbackQuery", bea.id]),
      refused("the channel post", ["sendMessage", Restartable.channel]),
      refused("the author's notice", ["sendMessage", ann.id]),
      refused("the admins' copies", ["editMessageText", bea.id], ["editMessageText", cal.id])
    ]) {
      scenario(`killed ${stop.name}: posted once, the author told once with the link, every copy closed`, () =>
        Effect.gen(function* () {
          const world = yield* Restartable.make()
          const first = yield* world.start()
          const id = yield* confessed(world, first)
          const copies = admins.map((admin) => notificationOf(world, admin, id))
          const { update, second } = yield* killAt(
            world,
            first,
            stop,
            bea,
            world.fake.press(bea, bea.id, copies[0]?.message_id ?? 0, "✅ Approve")
          )
          yield* settled(world, second, () => world.ledger.sent(ann.id, `#${id} was approved`).length > 0, "the author's notice")
          const [row] = yield* world.sql<{ status: string; post: number | null }>`
            select status, channel_message_id::int as post from confessions where id = ${id}`
          assert.strictEqual(row?.status, "approved")
          const post = once(world, Restartable.channel, `#${id}`)
          assert.strictEqual(row?.post, post.message_id, "the post's id is remembered")
          assert.include(
            once(world, ann.id, `#${id} was approved`).text ?? "",
            `https://t.me/c/1234567890/${post.message_id}`,
            "the notice links the post"
          )
          admins.forEach((admin, index) => {
            const copy = world.fake.chat(admin.id).messages.find((message) => message.message_id === copies[index]?.message_id)
            assert.match(copy?.text ?? "", /^✅ Approved by an admin/)
            assert.deepStrictEqual(buttonsOf(copy), [], "no buttons left")
            assert.strictEqual(world.ledger.edited(admin.id, "Approved by an admin").length, 1, "closed once")
            assert.strictEqual(world.ledger.sent(admin.id, `Confession #${id}`).length, 1, "never notified again")
          })
          assert.deepStrictEqual(world.ledger.answered(update), [Messages.approvedToast])
        })
      )
    }
  })

  describe("reject", () => {
    for (const stop of [
      beforeCommit,
      refused("the admin's answer", ["answerCallbackQuery", bea.id], ["sendMessage", bea.id]),
      refused("the author's notice", ["sendMessage", ann.id]),
      refused("the admins' copies", ["editMessageText", bea.id], ["editMessageText", cal.id])
    ]) {
      scenario(`killed ${stop.name}: the author told once, every copy closed, the admin asked for a reason once`, () =>
        Effect.gen(function* () {
          const world = yield* Restartable.make()
          const first = yield* world.start()
          const id = yield* confessed(world, first)
          const copies = admins.map((admin) => notificationOf(world, admin, id))
          const { update, second } = yield* killAt(
            world,
            first,
            stop,
            bea,
            world.fake.press(bea, bea.id, copies[0]?.message_id ?? 0, "❌ Reject")
          )
          yield* settled(world, second, () => world.ledger.sent(ann.id, `#${id} was not approved`).length > 0, "the author's notice")
          const [row] = yield* world.sql<{ status: string }>`select status from confessions where id = ${id}`
          assert.strictEqual(row?.status, "rejected")
          once(world, ann.id, `#${id} was not approved`)
          admins.forEach((admin, index) => {
            const copy = world.fake.chat(admin.id).messages.find((message) => message.message_id === copies[index]?.message_id)
            assert.match(copy?.text ?? "", /^❌ Rejected/)
            assert.deepStrictEqual(buttonsOf(copy), [])
            assert.strictEqual(world.ledger.edited(admin.id, "❌ Rejected").length, 1)
          })
          assert.deepStrictEqual(world.ledger.answered(update), [Messages.rejectedToast])
          once(world, bea.id, "send a short reason for the author")
        })
      )
    }

    for (const stop of [
      refused("the admin's answer", ["sendMessage", bea.id]),
      refused("the author's note", ["sendMessage", ann.id])
    ]) {
      scenario(`reason, killed ${stop.name}: the note reaches the author once, after the rejection`, () =>
        Effect.gen(function* () {
          const world = yield* Restartable.make()
          const first = yield* world.start()
          const id = yield* confessed(world, first)
          yield* world.handled(first, yield* world.fake.press(bea, bea.id, notificationOf(world, bea, id).message_id, "❌ Reject"))
          const { second } = yield* killAt(world, first, stop, bea, world.fake.send(bea, "Please keep names out of it"))
          yield* settled(world, second, () => world.ledger.sent(ann.id, "A note from the moderators").length > 0, "the author's note")
          const rejection = once(world, ann.id, `#${id} was not approved`)
          const note = once(world, ann.id, `A note from the moderators about confession #${id}`)
          assert.include(note.text ?? "", "Please keep names out of it")
          assert.isAbove(note.message_id, rejection.message_id, "the note follows the rejection")
          once(world, bea.id, Messages.reasonSent)
        })
      )
    }
  })

  describe("report at the threshold", () => {
    for (const stop of [
      beforeCommit,
      refused("the reporter's toast", ["answerCallbackQuery", 731_000_013]),
      refused("the admins' alerts", ["sendMessage", bea.id], ["sendMessage", cal.id])
    ]) {
      scenario(`killed ${stop.name}: three reports counted, each admin alerted once, the reporter answered once`, () =>
        Effect.gen(function* () {
          const world = yield* Restartable.make()
          const first = yield* world.start()
          yield* world.handled(first, yield* world.fake.send(ann, "/start"))
          const [confession] = yield* world.sql<{ id: number }>`
            insert into confessions (author_id, text, anonymous, status)
            values (${ann.id}, 'Someone keeps stealing my oat milk', true, 'approved') returning id::int as id`
          yield* world.handled(first, yield* world.fake.send(dan, `/comment ${confession?.id}`))
          yield* world.handled(first, yield* world.fake.send(dan, "It was the cat."))
          const commentId = yield* newest(world, "comments")
          const report = (who: Person) =>
            Effect.sync(() => {
              const update = callback(who, CallbackData.toString(CallbackData.Report({ commentId: CommentId.make(commentId) })))
              world.fake.push(update)
              return update
            })
          const [r1, r2, r3] = [person(731_000_011, "R1"), person(731_000_012, "R2"), person(731_000_013, "R3")]
          yield* world.handled(first, yield* report(r1))
          yield* world.handled(first, yield* report(r2))
          const { update, second } = yield* killAt(world, first, stop, r3, report(r3))
          yield* settled(world, second, () => admins.every((admin) => world.ledger.sent(admin.id, `Reported comment #${commentId}`).length > 0), "every admin alerted")
          const [row] = yield* world.sql<{ reports: number; filed: number }>`
            select reports, (select count(*)::int from reports where comment_id = ${commentId}) as filed
            from comments where id = ${commentId}`
          assert.deepStrictEqual(row, { reports: 3, filed: 3 })
          for (const admin of admins) {
            assert.deepStrictEqual(buttonsOf(once(world, admin.id, `Reported comment #${commentId}`)), ["🙈 Hide", "✔️ Keep"])
          }
          assert.deepStrictEqual(world.ledger.answered(update), [Messages.reportToast({ counted: true, reports: 3, alert: true })])
        })
      )
    }
  })

  describe("feedback", () => {
    for (const stop of [
      beforeCommit,
      refused("the sender's thanks", ["sendMessage", gus.id]),
      refused("the admins' notices", ["sendMessage", bea.id], ["sendMessage", cal.id])
    ]) {
      scenario(`killed ${stop.name}: stored once, thanked once, each admin notified once without the sender`, () =>
        Effect.gen(function* () {
          const world = yield* Restartable.make()
          const first = yield* world.start()
          const { second } = yield* killAt(world, first, stop, gus, world.fake.send(gus, "/feedback Please add a dark mode"))
          yield* settled(world, second, () => admins.every((admin) => world.ledger.sent(admin.id, "New feedback").length > 0), "every admin notified")
          const rows = yield* world.sql<{ id: number }>`select id::int as id from feedback`
          assert.strictEqual(rows.length, 1, "stored once")
          once(world, gus.id, Messages.feedbackThanks)
          for (const admin of admins) {
            const notice = once(world, admin.id, `New feedback #${rows[0]?.id}`)
            assert.include(notice.text ?? "", "Please add a dark mode")
            for (const identity of ["Gus", "gus_secret", String(gus.id)]) assert.notInclude(notice.text ?? "", identity)
          }
        })
      )
    }
  })
})
