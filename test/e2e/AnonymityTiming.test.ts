// Issue 12, item 2: the timing experiment as a test. Eight accounts comment at once; when the confessions involved
// share one author, that author's "someone commented" notices queue behind Telegram's per-chat limit (1 message/s,
// a burst of 3), and before the outbox every commenter waited for them (5.1 s against 1.2 s with different authors),
// which told the commenters the two confessions had one author. Now nothing a commenter waits for may depend on who
// the author is.
//
// Design, made to hold on a loaded 2-core machine:
// - The app runs with Telegram's default rate limits (TELEGRAM_RATE_* unset), so a notice sent inside a commenter's
//   update would cost that commenter seconds, as in the report.
// - Latency is measured in the emulator, on one clock: from the moment getUpdates hands a commenter's update to the bot
//   to the moment the bot's "is posted" answer arrives. Nothing of the test's own scheduling is inside that window.
// - Each round is 8 fresh commenters (one message each, so no commenter's own per-chat limit is ever reached), put in
//   the awaiting-comment state directly, their 8 texts pushed as one batch: 4 on each of two confessions, which have
//   one author ("same") or two ("different"). Rounds come in pairs (same, then different) so drift in the machine's
//   load hits both alike; rounds are spaced 1 s apart so the global 30 messages/s bucket is full at every round's
//   start; the same-author notices are left to pile up (8 a round at 1/s), the condition that used to slow everyone.
// - The comparison is robust to outliers: a first pair warms the program up unmeasured (its same-author round came out
//   up to 340 ms slower, being first); each further pair gives the difference of its two rounds' medians, and the
//   median of those differences must be within 20 % of the median answer time (the bound). On a loaded 2-core
//   machine (load averages of 10 while this was written) single pairs differ by up to ±250 ms for reasons unrelated to
//   authorship, so the bound is never tighter than 200 ms; the effect this test exists to catch costs a second per
//   queued notice (a notice sent inline again made it 4.9 s against 0.3 s). A residual seen in some runs: different
//   authors answered up to ~100 ms slower, because the courier then delivers their notices during the round (more
//   work competing for two busy cores) while one author's backlog keeps it waiting on that chat's limit; that is
//   contention, not waiting, and it shrinks with spare capacity.
// - The structural reason is asserted too, without timing: in a last round every call to the shared author's chat is
//   held 4 s by the emulator; every commenter's answer, and the answer to each commenter's next update (per-user
//   order would hold it behind an update still waiting for a notice), must arrive before any of those held calls
//   could have been answered. And every notice the author received is an outbox row the courier delivered.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import * as Conversation from "../../src/domain/Conversation.ts"
import { ConfessionId, UserId } from "../../src/domain/Ids.ts"
import { Faults } from "../../src/emulator/BotApiEmulator.ts"
import { type Person, person, text } from "../../src/emulator/Updates.ts"
import { ConversationStore } from "../../src/services/ConversationStore.ts"
import { Users } from "../../src/services/Users.ts"
import * as Session from "../support/Session.ts"

/** Telegram's defaults: the TestApp raises them, this test must not. */
const telegramDefaults = {
  TELEGRAM_RATE_GLOBAL: "30",
  TELEGRAM_RATE_PER_CHAT: "1",
  TELEGRAM_RATE_PER_CHAT_BURST: "3",
  TELEGRAM_RATE_PER_GROUP: "20"
}

const pairs = 6
const commentersPerRound = 8
const heldMillis = 4000

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

