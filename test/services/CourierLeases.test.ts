// The courier where timing decides: leases that run out while a write commits or while a call falls back to a second
// attempt, a second courier (another process) on the same outbox, several answers in one update, a commit inside
// another, and a shutdown in the middle of a round. Real database, real HTTP to the emulator, the TestClock for time.
import { assert, describe, layer } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as BotCall from "../../src/domain/BotCall.ts"
import { type ApiCall, BotApiEmulator, Faults, token } from "../../src/emulator/BotApiEmulator.ts"
import { AdminNotifications } from "../../src/services/AdminNotifications.ts"
import { ChannelPosts } from "../../src/services/ChannelPosts.ts"
import { Courier, type CourierOptions } from "../../src/services/Courier.ts"
import { Telegram } from "../../src/services/Telegram.ts"
import { Users } from "../../src/services/Users.ts"
import { Outbox } from "../../src/sql/Outbox.ts"
import * as Messages from "../../src/views/Messages.ts"
import { duringUpdate, newUser, unlimited, usersOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"


/**
 * A courier (as one process has it) over the shared database and the test's emulator, on the test's clock; without
 * its delivery fiber unless `background`, so only `settle` delivers. Built in `scope` when given.
 */
const courierOf = (options: Partial<CourierOptions> = {}, scope?: Scope.Scope, adminIds: ReadonlyArray<number> = []) =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const users = yield* Users
    const telegram = Telegram.layer({ token, apiRoot: fake.apiRoot, rateLimits: unlimited, backoffBase: "10 millis", onBlocked: users.markInactive })
    const layer = Courier.layer({ texts: { channelPostFailing: Messages.channelPostFailing }, background: false, ...options }).pipe(
      Layer.provideMerge(AdminNotifications.layer({ adminIds, jitter: "60 seconds" })),
      Layer.provideMerge(Outbox.layer),
      Layer.provideMerge(telegram)
    )
    const built = yield* ChannelPosts.layer(Option.none()).pipe(Layer.provideMerge(layer), (full) =>
      scope === undefined ? Layer.build(full) : Layer.buildWithScope(full, scope)
    )
    return { fake, courier: Context.get(built, Courier), admins: Context.get(built, AdminNotifications) }
  })

const sentTo = (calls: ReadonlyArray<ApiCall>, chatId: number) =>
  calls.filter((call) => call.method === "sendMessage" && call.chatId === chatId)

