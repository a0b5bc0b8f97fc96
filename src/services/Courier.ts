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
// - Sending a row and recording that it was sent are one uninterruptible step, bounded by `sendTimeout`: an interrupted
//   courier (shutdown) leaves no row sent but unrecorded. Only a process killed between Telegram's answer and the
//   record can make a call go out twice.
import { Cause, Clock, Context, Deferred, Duration, Effect, Layer, Metric, Option, Ref, Schedule } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import * as BotCall from "../domain/BotCall.ts"
import * as Channel from "../domain/Channel.ts"
import type { ConfessionId } from "../domain/Ids.ts"
import { type Claimed, type Kind, type NewMessage, type Outcome, Outbox } from "../sql/Outbox.ts"
import { type AlreadyProcessed, CurrentUpdate, Processed } from "../sql/Processed.ts"
import { AdminNotifications } from "./AdminNotifications.ts"
import { Telegram, type TelegramError } from "./Telegram.ts"

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
  /** How often an idle courier looks for due rows (a commit in this process wakes it at once). */
  readonly pollInterval?: Duration.Input
  /** First retry delay; doubles per attempt up to `backoffCap`. */
  readonly backoffBase?: Duration.Input
  readonly backoffCap?: Duration.Input
  /** Attempts after which a row that keeps failing transiently is given up (channel posts never are). */
  readonly maxAttempts?: number
  /** Finished rows are kept this long. */
  readonly retention?: Duration.Input
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
  pollInterval: "1 second",
  backoffBase: "1 second",
  backoffCap: "5 minutes",
  maxAttempts: 25,
  retention: "7 days",
  alertAfterAttempts: 3
} as const