describe("Anonymity: timing", () => {
  it.live("8 commenters at once wait as long whether the confessions share an author or not; notices never hold them", () =>
    Session.withEmulator(
      Effect.gen(function* () {
        const session = yield* Session.launch({ env: telegramDefaults })
        const { fake, sql } = session
        const users = Context.get(session.app, Users)
        const conversations = Context.get(session.app, ConversationStore)
        const clock = yield* Effect.clockWith(Effect.succeed)

        // When each update was first handed to the bot, on the emulator's clock.
        const delivered = new Map<number, number>()
        const unlisten = fake.listen((event) => {
          if (event._tag !== "UpdatesDelivered") return
          const at = clock.currentTimeMillisUnsafe()
          for (const id of event.fresh) if (!delivered.has(id)) delivered.set(id, at)
        })
        yield* Effect.addFinalizer(() => Effect.sync(unlisten))

        const register = (who: Person) =>
          users.register({ id: UserId.make(who.id), firstName: who.first_name, lastName: undefined, username: undefined })
        const approvedBy = (author: Person) =>
          Effect.gen(function* () {
            yield* register(author)
            const [row] = yield* sql<{ id: number }>`
              insert into confessions (author_id, text, anonymous, status)
              values (${author.id}, ${"a confession"}, true, 'approved') returning id::int as id`
            return ConfessionId.make(row?.id ?? 0)
          })
        const ana = person(760_000_001, "Ana")
        const ben = person(760_000_002, "Ben")
        const cy = person(760_000_003, "Cy")
        const same = [yield* approvedBy(ana), yield* approvedBy(ana)] as const
        const different = [yield* approvedBy(ben), yield* approvedBy(cy)] as const

        let nextCommenter = 761_000_000
        /** One round: 8 fresh commenters, 4 on each confession, their texts in one batch; each one's latency. */
        const round = (confessions: readonly [ConfessionId, ConfessionId], follow = false) =>
          Effect.gen(function* () {
            const commenters = Array.from({ length: commentersPerRound }, () => person(++nextCommenter, "Commenter"))
            for (const [index, who] of commenters.entries()) {
              yield* register(who)
              yield* conversations.set(UserId.make(who.id), Conversation.awaitingComment(confessions[index % 2] as ConfessionId))
            }
            const texts = commenters.map((who) => text(who, "an ordinary comment"))
            // Each commenter's next update, right behind the comment: its answer waits for the comment's update.
            const next = follow ? commenters.map((who) => text(who, "/cancel")) : []
            fake.push(...texts, ...next)
            const answerTo = (who: Person, includes: string) =>
              fake.calls.find(
                (call) => call.method === "sendMessage" && call.chatId === who.id && String(call.body.text).includes(includes)
              )
            const expected = follow ? ["is posted", "cancel"] : ["is posted"]
            yield* fake.waitUntil(() => commenters.every((who) => expected.every((includes) => answerTo(who, includes) !== undefined)))
            return commenters.map((who, index) => {
              const sent = texts[index]
              const answer = answerTo(who, "is posted")
              const handedOut = sent === undefined ? undefined : delivered.get(sent.update_id)
              if (answer === undefined || handedOut === undefined) return assert.fail(`no timing for ${who.id}`)
              return {
                latency: answer.at - handedOut,
                answeredAt: answer.at,
                nextAnsweredAt: answerTo(who, "cancel")?.at
              }
            })
          })

        yield* round(same)
        yield* round(different)
        yield* Effect.sleep("1 second")
        const latencies = { same: [] as Array<number>, different: [] as Array<number> }
        const differences: Array<number> = []
        for (let n = 0; n < pairs; n++) {
          const sameRound = (yield* round(same)).map((m) => m.latency)
          yield* Effect.sleep("1 second")
          const differentRound = (yield* round(different)).map((m) => m.latency)
          yield* Effect.sleep("1 second")
          latencies.same.push(...sameRound)
          latencies.different.push(...differentRound)
          differences.push(median(sameRound) - median(differentRound))
        }
        const medianSame = median(latencies.same)
        const medianDifferent = median(latencies.different)
        const difference = median(differences)
        const bound = Math.max(0.2 * median([...latencies.same, ...latencies.different]), 200)
        const summary =
          `median answer time: same author ${medianSame} ms, different authors ${medianDifferent} ms; ` +
          `median paired difference ${difference} ms (bound ${Math.round(bound)} ms; pairs ${differences.join(", ")}); ` +
          `max ${Math.max(...latencies.same)} / ${Math.max(...latencies.different)} ms; ${latencies.same.length} answers each`
        console.info(`[timing] ${summary}`)
        assert.isAtMost(Math.abs(difference), bound, summary)
        // Far below one queued notice (1 s at Telegram's per-chat limit): nobody waited for the author's chat.
        assert.isBelow(medianSame, 1000, summary)

        // The structural reason: every call to the shared author's chat is held; no commenter waits for any of them.
        const held = fake.fail("sendMessage", Faults.delay(`${heldMillis} millis`), { chatId: ana.id })
        const mark = fake.calls.length
        const measured = yield* round(same, true)
        yield* fake.waitUntil(() => fake.calls.slice(mark).some((call) => call.chatId === ana.id))
        const firstHeld = fake.calls.slice(mark).find((call) => call.chatId === ana.id)
        if (firstHeld === undefined) return assert.fail("the author was notified")
        for (const m of measured) {
          assert.isBelow(m.answeredAt, firstHeld.at + heldMillis, "a commenter's answer waited for the author's chat")
          assert.isDefined(m.nextAnsweredAt)
          assert.isBelow(m.nextAnsweredAt ?? Infinity, firstHeld.at + heldMillis, "a commenter's next update waited")
        }
        held.clear()

        // Every notice the authors got so far is an outbox row the courier delivered (none went out inside an update).
        for (const author of [ana, ben, cy]) {
          const notices = fake.calls.filter(
            (call) => call.chatId === author.id && String(call.body.text).includes("Someone commented")
          )
          const [rows] = yield* sql<{ n: number }>`
            select count(*)::int as n from outbox
            where kind = 'notice' and call::json ->> 'chatId' = ${String(author.id)}
              and call::json ->> 'text' like '%Someone commented%'`
          assert.isAbove(notices.length, 0)
          assert.isAtMost(notices.length, rows?.n ?? 0, `${author.first_name}: every notice has its outbox row`)
        }
      })
    ), { timeout: 180_000 })
})
