// Delivers the outbox: every Bot API call that follows a write, at least once. A write and the calls it causes commit
// together (`commit`); right after the commit the answer to the person who acted is sent inline, and a fiber in the
// layer's scope delivers the rest (notices to other people, admin copies, channel posts) as they fall due: woken at
// once by a commit in this process, otherwise every `pollInterval`. A 429 pauses delivery for `retry_after`; 5xx and
// network failures retry with exponential back-off; a recipient who blocked the bot, or an edit of a message that is
// gone, ends the row with its reason. A channel post is never given up: the admins are alerted once, and it goes out
// when posting works again.
//
// Invariants:
// - A row is sent only by a courier holding its lease (`locked_until`); a courier that died releases nothing, so its
//   rows wait for their lease to end. An inline answer is stored already held by the committing process for
//   `inlineLease`, so no second courier sends it while the first is about to.
// - An attempt starts only if it can end, and its outcome be recorded, before the row's lease does (`sendTimeout` +
//   `recordMargin`); otherwise the row is given back unsent. So no other courier can take a row over while it is
//   being sent, whatever the Bot API's speed, a second attempt (an edit that falls back to a send) or a slow commit.
// - Sending a row and recording that it was sent are one uninterruptible step, bounded by the lease: an interrupted
//   courier (shutdown) leaves no row sent but unrecorded, and gives back the rows of its round it has not started.
//   Only a send whose outcome is lost can go out twice: the process killed between Telegram's answer and the record,
//   or the answer itself lost (a timeout, a connection cut after Telegram acted).
// - Outcomes are recorded in groups: attempts that end while a record is being written are recorded together by the
//   next one, so a busy bot spends about one statement per group rather than one per answer.
import { Cause, Clock, Context, Data, Deferred, Duration, Effect, Exit, Layer, Metric, Option, Random, Ref, Schedule } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import * as BotCall from "../domain/BotCall.ts"
import * as Channel from "../domain/Channel.ts"
import type { ConfessionId } from "../domain/Ids.ts"
import { type Batch, type Claimed, CurrentBatch, type Kind, kinds, type NewMessage, type Outcome, Outbox } from "../sql/Outbox.ts"
import { type AlreadyProcessed, CurrentUpdate, Processed } from "../sql/Processed.ts"
import { AdminNotifications } from "./AdminNotifications.ts"
import { type ChatBusy, type Performed, Telegram, type TelegramError } from "./Telegram.ts"

/** A call to deliver after the current write commits. */
export interface Message {
  /** Unique for what the call means (`confession:42:post`): the same key twice is stored once. */
  readonly key: string
  readonly kind: Exclude<Kind, "answer">
  /** Groups a subject's rows (`confession:42`). */
  readonly topic?: string | undefined
  readonly call: BotCall.BotCall
  /** Key of the row whose sent message this call edits, deletes or links to; it waits for that row. */
  readonly after?: string | undefined
  readonly delay?: Duration.Input | undefined
  /** A channel post: its message id is remembered on the confession once it is out. */
  readonly postOf?: ConfessionId | undefined
}

/** The texts the courier writes itself; the views render them (services never import views). */
export interface CourierTexts {
  /** To every admin, once per post, when the channel keeps refusing an approved confession. */
  readonly channelPostFailing: (confessionId: ConfessionId, reason: string) => string
}

export interface CourierOptions {
  readonly texts: CourierTexts
  /** Rows claimed per round. */
  readonly batch?: number
  /** Chats written to at once; one chat's rows go one after another, in the order they were stored. */
  readonly concurrency?: number
  /** How long a claimed row is held. */
  readonly lease?: Duration.Input
  /** How long an inline answer is held by the process that stored it. */
  readonly inlineLease?: Duration.Input
  /** Longest a single call may take before it counts as a network failure. */
  readonly sendTimeout?: Duration.Input
  /** Time kept free at the end of a lease for recording an attempt's outcome. */
  readonly recordMargin?: Duration.Input
  /** How often an idle courier looks for due rows (a commit in this process wakes it at once). */
  readonly pollInterval?: Duration.Input
  /** First retry delay; doubles per attempt up to `backoffCap`. */
  readonly backoffBase?: Duration.Input
  readonly backoffCap?: Duration.Input
  /** Attempts after which a row that keeps failing transiently is given up (channel posts never are). */
  readonly maxAttempts?: number
  /** Finished rows are kept this long. */
  readonly retention?: Duration.Input
  /** How often the pending-rows gauges are read while nothing is delivered (after deliveries: at most once a second). */
  readonly statsInterval?: Duration.Input
  /** Failures of a channel post after which the admins are alerted, whatever the reason. */
  readonly alertAfterAttempts?: number
  /**
   * Whether the layer runs its delivery fiber (the default). Without it, only `settle` delivers: tests that move the
   * TestClock use that, so no round of the fiber is half-way through when time jumps past a lease.
   */
  readonly background?: boolean
}