export class Courier extends Context.Service<
  Courier,
  {
    /**
     * Runs `effect` as the current update's one claiming transaction: the calls it queues (`send`, `answer`) are stored
     * with its writes or not at all. After the commit the answers go out at once and the courier is woken for the rest;
     * a failure to send them then is the courier's business, never the caller's.
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
  description: "Outbox delivery attempts by kind and outcome (delivered, retry, failed, skipped)",
  incremental: true
})
const pendingGauge = Metric.gauge("confessions_outbox_pending", { description: "Outbox rows waiting to be delivered" })
const oldestGauge = Metric.gauge("confessions_outbox_oldest_pending_seconds", {
  description: "Age of the oldest outbox row still waiting"
})

/** What the current `commit` stored for sending inline. */
interface InlineRow {
  readonly id: number
  readonly call: BotCall.BotCall
}

const InlineAnswers = Context.Reference<Array<InlineRow> | undefined>("confessions/services/Courier/InlineAnswers", {
  defaultValue: () => undefined
})

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
    const pollInterval = Duration.fromInputUnsafe(options.pollInterval ?? defaults.pollInterval)
    const backoffBase = millis(options.backoffBase ?? defaults.backoffBase)
    const backoffCap = millis(options.backoffCap ?? defaults.backoffCap)
    const maxAttempts = options.maxAttempts ?? defaults.maxAttempts
    const retentionMillis = millis(options.retention ?? defaults.retention)
    const alertAfterAttempts = options.alertAfterAttempts ?? defaults.alertAfterAttempts

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

    /** One row: the call, and a new message when an answer's message to edit is gone. Never fails. */
    const deliver = (row: Claimed): Effect.Effect<Outcome> =>
      Effect.gen(function* () {
        const call = resolve(row)
        if (Option.isNone(call)) return { _tag: "Skipped", id: row.id, reason: "its parent sent nothing" } satisfies Outcome
        const attempt = (stored: BotCall.BotCall) =>
          telegram.perform(stored).pipe(
            Effect.timeoutOrElse({
              duration: sendTimeout,
              orElse: () => Effect.die(new Error(`no answer from the Bot API within ${Duration.format(sendTimeout)}`))
            })
          )
        const stored = call.value
        const instead =
          stored._tag === "EditText" && stored.sendIfGone === true
            ? BotCall.sendMessage(stored.chatId, stored.text, stored.keyboard)
            : undefined
        const result = yield* Effect.result(
          instead === undefined
            ? attempt(stored)
            : attempt(stored).pipe(Effect.catchIf(isGoneError, () => attempt(instead)))
        )
        const at = yield* now
        if (result._tag === "Success") {
          return { _tag: "Delivered", id: row.id, messageId: result.success.messageId, postOf: row.postOf } satisfies Outcome
        }
        const outcome = outcomeOf(row, result.failure, at)
        if (result.failure.reason._tag === "RateLimited") {
          const until = outcome._tag === "Retry" ? outcome.dueAt.getTime() : at.getTime()
          yield* Ref.update(pausedUntil, (current) => Math.max(current, until))
        }
        if (row.kind === "channel_post" && row.postOf !== null && (isPermanent(result.failure) || row.attempts >= alertAfterAttempts)) {
          yield* admins
            .alert(`confession:${row.postOf}:post-failing`, options.texts.channelPostFailing(row.postOf, result.failure.message))
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

    const record = (rows: ReadonlyArray<Claimed>, outcomes: ReadonlyArray<Outcome>) =>
      Effect.gen(function* () {
        yield* outbox.finish(outcomes, yield* now)
        const kinds = new Map(rows.map((row) => [row.id, row.kind]))
        for (const outcome of outcomes) {
          yield* Metric.update(
            Metric.withAttributes(deliveries, { kind: kinds.get(outcome.id) ?? "answer", outcome: outcome._tag.toLowerCase() }),
            1
          )
        }
      })

    /**
     * Claims due rows, delivers them (one chat's rows in order, chats at once), records the outcomes. A row whose
     * turn comes too late to finish within its lease is given back unsent, so no other courier can take it over
     * while it is being sent.
     */
    const round = Effect.gen(function* () {
      const at = yield* now
      if ((yield* Ref.get(pausedUntil)) > at.getTime()) return 0
      const claimed = yield* outbox.claimDue(at, batch, later(at, leaseMillis))
      if (claimed.length === 0) return 0
      const lastStart = at.getTime() + leaseMillis - Duration.toMillis(sendTimeout)
      const inTime = (row: Claimed) =>
        Effect.flatMap(Clock.currentTimeMillis, (start): Effect.Effect<Outcome> =>
          start <= lastStart
            ? deliver(row)
            : Effect.succeed({ _tag: "Retry", id: row.id, dueAt: new Date(start), error: "not reached within its lease" })
        )
      const byChat = new Map<string, Array<Claimed>>()
      for (const row of claimed) {
        const chat = String(BotCall.chatOf(row.call) ?? `callback:${row.id}`)
        byChat.set(chat, [...(byChat.get(chat) ?? []), row])
      }
      const outcomes = yield* Effect.forEach([...byChat.values()], (rows) => Effect.forEach(rows, inTime), {
        concurrency
      })
      yield* record(claimed, outcomes.flat())
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

    const refreshStats = Effect.gen(function* () {
      const stats = yield* outbox.pendingStats(yield* now)
      yield* Metric.update(pendingGauge, stats.pending)
      yield* Metric.update(oldestGauge, stats.oldestSeconds)
    })
    yield* refreshStats.pipe(
      Effect.catchCause((cause) => Effect.logWarning("reading the outbox's size failed", cause)),
      Effect.repeat(Schedule.spaced("15 seconds")),
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

    const store = (messages: ReadonlyArray<NewMessage>) => Effect.flatMap(now, (at) => outbox.enqueue(messages, at))

    /** Sends what `commit` stored for inline delivery and records it; a failure gives the row back to the fiber. */
    const deliverInline = (rows: ReadonlyArray<InlineRow>) =>
      Effect.gen(function* () {
        if (rows.length === 0) return
        const claimed: Array<Claimed> = rows.map((row) => ({
          id: row.id,
          kind: "answer",
          topic: null,
          call: row.call,
          attempts: 1,
          createdAt: new Date(0),
          postOf: null,
          parentMessageId: undefined
        }))
        const outcomes = yield* Effect.forEach(claimed, deliver)
        // A transient failure goes back to the fiber at once instead of waiting for its back-off.
        const at = yield* now
        yield* record(
          claimed,
          outcomes.map((outcome) => (outcome._tag === "Retry" ? { ...outcome, dueAt: at } : outcome))
        )
        if (outcomes.some((outcome) => outcome._tag === "Retry")) yield* wake
      }).pipe(
        Effect.uninterruptible,
        Effect.catchCause((cause) => Effect.logWarning("recording an answer failed; the courier sends it after its lease", cause))
      )

    return Courier.of({
      commit: (effect) =>
        Effect.gen(function* () {
          const inline: Array<InlineRow> = []
          const result = yield* processed.transaction(Effect.provideService(effect, InlineAnswers, inline))
          yield* wake
          yield* deliverInline(inline)
          return result
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
        const inline = yield* InlineAnswers
        const update = yield* CurrentUpdate
        const seq = yield* Ref.getAndUpdate(answerSeq, (n) => n + 1)
        const prefix = Option.match(update, {
          onNone: () => `answer:${at.getTime()}:${seq}`,
          onSome: (current) => `answer:${current.updateId}`
        })
        const keyed = calls.map((call, index) => ({ key: `${prefix}:${index}`, call }))
        const ids = yield* store(
          keyed.map(({ key, call }) => ({
            dedupeKey: key,
            kind: "answer" as const,
            call,
            dueAt: at,
            lockedUntil: inline === undefined ? undefined : later(at, inlineLeaseMillis)
          }))
        )
        if (inline !== undefined) {
          for (const { key, call } of keyed) {
            const id = ids.get(key)
            if (id !== undefined) inline.push({ id, call })
          }
        }
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