describe("Courier leases", () => {
  layer(usersOnDatabase(), { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("answer - several answers in one update (one commit or two) are all delivered", () =>
      Effect.gen(function* () {
        const { fake, courier } = yield* courierOf()
        const user = yield* newUser()
        yield* Effect.gen(function* () {
          yield* courier.commit(
            Effect.andThen(
              courier.answer([BotCall.sendMessage(user.id, "first")]),
              courier.answer([BotCall.sendMessage(user.id, "second")])
            )
          )
          yield* courier.commit(courier.answer([BotCall.sendMessage(user.id, "third")]))
        }).pipe(duringUpdate(710_001))
        yield* courier.settle
        assert.deepStrictEqual(sentTo(fake.calls, user.id).map((call) => call.body.text), ["first", "second", "third"])
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("commit - inside another commit, its answer waits for the outer one: nothing goes out for a write rolled back", () =>
      Effect.gen(function* () {
        const { fake, courier } = yield* courierOf()
        const user = yield* newUser()
        const outer = courier.commit(
          Effect.andThen(courier.commit(courier.answer([BotCall.sendMessage(user.id, "never")])), Effect.fail("the write failed" as const))
        )
        assert.strictEqual(yield* Effect.flip(outer), "the write failed")
        yield* courier.settle
        assert.deepStrictEqual(sentTo(fake.calls, user.id), [])
        yield* courier.commit(courier.commit(courier.answer([BotCall.sendMessage(user.id, "once")])))
        assert.deepStrictEqual(sentTo(fake.calls, user.id).map((call) => call.body.text), ["once"], "sent right after the outer commit")
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("commit - an answer whose inline lease ran out while its write committed is left to the couriers: sent once", () =>
      Effect.gen(function* () {
        const { fake, courier } = yield* courierOf()
        const other = yield* courierOf()
        const user = yield* newUser()
        // Every send to the user takes a moment, so a second courier could act while the first is sending.
        fake.fail("sendMessage", Faults.delay("300 millis"), { chatId: user.id })
        const queued = yield* Deferred.make<void>()
        // The write takes 40 s after queuing its answer (a lock wait, a slow disk): past the 30 s inline lease.
        const write = yield* courier
          .commit(
            Effect.gen(function* () {
              yield* courier.answer([BotCall.sendMessage(user.id, "your comment is posted")])
              yield* Deferred.succeed(queued, undefined)
              yield* Effect.sleep("40 seconds")
            })
          )
          .pipe(duringUpdate(710_002), Effect.forkChild)
        yield* Deferred.await(queued)
        yield* TestClock.adjust("40 seconds")
        // The committing courier gives the answer back, or (wrongly) starts sending it: then another courier, whose
        // claim the expired lease no longer stops, sends it too.
        yield* Effect.raceFirst(Fiber.await(write), fake.waitUntil(() => sentTo(fake.calls, user.id).length > 0))
        yield* other.courier.settle
        yield* Fiber.join(write)
        yield* courier.settle
        yield* other.courier.settle
        assert.strictEqual(sentTo(fake.calls, user.id).length, 1)
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("round - a second attempt (an edit falling back to a send) that could not end within the lease is not made there", () =>
      Effect.gen(function* () {
        // A 40 s call limit in a 60 s lease: a row may start at 0, but its fallback at 25 s could end at 65 s.
        const { fake, courier } = yield* courierOf({ lease: "60 seconds", sendTimeout: "40 seconds" })
        const other = yield* courierOf()
        const user = yield* newUser()
        // An answer to a button whose message Telegram no longer has: the edit fails, the text is sent instead.
        yield* courier.send([
          { key: `test:fallback:${user.id}`, kind: "notice", call: BotCall.editText(user.id, 999_999, "updated", { sendIfGone: true }) }
        ])
        fake.fail("editMessageText", Faults.delay("300 millis"), { chatId: user.id })
        fake.fail("sendMessage", Faults.delay("300 millis"), { chatId: user.id })
        const settling = yield* courier.settle.pipe(Effect.forkChild)
        yield* fake.waitUntil(() => fake.callsTo("editMessageText").some((call) => call.chatId === user.id))
        // The edit's answer ("message to edit not found") arrives 25 s into the lease.
        yield* TestClock.adjust("25 seconds")
        yield* fake.waitUntil(() => sentTo(fake.calls, user.id).length > 0)
        // While the send is on its way the first lease ends; another courier looks for due rows.
        yield* TestClock.adjust("36 seconds")
        yield* other.courier.settle
        yield* Fiber.join(settling)
        yield* courier.settle
        yield* other.courier.settle
        assert.deepStrictEqual(sentTo(fake.calls, user.id).map((call) => call.body.text), ["updated"])
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("commit - closing a subject in the write that notified about it: the ledger sees the rows the write queued", () =>
      Effect.gen(function* () {
        const admin = 920_001
        const { fake, courier, admins } = yield* courierOf({}, undefined, [admin])
        yield* courier.commit(
          Effect.gen(function* () {
            yield* admins.notify("test:same-write", { text: "decide this" }, { delayed: true })
            yield* admins.close("test:same-write", "withdrawn", "nothing to decide")
          })
        )
        yield* TestClock.adjust("2 minutes")
        yield* courier.settle
        assert.deepStrictEqual(sentTo(fake.calls, admin), [], "the notice was closed before it went out")
        assert.deepStrictEqual(fake.callsTo("editMessageText"), [])
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))

    it.effect("close - a round in progress gives back, unheld, the rows it has not started instead of sending them all first", () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const { fake, courier } = yield* courierOf({ background: true }, scope)
        const user = yield* newUser()
        fake.fail("sendMessage", Faults.delay("200 millis"), { chatId: user.id })
        const prefix = `test:close:${user.id}`
        // One chat's rows go one after another: five of them take a second.
        yield* courier.commit(
          courier.send(
            Array.from({ length: 5 }, (_, index) => ({
              key: `${prefix}:${index}`,
              kind: "notice" as const,
              call: BotCall.sendMessage(user.id, `notice ${index}`)
            }))
          )
        )
        yield* fake.waitUntil(() => sentTo(fake.calls, user.id).length > 0)
        yield* Scope.close(scope, Exit.void)
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ status: string; held: boolean }>`
          select status, locked_until is not null as held from outbox where dedupe_key like ${`${prefix}:%`} order by id`
        const sent = sentTo(fake.calls, user.id).length
        assert.strictEqual(rows.filter((row) => row.status === "delivered").length, sent, "what went out is recorded")
        assert.isAtMost(sent, 2, "the close did not wait for every row")
        assert.isTrue(rows.every((row) => row.status === "delivered" || (row.status === "pending" && !row.held)), "the rest is free")
        // The next process delivers the rest at once.
        const next = yield* courierOf()
        yield* next.courier.settle
        assert.deepStrictEqual(
          sentTo(fake.calls, user.id).map((call) => call.body.text),
          ["notice 0", "notice 1", "notice 2", "notice 3", "notice 4"]
        )
      }).pipe(Effect.scoped, Effect.provide(BotApiEmulator.layer())))
  })
})