export const defaults = {
  batch: 50,
  concurrency: 16,
  lease: "1 minute",
  inlineLease: "30 seconds",
  sendTimeout: "15 seconds",
  recordMargin: "5 seconds",
  pollInterval: "1 second",
  backoffBase: "1 second",
  backoffCap: "5 minutes",
  maxAttempts: 25,
  retention: "7 days",
  statsInterval: "15 seconds",
  alertAfterAttempts: 3
} as const

export class Courier extends Context.Service<
  Courier,
  {
    /**
     * Runs `effect` as the current update's one claiming transaction: the calls it queues (`send`, `answer`, the
     * admins' notices) are stored with its writes, in one statement just before the commit, or not at all. After the
     * commit the answers go out at once and the courier is woken for what is due; a failure to send them then is the
     * courier's business, never the caller's. Inside another `commit`, it is part of that one.
     */
    readonly commit: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError | AlreadyProcessed, R>
    /** Queues calls to other people; inside `commit`, they are stored by its transaction. */
    readonly send: (messages: ReadonlyArray<Message>) => Effect.Effect<void, SqlError>
    /** The answer to the person who acted, in order; sent right after the commit, delivered later if that fails. */
    readonly answer: (calls: ReadonlyArray<BotCall.BotCall>) => Effect.Effect<void, SqlError>
    /** Delivers what is due now, in the caller's fiber, until nothing is left (tests; the fiber does this itself). */
    readonly settle: Effect.Effect<void, SqlError>
  }
>()("confessions/services/Courier") {
  static readonly layer = (
    options: CourierOptions
  ): Layer.Layer<Courier, never, Outbox | Processed | Telegram | AdminNotifications> => Layer.effect(Courier, make(options))
}

const deliveries = Metric.counter("confessions_outbox_deliveries_total", {
  description: "Outbox delivery attempts by kind and outcome (delivered, retry, deferred, failed, skipped)",
  incremental: true
})
const pendingGauge = Metric.gauge("confessions_outbox_pending", { description: "Outbox rows waiting to be delivered" })
const oldestGauge = Metric.gauge("confessions_outbox_oldest_pending_seconds", {
  description: "Age of the oldest outbox row still waiting"
})

/** An attempt that could not end within its row's lease: not made, the row goes back. */
class OutOfLease extends Data.TaggedError("OutOfLease")<{}> {}

/** A caller's outcomes waiting in the group record; `lead` hands it the next group to write. */
interface Ticket {
  readonly outcomes: ReadonlyArray<Outcome>
  readonly done: Deferred.Deferred<"recorded" | "lead", SqlError>
}

const make = (options: CourierOptions) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox
    const processed = yield* Processed
    const telegram = yield* Telegram
    const admins = yield* AdminNotifications
    const millis = (input: Duration.Input) => Duration.toMillis(Duration.fromInputUnsafe(input))
    const batch = options.batch ?? defaults.batch
    const concurrency = options.concurrency ?? defaults.concurrency
    const leaseMillis = millis(options.lease ?? defaults.lease)
    const inlineLeaseMillis = millis(options.inlineLease ?? defaults.inlineLease)
    const sendTimeout = Duration.fromInputUnsafe(options.sendTimeout ?? defaults.sendTimeout)
    // What an attempt needs before its lease ends: the longest call, and the record of its outcome.
    const attemptBudget = Duration.toMillis(sendTimeout) + millis(options.recordMargin ?? defaults.recordMargin)
    const pollInterval = Duration.fromInputUnsafe(options.pollInterval ?? defaults.pollInterval)
    const backoffBase = millis(options.backoffBase ?? defaults.backoffBase)
    const backoffCap = millis(options.backoffCap ?? defaults.backoffCap)
    const maxAttempts = options.maxAttempts ?? defaults.maxAttempts
    const retentionMillis = millis(options.retention ?? defaults.retention)
    const alertAfterAttempts = options.alertAfterAttempts ?? defaults.alertAfterAttempts
    const statsInterval = Duration.fromInputUnsafe(options.statsInterval ?? defaults.statsInterval)
    // Exposed at 0 from the start, so that an `increase(…{outcome="failed"})` alert sees the first one.
    for (const kind of kinds) yield* Metric.update(Metric.withAttributes(deliveries, { kind, outcome: "failed" }), 0)

    const now = Effect.map(Clock.currentTimeMillis, (at) => new Date(at))
    const later = (at: Date, delay: number) => new Date(at.getTime() + delay)

    // Woken by commits; the loop also looks every `pollInterval`.
    const wakeUp = yield* Ref.make(yield* Deferred.make<void>())
    const wake = Effect.flatMap(Ref.get(wakeUp), (signal) => Deferred.succeed(signal, undefined))
    // Telegram asked us to wait (429): no new round before then.
    const pausedUntil = yield* Ref.make(0)
    // Rounds of the fiber in progress, and a signal at the end of each, so `settle` can wait for the fiber's hands to be
    // empty (a row it holds may be the parent of a due one).
    const roundsRunning = yield* Ref.make(0)
    const roundEnded = yield* Ref.make(yield* Deferred.make<void>())
    const answerSeq = yield* Ref.make(0)
    // Answer keys must differ between processes too: a process that starts again counts from 0, and an update
    // answered again after a restart (a replay) must not find the key its earlier answer used.
    const instance = (yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)

    // Set when the layer closes: rounds give back the rows they have not started.
    const stopping = yield* Ref.make(false)
    const lastStats = yield* Ref.make(Number.NEGATIVE_INFINITY)

    const backoff = (attempts: number) => Math.min(backoffCap, backoffBase * 2 ** Math.max(0, attempts - 1))

    /** The call as it goes out: the parent's message id filled in, a post link resolved. */
    const resolve = (row: Claimed): Option.Option<BotCall.BotCall> => {
      if (row.parentMessageId === null) return Option.none()
      let call = row.parentMessageId === undefined ? row.call : BotCall.withParentMessage(row.call, row.parentMessageId)
      if (call._tag === "SendMessage" && call.postLinked !== undefined) {
        const url = row.parentMessageId === undefined ? undefined : Channel.postUrl(call.postLinked.channelId, row.parentMessageId)
        // Post links are built from digits and a channel name ([A-Za-z0-9_]), so they need no HTML escaping.
        call = { ...call, text: url === undefined ? call.text : call.postLinked.template.replace("{link}", url) }
      }
      return BotCall.needsParentMessage(call) ? Option.none() : Option.some(call)
    }

    /** Telegram's answer to a call, as what becomes of its row. */
    const outcomeOf = (row: Claimed, error: TelegramError, at: Date): Outcome => {
      const reason = error.reason
      const retry = (delay: number): Outcome =>
        row.kind !== "channel_post" && row.attempts >= maxAttempts
          ? { _tag: "Failed", id: row.id, error: `gave up after ${row.attempts} attempts: ${error.message}` }
          : { _tag: "Retry", id: row.id, dueAt: later(at, delay), error: error.message }
      switch (reason._tag) {
        case "RateLimited":
          return { _tag: "Retry", id: row.id, dueAt: later(at, Duration.toMillis(reason.retryAfter)), error: error.message }
        case "ServerError":
        case "NetworkError":
        case "Unauthorized":
        case "Conflict":
          return retry(backoff(row.attempts))
        case "Forbidden":
          return row.kind === "channel_post" ? retry(backoff(row.attempts)) : { _tag: "Failed", id: row.id, error: error.message }
        case "BadRequest":
          if (isGoneError(error)) return { _tag: "Skipped", id: row.id, reason: error.message }
          return row.kind === "channel_post" ? retry(backoff(row.attempts)) : { _tag: "Failed", id: row.id, error: error.message }
      }
    }

    /** The row handed back unsent, due at once (its lease is released when the outcome is recorded). */
    const givenBack = (row: Claimed, at: Date, why: string): Outcome => ({ _tag: "Retry", id: row.id, dueAt: at, error: why })

    /**
     * One row, and a new message when an answer's message to edit is gone; every attempt must be able to end before
     * `leaseEnd` (epoch millis) leaves room for the record. Never fails.
     */
    const deliver = (row: Claimed, leaseEnd: number, chatBusy: "wait" | "fail"): Effect.Effect<Outcome> =>
      Effect.gen(function* () {
        const call = resolve(row)
        if (Option.isNone(call)) return { _tag: "Skipped", id: row.id, reason: "its parent sent nothing" } satisfies Outcome
        type Failure = TelegramError | ChatBusy | OutOfLease
        const attempt = (stored: BotCall.BotCall): Effect.Effect<Performed, Failure> =>
          Effect.flatMap(Clock.currentTimeMillis, (start): Effect.Effect<Performed, Failure> =>
            start + attemptBudget > leaseEnd
              ? Effect.fail(new OutOfLease())
              : telegram.perform(stored, { chatBusy }).pipe(
                  Effect.timeoutOrElse({
                    duration: sendTimeout,
                    orElse: () => Effect.die(new Error(`no answer from the Bot API within ${Duration.format(sendTimeout)}`))
                  })
                )
          )
        const stored = call.value
        const instead =
          stored._tag === "EditText" && stored.sendIfGone === true
            ? BotCall.sendMessage(stored.chatId, stored.text, stored.keyboard)
            : undefined
        const result = yield* Effect.result(
          instead === undefined
            ? attempt(stored)
            : attempt(stored).pipe(
                Effect.catchIf(
                  (error): error is TelegramError => error._tag === "TelegramError" && isGoneError(error),
                  () => attempt(instead)
                )
              )
        )
        const at = yield* now
        if (result._tag === "Success") {
          return { _tag: "Delivered", id: row.id, messageId: result.success.messageId, postOf: row.postOf } satisfies Outcome
        }
        const failure = result.failure
        if (failure._tag === "OutOfLease") return givenBack(row, at, "not reached within its lease")
        if (failure._tag === "ChatBusy") {
          return { _tag: "Deferred", id: row.id, dueAt: later(at, Duration.toMillis(failure.retryAfter)) } satisfies Outcome
        }
        const outcome = outcomeOf(row, failure, at)
        if (failure.reason._tag === "RateLimited") {
          const until = outcome._tag === "Retry" ? outcome.dueAt.getTime() : at.getTime()
          yield* Ref.update(pausedUntil, (current) => Math.max(current, until))
        }
        if (row.kind === "channel_post" && row.postOf !== null && (isPermanent(failure) || row.attempts >= alertAfterAttempts)) {
          yield* admins
            .alert(`confession:${row.postOf}:post-failing`, options.texts.channelPostFailing(row.postOf, failure.message))
            .pipe(Effect.catchCause((cause) => Effect.logWarning("could not alert the admins about a failing channel post", cause)))
        }
        return outcome
      }).pipe(
        // A defect (the call timed out, a stored call lost its message id) is retried like a network failure.
        Effect.catchCause((cause) =>
          Effect.map(now, (at): Outcome =>
            row.attempts >= maxAttempts && row.kind !== "channel_post"
              ? { _tag: "Failed", id: row.id, error: Cause.pretty(cause).slice(0, 500) }
              : { _tag: "Retry", id: row.id, dueAt: later(at, backoff(row.attempts)), error: Cause.pretty(cause).slice(0, 500) }
          )
        )
      )

    // The group record: one writer at a time; outcomes that arrive meanwhile wait, and the first of them writes them
    // all next. Every step that touches `queue` or `writing` is synchronous, so none is lost between two writers.
    const queue: Array<Ticket> = []
    let writing = false

    /** A statement that failed once (a deadlock with a moderation, a dropped connection) is tried a few times more. */
    const finish = (outcomes: ReadonlyArray<Outcome>) =>
      Effect.flatMap(now, (at) => outbox.finish(outcomes, at)).pipe(
        Effect.retry({ schedule: Schedule.exponential("100 millis"), times: 4 })
      )

    /** Records `outcomes` (with whatever else is waiting) and releases their leases; call it uninterruptibly. */
    const recordOutcomes = (outcomes: ReadonlyArray<Outcome>) =>
      Effect.gen(function* () {
        if (outcomes.length === 0) return
        const ticket: Ticket = { outcomes, done: yield* Deferred.make<"recorded" | "lead", SqlError>() }
        const leads = yield* Effect.sync(() => {
          if (writing) {
            queue.push(ticket)
            return false
          }
          writing = true
          return true
        })
        if (!leads && (yield* Deferred.await(ticket.done)) === "recorded") return
        const group = [ticket, ...queue.splice(0)]
        const exit = yield* Effect.exit(finish(group.flatMap((entry) => entry.outcomes)))
        for (const entry of group) {
          if (entry !== ticket) yield* Deferred.done(entry.done, Exit.map(exit, () => "recorded" as const))
        }
        const next = yield* Effect.sync(() => {
          const first = queue.shift()
          if (first === undefined) writing = false
          return first
        })
        if (next !== undefined) yield* Deferred.succeed(next.done, "lead")
        yield* exit
      }).pipe(
        // A waiter that went away would strand the group handed to it, and every record after it.
        Effect.uninterruptible
      )

    const record = (kinds: ReadonlyMap<number, Kind>, outcomes: ReadonlyArray<Outcome>) =>
      Effect.gen(function* () {
        yield* recordOutcomes(outcomes)
        for (const outcome of outcomes) {
          yield* Metric.update(
            Metric.withAttributes(deliveries, { kind: kinds.get(outcome.id) ?? "answer", outcome: outcome._tag.toLowerCase() }),
            1
          )
        }
      })

    const refreshStats = Effect.gen(function* () {
      const at = yield* now
      yield* Ref.set(lastStats, at.getTime())
      const stats = yield* outbox.pendingStats(at)
      yield* Metric.update(pendingGauge, stats.pending)
      yield* Metric.update(oldestGauge, stats.oldestSeconds)
    })

    /** After deliveries the gauges follow at once, but at most once a second. */
    const statsAfterRound = Effect.gen(function* () {
      if ((yield* Clock.currentTimeMillis) - (yield* Ref.get(lastStats)) < 1000) return
      yield* refreshStats.pipe(Effect.catchCause((cause) => Effect.logWarning("reading the outbox's size failed", cause)))
    })

    /**
     * Claims due rows, delivers them (one chat's rows in order, chats at once), records the outcomes. A row whose turn
     * comes too late to finish within its lease, or after the layer began to close, is given back unsent.
     */
    const round = Effect.gen(function* () {
      const at = yield* now
      if ((yield* Ref.get(pausedUntil)) > at.getTime()) return 0
      const leaseUntil = later(at, leaseMillis)
      const claimed = yield* outbox.claimDue(at, batch, leaseUntil)
      if (claimed.length === 0) return 0
      const inTurn = (row: Claimed): Effect.Effect<Outcome> =>
        Effect.flatMap(Ref.get(stopping), (stop) =>
          stop ? Effect.map(now, (when) => givenBack(row, when, "given back at shutdown")) : deliver(row, leaseUntil.getTime(), "fail")
        )
      // A chat whose rate limit has no room defers the rest of its rows, in order, to when it has: waiting for it
      // here would hold up the round, and with it every other chat's messages.
      const chatInTurn = (rows: ReadonlyArray<Claimed>) =>
        Effect.gen(function* () {
          const outcomes: Array<Outcome> = []
          let busyUntil: Date | undefined
          for (const row of rows) {
            const outcome: Outcome = busyUntil === undefined ? yield* inTurn(row) : { _tag: "Deferred", id: row.id, dueAt: busyUntil }
            if (outcome._tag === "Deferred") busyUntil = outcome.dueAt
            outcomes.push(outcome)
          }
          return outcomes
        })
      const byChat = new Map<string, Array<Claimed>>()
      for (const row of claimed) {
        const chat = String(BotCall.chatOf(row.call) ?? `callback:${row.id}`)
        byChat.set(chat, [...(byChat.get(chat) ?? []), row])
      }
      const outcomes = yield* Effect.forEach([...byChat.values()], chatInTurn, { concurrency })
      yield* record(new Map(claimed.map((row) => [row.id, row.kind])), outcomes.flat())
      yield* statsAfterRound
      return claimed.length
    }).pipe(Effect.uninterruptible)

    const inFiber = Effect.acquireUseRelease(
      Ref.update(roundsRunning, (n) => n + 1),
      () => round,
      () =>
        Effect.gen(function* () {
          yield* Ref.update(roundsRunning, (n) => n - 1)
          const ended = yield* Ref.getAndSet(roundEnded, yield* Deferred.make<void>())
          yield* Deferred.succeed(ended, undefined)
        })
    )

    const idleWait = Effect.gen(function* () {
      const signal = yield* Ref.get(wakeUp)
      const paused = (yield* Ref.get(pausedUntil)) - (yield* Clock.currentTimeMillis)
      const wait = paused > 0 ? Duration.millis(paused) : pollInterval
      yield* Deferred.await(signal).pipe(Effect.timeoutOption(wait))
      yield* Ref.set(wakeUp, yield* Deferred.make<void>())
    })

    if (options.background ?? true) {
      yield* Effect.gen(function* () {
        const delivered = yield* inFiber.pipe(
          Effect.catchCause((cause) => Effect.as(Effect.logError("outbox delivery round failed; trying again", cause), 0))
        )
        if (delivered < batch) yield* idleWait
      }).pipe(Effect.forever, Effect.forkScoped)
    }
    // Runs before the fiber is interrupted (finalizers run last-added first): its round in progress stops starting rows.
    yield* Effect.addFinalizer(() => Ref.set(stopping, true))

    yield* refreshStats.pipe(
      Effect.catchCause((cause) => Effect.logWarning("reading the outbox's size failed", cause)),
      Effect.repeat(Schedule.spaced(statsInterval)),
      Effect.forkScoped
    )
    yield* Effect.gen(function* () {
      const at = yield* now
      const pruned = yield* outbox.prune(later(at, -retentionMillis))
      if (pruned > 0) yield* Effect.logDebug(`outbox rows pruned: ${pruned}`)
    }).pipe(
      Effect.catchCause((cause) => Effect.logWarning("pruning the outbox failed", cause)),
      Effect.repeat(Schedule.spaced("1 hour")),
      Effect.forkScoped
    )

    /**
     * Sends the answers a commit stored, each only while it can end within the lease it was stored with, and records
     * them; a row that failed or could not be tried goes back to the fiber at once.
     */
    const deliverInline = (rows: ReadonlyArray<{ readonly id: number; readonly call: BotCall.BotCall; readonly leaseEnd: number }>) =>
      Effect.gen(function* () {
        if (rows.length === 0) return
        const outcomes: Array<Outcome> = []
        for (const row of rows) {
          const claimed: Claimed = {
            id: row.id,
            kind: "answer",
            topic: null,
            call: row.call,
            attempts: 0,
            createdAt: new Date(0),
            postOf: null,
            parentMessageId: undefined
          }
          // The actor's own chat: worth the wait, which only this update pays.
          outcomes.push(yield* deliver(claimed, row.leaseEnd, "wait"))
        }
        const at = yield* now
        // A transient failure goes back to the fiber at once instead of waiting for its back-off.
        yield* record(
          new Map(rows.map((row) => [row.id, "answer" as const])),
          outcomes.map((outcome) => (outcome._tag === "Retry" ? { ...outcome, dueAt: at } : outcome))
        )
        if (outcomes.some((outcome) => outcome._tag === "Retry")) yield* wake
      }).pipe(
        Effect.catchCause((cause) => Effect.logWarning("recording an answer failed; the courier sends it after its lease", cause))
      )

    /**
     * Stores the rest of a write's batch (its last statement before the commit) and sorts what it stored: the answers
     * to send inline, and whether a row fell due that the fiber should claim at once (later ones it finds itself).
     */
    const flush = (pending: Batch) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* outbox.flush(pending, at, { last: true })
        const inline: Array<{ readonly id: number; readonly call: BotCall.BotCall; readonly leaseEnd: number }> = []
        let dueNow = false
        for (const { message, id } of pending.stored) {
          if (message.lockedUntil !== undefined) inline.push({ id, call: message.call, leaseEnd: message.lockedUntil.getTime() })
          else if (message.dueAt.getTime() <= at.getTime()) dueNow = true
        }
        return { inline, dueNow }
      })

    /** Stores calls: in the current write's batch, or at once (then the fiber is woken). */
    const store = (messages: ReadonlyArray<NewMessage>) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* outbox.add(messages, at)
        if ((yield* CurrentBatch) === undefined) yield* wake
      })

    return Courier.of({
      commit: (effect) =>
        Effect.gen(function* () {
          // Inside another commit: its calls join that write, and go out after it commits.
          if ((yield* CurrentBatch) !== undefined) return yield* effect
          const pending: Batch = { messages: [], stored: [] }
          // Once the transaction is over, nothing may stop the answers from going out (or back to the fiber): an
          // interruption after the commit would leave them held by an inline lease nobody serves.
          return yield* Effect.uninterruptibleMask((restore) =>
            Effect.gen(function* () {
              const [result, stored] = yield* restore(
                processed.transaction(
                  Effect.gen(function* () {
                    const result = yield* Effect.provideService(effect, CurrentBatch, pending)
                    return [result, yield* flush(pending)] as const
                  })
                )
              )
              if (stored.dueNow) yield* wake
              yield* deliverInline(stored.inline)
              return result
            })
          )
        }),

      send: Effect.fn("Courier.send")(function* (messages) {
        const at = yield* now
        yield* store(
          messages.map((message) => ({
            dedupeKey: message.key,
            kind: message.kind,
            topic: message.topic,
            call: message.call,
            parentKey: message.after,
            dueAt: message.delay === undefined ? at : later(at, millis(message.delay)),
            postOf: message.postOf
          }))
        )
      }),

      answer: Effect.fn("Courier.answer")(function* (calls) {
        if (calls.length === 0) return
        const at = yield* now
        const inCommit = (yield* CurrentBatch) !== undefined
        const update = yield* CurrentUpdate
        // Unique per call: one update may answer more than once (two calls, two commits, or a replay).
        const seq = yield* Ref.getAndUpdate(answerSeq, (n) => n + 1)
        const prefix = Option.isSome(update)
          ? `answer:${update.value.updateId}:${instance}:${seq}`
          : `answer:t${at.getTime()}:${instance}:${seq}`
        yield* store(
          calls.map((call, index) => ({
            dedupeKey: `${prefix}:${index}`,
            kind: "answer" as const,
            call,
            dueAt: at,
            // Held for this process, which sends it right after the commit; outside a commit the fiber sends it.
            lockedUntil: inCommit ? later(at, inlineLeaseMillis) : undefined
          }))
        )
      }),

      settle: Effect.gen(function* () {
        // Rounds of our own until nothing is due and the fiber holds nothing.
        for (;;) {
          const ended = yield* Ref.get(roundEnded)
          if ((yield* round) > 0) continue
          if ((yield* Ref.get(roundsRunning)) === 0) return
          yield* Deferred.await(ended)
        }
      })
    })
  })

const isGoneError = (error: TelegramError): boolean =>
  error.reason._tag === "BadRequest" && isGone(error.reason.description)

/** The message to edit or delete is gone (or too old to touch), or the button's query expired: nothing to do. */
const isGone = (description: string): boolean =>
  /message to (edit|delete) not found|message can't be (edited|deleted)|MESSAGE_ID_INVALID|query is too old|query ID is invalid/i.test(
    description
  )

/** A refusal that waiting alone will not change (rights, a wrong chat). */
const isPermanent = (error: TelegramError): boolean =>
  error.reason._tag === "BadRequest" || error.reason._tag === "Forbidden"
