// The heart of the update pipeline: every update runs as its own fiber, at most `concurrency` at once, in arrival
// order per user (different users in parallel). Sources decide when Telegram may forget an update (polling: once the
// inbox stored it; webhook: once `submit` returned), and updates handled before are skipped here.
//
// Invariants (all bookkeeping below runs in synchronous steps on one JS thread, so each step is atomic):
// - `entries` holds the updates accepted and not finished; `finishedRecently` the ids finished lately, for
//   de-duplication of redeliveries.
// - `chains` maps an ordering key (user id, else chat id) to the completion signal of its newest update and the
//   number of its updates still queued or running. A new update registers itself here BEFORE its fiber is forked,
//   so registration order is arrival order; the last one out deletes the key, so quiet keys hold nothing.
// - A queued update holds an admission permit (bounded by `maxPending`: this is the backpressure on the source)
//   but takes an execution permit only after its predecessor finished, so one noisy user cannot fill the pool.
// - A failed try is tried again after a pause, up to `maxAttempts` tries, then the update is given up on (logged with
//   its cause, counted, recorded as processed, its user told once). Between tries it holds no execution permit, so
//   others keep flowing, but it stays at the head of its key's chain: its user's later updates wait until it is done.
//
// The edge: `screen` checks what a source received (TelegramUpdate.check) before anything else sees it, so a malformed
// update is logged, counted, recorded and dropped instead of crashing deep in a handler.
//
// Several processes (webhook mode behind a load balancer): before its first try an update also takes its key's lease
// (UserLock), so the same user's updates on other processes wait for it, and keeps it until it is finished (its
// retries included). It waits for the lease without an execution permit. A lease it cannot take (Redis unreachable)
// is a failed try like any other.
import { Cause, Clock, Context, Deferred, Duration, Effect, Exit, FiberSet, Layer, Metric, Option, Ref, Result, Schedule, Scope, Semaphore } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { Update } from "grammy/types"
import { AppConfig } from "../AppConfig.ts"
import { UpdateId } from "../domain/Ids.ts"
import * as TelegramUpdate from "../domain/TelegramUpdate.ts"
import { UserLock } from "../services/UserLock.ts"
import { CurrentUpdate, Processed } from "../sql/Processed.ts"
import { type Handled, LastAttempt, Router } from "./Router.ts"

export interface DispatcherOptions {
  /** Updates handled at once (`UPDATE_CONCURRENCY`). */
  readonly concurrency: number
  /** Updates accepted but not finished, running or queued; a full pipeline stops taking more. */
  readonly maxPending: number
  /** How often ids of updates that wrote nothing are recorded in one batch. */
  readonly recordInterval: Duration.Input
  /** How many finished ids are remembered for de-duplication. */
  readonly rememberFinished: number
  /** Tries an update gets before it is given up on (across restarts where the source counts them). */
  readonly maxAttempts: number
  /** Pause before the second try of a failed update; doubled before each further one. */
  readonly retryDelay: Duration.Input
}

/** How a source keeps count of an update's tries across restarts (the polling inbox); webhook mode counts in memory. */
export interface OfferOptions {
  /** Counts one more try of an update durably. */
  readonly countAttempt?: (updateId: UpdateId) => Effect.Effect<number, SqlError>
  /**
   * Tries already counted, by update id, for updates replayed after a restart. Their tries are counted before they
   * start, so a try that takes the process down with it still counts at the next start; a fresh update's try is
   * counted only when it fails (no extra statement per update on the happy path).
   */
  readonly previousAttempts?: ReadonlyMap<number, number>
}

/** Why an update was given up on (the `reason` label of `confessions_updates_skipped_total`). */
export type SkipReason =
  /** Its last try failed (a handler error, a database error specific to it, a timeout). */
  | "error"
  /** Its last try died with a defect. */
  | "defect"
  /** A try ran longer than HANDLER_TIMEOUT (not tried again). */
  | "timeout"
  /** Every counted try was cut short by a shutdown or a crash (it may be what takes the process down). */
  | "restarts"
  /** The inbox refused to store it. */
  | "unstorable"

const skipReasons: ReadonlyArray<SkipReason> = ["error", "defect", "timeout", "restarts", "unstorable"]

/** Where an update came from, for the `source` label of `confessions_updates_invalid_total`. */
export type Source = "polling" | "webhook" | "inbox"

export class Dispatcher extends Context.Service<
  Dispatcher,
  {
    /**
     * Accepts updates in `update_id` order, skipping any already running, finished or recorded; waits while the
     * pipeline is full. Returns how many were new.
     */
    readonly offer: (updates: ReadonlyArray<Update>, options?: OfferOptions) => Effect.Effect<number>
    /** Offers one update and waits until it was handled (webhook mode answers HTTP only then). */
    readonly submit: (update: Update) => Effect.Effect<void>
    /** Completes once no accepted update is queued or running. */
    readonly awaitIdle: Effect.Effect<void>
    /** Free admission permits. */
    readonly freeCapacity: Effect.Effect<number>
    /** How many updates have finished so far; pass it to `progressSince`. */
    readonly finishedCount: Effect.Effect<number>
    /** Completes as soon as more than `count` updates have finished (at once if that already happened). */
    readonly progressSince: (count: number) => Effect.Effect<void>
    /**
     * Reads the newest recorded update id again. Ids above it skip the ledger look-up, so a process that becomes the
     * polling leader after another one handled updates calls this first.
     */
    readonly resync: Effect.Effect<void, SqlError>
    /** Stops accepting, lets running updates finish within `grace`, interrupts the rest, records what finished. */
    readonly drain: (grace: Duration.Input) => Effect.Effect<void>
    /**
     * The edge check of an update as a source received it. A valid one comes back; an invalid one is logged (a
     * warning with its id and the reason, never its content), counted, recorded as processed when its id is usable
     * (`fallbackId` when the source knows it better, as the inbox does), and `None` comes back.
     */
    readonly screen: (input: unknown, source: Source, fallbackId?: UpdateId) => Effect.Effect<Option.Option<Update>>
    /**
     * Gives up on an update the pipeline never accepted (the inbox refused it): records it as processed first (and
     * fails, changing nothing else, when that fails too: then the database is failing, not the update), then logs
     * it with its id and `cause`, counts it and tells its user once.
     */
    readonly giveUp: (
      update: Update,
      reason: SkipReason,
      tries: number,
      cause: Cause.Cause<unknown>
    ) => Effect.Effect<void, SqlError>
  }
>()("confessions/updates/Dispatcher") {
  static readonly layer = (options: DispatcherOptions): Layer.Layer<Dispatcher, never, Router | Processed | UserLock> =>
    Layer.effect(Dispatcher, make(options))

  static readonly layerConfig: Layer.Layer<Dispatcher, never, Router | Processed | UserLock | AppConfig> = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return Dispatcher.layer({
        concurrency: config.updateConcurrency,
        maxPending: Math.max(config.updateConcurrency * 4, 100),
        recordInterval: "200 millis",
        rememberFinished: 100_000,
        maxAttempts: 3,
        retryDelay: "1 second"
      })
    })
  )
}

const running = Metric.gauge("confessions_updates_in_flight", { description: "Updates being handled right now" })
const queued = Metric.gauge("confessions_updates_queued", {
  description: "Updates accepted and waiting for their user's previous update or a free slot"
})
const queueWait = Metric.histogram("confessions_update_queue_wait_seconds", {
  description: "Time from accepting an update to its handler starting",
  boundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]
})
const duplicates = Metric.counter("confessions_updates_duplicate_total", {
  description: "Updates skipped because they were already running, handled or recorded",
  incremental: true
})

const skipped = Metric.counter("confessions_updates_skipped_total", {
  description: "Updates given up on after their tries, by reason (error, defect, timeout, restarts, unstorable)",
  incremental: true
})
const retried = Metric.counter("confessions_update_retries_total", {
  description: "Tries of an update after a failed one",
  incremental: true
})
const invalid = Metric.counter("confessions_updates_invalid_total", {
  description: "Malformed updates refused at the edge, by source (polling, webhook, inbox)",
  incremental: true
})

/** What the dispatcher knows of an update's earlier tries when it accepts it. */
interface Attempts {
  readonly previous: number
  /** Count each try before it starts (replayed updates) rather than when it fails. */
  readonly countFirst: boolean
  readonly count: Option.Option<(updateId: UpdateId) => Effect.Effect<number, SqlError>>
}

const inMemory: Attempts = { previous: 0, countFirst: false, count: Option.none() }

/** The outcome of taking a lease that needs no taking (held already, or not shared with other processes). */
const leaseHeld = Result.succeed(undefined)

interface Entry {
  finished: boolean
  /** Completes when the update leaves the pipeline, with whether it finished (false: interrupted by a shutdown). */
  readonly done: Deferred.Deferred<boolean>
}

interface Chain {
  tail: Deferred.Deferred<boolean>
  count: number
}

const make = (options: DispatcherOptions) =>
  Effect.gen(function* () {
    const router = yield* Router
    const processed = yield* Processed
    const userLock = yield* UserLock
    const fibers = yield* FiberSet.make<void>()
    const admission = yield* Semaphore.make(options.maxPending)
    const execution = yield* Semaphore.make(options.concurrency)
    // Exposed at 0 from the start, so that `increase(…)` alerts see the first skip rather than a new series.
    for (const reason of skipReasons) yield* Metric.update(Metric.withAttributes(skipped, { reason }), 0)

    const entries = new Map<number, Entry>()
    const chains = new Map<string, Chain>()
    const finishedRecently = new Set<number>()
    const toRecord: Array<UpdateId> = []
    let admitted = 0
    let executing = 0
    let accepting = true
    // Replaced only when someone waited on it: most finishes have no waiter, and a new Deferred each was garbage.
    let progressSignal = yield* Deferred.make<void>()
    let progressAwaited = false
    let finishedTotal = 0

    // Ids at or below this were possibly handled by an earlier run; only they need a database look-up.
    let maxRecorded = yield* processed.recordedMax.pipe(Effect.orDie)

    const remember = (id: number) => {
      finishedRecently.add(id)
      if (finishedRecently.size > options.rememberFinished) {
        const oldest = finishedRecently.values().next()
        if (!oldest.done) finishedRecently.delete(oldest.value)
      }
    }

    // Sampled with each record flush (every `recordInterval`) rather than set at every step of every update: four
    // pairs of gauge writes per update were a measurable share of the pipeline's CPU, and a scrape (seconds apart)
    // reads a value at most one interval old either way.
    const publishGauges = Effect.suspend(() =>
      Effect.all([Metric.update(running, executing), Metric.update(queued, Math.max(0, admitted - executing))], {
        discard: true
      })
    )

    const signalProgress = Effect.suspend(() => {
      finishedTotal++
      if (!progressAwaited) return Effect.void
      progressAwaited = false
      const previous = progressSignal
      progressSignal = Deferred.makeUnsafe<void>()
      return Deferred.succeed(previous, undefined)
    })

    const keyOf = (update: Update): string => {
      const from = update.callback_query?.from ?? update.message?.from ?? update.edited_message?.from
      if (from) return `u${from.id}`
      const chat = update.message?.chat ?? update.edited_message?.chat ?? update.channel_post?.chat
      return chat ? `c${chat.id}` : "other"
    }

    /** Records an id outside the batch and remembers it; falls back to the batch when the statement fails. */
    const recordNow = (updateId: UpdateId) =>
      processed.record([updateId]).pipe(
        Effect.tap(() => Effect.sync(() => remember(updateId))),
        Effect.catchCause((cause) =>
          Effect.logWarning("recording an update failed; it joins the next batch", cause).pipe(
            Effect.andThen(Effect.sync(() => toRecord.push(updateId)))
          )
        )
      )

    /** The log line and metric of an update given up on; the caller has recorded it. */
    const reportSkip = (update: Update, reason: SkipReason, tries: number, cause: Option.Option<Cause.Cause<unknown>>) =>
      Effect.gen(function* () {
        yield* Metric.update(Metric.withAttributes(skipped, { reason }), 1)
        const message = `update skipped after ${tries} ${tries === 1 ? "try" : "tries"} (${reason}); it will not be tried again`
        yield* Option.match(cause, { onNone: () => Effect.logError(message), onSome: (c) => Effect.logError(message, c) })
      }).pipe(Effect.annotateLogs({ updateId: update.update_id }))

    const apologise = (update: Update) =>
      Effect.suspend(() => router.apologise(update)).pipe(
        Effect.catchCause((cause) => Effect.logWarning("could not apologise to the user", cause))
      )

    const countTry = (count: (updateId: UpdateId) => Effect.Effect<number, SqlError>, updateId: UpdateId) =>
      count(updateId).pipe(Effect.catchCause((cause) => Effect.logWarning("counting a try of an update failed", cause)))

    /** One try, inside an execution permit: how it ended, and whether its writes committed anyway. */
    const tryOnce = (update: Update, attempts: Attempts, last: boolean) =>
      Effect.gen(function* () {
        const updateId = UpdateId.make(update.update_id)
        if (attempts.countFirst && Option.isSome(attempts.count)) yield* countTry(attempts.count.value, updateId)
        const claimed = yield* Ref.make(false)
        const handled: Handled = yield* router.route(update).pipe(
          Effect.provideService(CurrentUpdate, Option.some({ updateId, claimed })),
          Effect.provideService(LastAttempt, last),
          // The router's boundary catches everything a handler does; this catches what escapes it (a defect in
          // routing itself), so that it too is a failed try rather than a dead fiber nobody records.
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.failCause(cause)
              : Effect.gen(function* () {
                  if (last) {
                    yield* Effect.logError("update failed outside the router", cause)
                    // Not after a commit: its answer is in the outbox.
                    if (!(yield* Ref.get(claimed))) yield* apologise(update)
                  } else {
                    yield* Effect.logWarning("update failed outside the router; it will be tried again", cause)
                  }
                  return { _tag: "Failed", cause, retryable: true } as const
                })
          )
        )
        return { handled, claimed: yield* Ref.get(claimed) }
      })

    /**
     * A try that could not start: its user's lease could not be taken. Told like a failed try of the router: the
     * last one apologises (and is logged as skipped by the caller), earlier ones only warn.
     */
    const leaseFailed = (update: Update, cause: Cause.Cause<unknown>, last: boolean) =>
      Effect.gen(function* () {
        if (last) yield* apologise(update)
        else yield* Effect.logWarning("update could not take its user's lease; it will be tried again", cause)
        return { handled: { _tag: "Failed", cause, retryable: true } as Handled, claimed: false }
      })

    const work = (
      update: Update,
      key: string,
      predecessor: Option.Option<Deferred.Deferred<boolean>>,
      entry: Entry,
      acceptedAt: number,
      attempts: Attempts
    ) => {
      let lease: Scope.Closeable | undefined
      return Effect.gen(function* () {
        // A predecessor that did not finish was interrupted by a shutdown; starting now would run ahead of it (it is
        // replayed first at the next start) and, for a replayed update, spend one of its counted tries for nothing.
        if (Option.isSome(predecessor) && !(yield* Deferred.await(predecessor.value))) return yield* Effect.interrupt
        const updateId = UpdateId.make(update.update_id)
        let tries = attempts.previous
        let failuresHere = 0
        // Only a lease shared with other processes needs taking (and a scope that releases it when the update ends).
        if (userLock.shared) lease = yield* Scope.make()
        let leased = lease === undefined
        while (!entry.finished) {
          if (tries >= options.maxAttempts) {
            // Replayed with every try used up and none of them ended: nobody has told its user anything yet.
            yield* recordNow(updateId)
            yield* reportSkip(update, "restarts", tries, Option.none())
            yield* apologise(update)
            entry.finished = true
            break
          }
          const last = tries + 1 >= options.maxAttempts
          const taken =
            leased || lease === undefined ? leaseHeld : yield* Effect.result(Scope.provide(userLock.hold(key), lease))
          if (Result.isSuccess(taken)) leased = true
          const { handled, claimed } = Result.isFailure(taken)
            ? yield* leaseFailed(update, Cause.fail(taken.failure), last)
            : yield* execution.withPermits(1)(
            Effect.gen(function* () {
              executing++
              if (failuresHere === 0) {
                const startedAt = yield* Clock.currentTimeMillis
                yield* Metric.update(queueWait, (startedAt - acceptedAt) / 1000)
              }
              return yield* tryOnce(update, attempts, last)
            }).pipe(
              Effect.ensuring(
                Effect.sync(() => {
                  executing--
                })
              )
            )
          )
          tries++
          if (handled._tag === "Done") {
            if (!claimed) toRecord.push(updateId)
            entry.finished = true
          } else if (claimed) {
            // Its writes committed (recording it) before it failed: another try would only repeat what they did not
            // cover, so it ends here. No apology: the answer to what was stored is in the outbox (Courier.commit), and
            // "please try again" would make the user repeat a write that is already stored.
            entry.finished = true
          } else {
            if (!attempts.countFirst && Option.isSome(attempts.count)) yield* countTry(attempts.count.value, updateId)
            if (last || !handled.retryable) {
              const reason = !handled.retryable ? "timeout" : Cause.hasDies(handled.cause) ? "defect" : "error"
              yield* recordNow(updateId)
              yield* reportSkip(update, reason, tries, Option.some(handled.cause))
              entry.finished = true
            } else {
              failuresHere++
              yield* Metric.update(retried, 1)
              yield* Effect.sleep(Duration.times(Duration.fromInputUnsafe(options.retryDelay), 2 ** (failuresHere - 1)))
            }
          }
        }
      }).pipe(
        Effect.annotateLogs({ updateId: update.update_id }),
        Effect.ensuring(
          Effect.gen(function* () {
            if (lease !== undefined) yield* Scope.close(lease, Exit.void)
            const chain = chains.get(key)
            if (chain) {
              chain.count--
              if (chain.count === 0 && chain.tail === entry.done) chains.delete(key)
            }
            if (entry.finished) remember(update.update_id)
            entries.delete(update.update_id)
            admitted--
            yield* Deferred.succeed(entry.done, entry.finished)
            yield* admission.release(1)
            yield* signalProgress
          })
        )
      )
    }

    /** Accepts one update: returns its completion signal, or `None` when it was a duplicate. */
    const acceptOne = (update: Update, recorded: ReadonlySet<number>, attempts: Attempts) =>
      Effect.gen(function* () {
        const id = update.update_id
        const known = entries.get(id)
        if (known) return Option.some(known.done)
        if (finishedRecently.has(id) || recorded.has(id) || !accepting) {
          yield* Metric.update(duplicates, 1)
          // A redelivered button press still gets its answer, so the button stops spinning.
          if (accepting) yield* FiberSet.run(fibers, router.acknowledgeDuplicate(update))
          return Option.none()
        }
        yield* admission.take(1)
        const entry: Entry = { finished: false, done: yield* Deferred.make<boolean>() }
        const key = keyOf(update)
        const chain = chains.get(key)
        const predecessor = chain ? Option.some(chain.tail) : Option.none()
        if (chain) {
          chain.tail = entry.done
          chain.count++
        } else {
          chains.set(key, { tail: entry.done, count: 1 })
        }
        entries.set(id, entry)
        admitted++
        const acceptedAt = yield* Clock.currentTimeMillis
        yield* FiberSet.run(fibers, work(update, key, predecessor, entry, acceptedAt, attempts))
        return Option.some(entry.done)
      })

    const lookUpRecorded = (updates: ReadonlyArray<Update>) => {
      const maybeOld = updates
        .map((u) => u.update_id)
        .filter((id) => id <= maxRecorded && !entries.has(id) && !finishedRecently.has(id))
        .map((id) => UpdateId.make(id))
      return maybeOld.length === 0
        ? Effect.succeed(new Set<number>() as ReadonlySet<number>)
        : processed.recordedAmong(maybeOld).pipe(
            Effect.tap((found) => Effect.sync(() => found.forEach(remember))),
            Effect.catchCause((cause) =>
              Effect.logWarning("could not check processed updates; handling them (writes are still guarded)", cause).pipe(
                Effect.as(new Set<number>() as ReadonlySet<number>)
              )
            )
          )
    }

    const flushRecords = Effect.gen(function* () {
      if (toRecord.length === 0) return
      const batch = toRecord.splice(0, toRecord.length)
      yield* processed.record(batch).pipe(
        Effect.catchCause((cause) =>
          Effect.logWarning("recording processed updates failed; will retry", cause).pipe(
            Effect.andThen(Effect.sync(() => toRecord.unshift(...batch)))
          )
        )
      )
    })

    yield* Effect.andThen(flushRecords, publishGauges).pipe(Effect.repeat(Schedule.spaced(options.recordInterval)), Effect.forkScoped)

    let drained = false
    const drain = (grace: Duration.Input) =>
      Effect.gen(function* () {
        accepting = false
        if (drained) return
        drained = true
        const finishedInTime = yield* FiberSet.awaitEmpty(fibers).pipe(Effect.timeoutOption(grace))
        if (Option.isNone(finishedInTime)) {
          yield* Effect.logWarning(`shutdown grace over: interrupting ${yield* FiberSet.size(fibers)} unfinished updates`)
          yield* FiberSet.clear(fibers)
        }
        yield* flushRecords
      })

    yield* Effect.addFinalizer(() => drain(Duration.zero))

    const screen = (input: unknown, source: Source, fallbackId?: UpdateId) =>
      Effect.gen(function* () {
        const checked = TelegramUpdate.check(input)
        if (Result.isSuccess(checked)) return Option.some(checked.success.update)
        const updateId = checked.failure.updateId ?? fallbackId
        yield* Metric.update(Metric.withAttributes(invalid, { source }), 1)
        yield* Effect.logWarning(`malformed update refused: ${checked.failure.reason}`).pipe(
          Effect.annotateLogs({ updateId: updateId ?? "unusable", source })
        )
        if (updateId !== undefined && !finishedRecently.has(updateId)) {
          toRecord.push(updateId)
          remember(updateId)
        }
        return Option.none<Update>()
      })

    const attemptsOf = (update: Update, offerOptions: OfferOptions | undefined): Attempts => {
      if (offerOptions === undefined) return inMemory
      const previous = offerOptions.previousAttempts?.get(update.update_id)
      return {
        previous: previous ?? 0,
        countFirst: previous !== undefined,
        count: Option.fromNullishOr(offerOptions.countAttempt)
      }
    }

    return Dispatcher.of({
      offer: (updates, offerOptions) =>
        Effect.gen(function* () {
          const sorted = [...updates].sort((a, b) => a.update_id - b.update_id)
          const recorded = yield* lookUpRecorded(sorted)
          let fresh = 0
          for (const update of sorted) {
            const isNew = !entries.has(update.update_id)
            const accepted = yield* acceptOne(update, recorded, attemptsOf(update, offerOptions))
            if (isNew && Option.isSome(accepted)) fresh++
          }
          return fresh
        }),
      submit: (update) =>
        Effect.gen(function* () {
          const recorded = yield* lookUpRecorded([update])
          const accepted = yield* acceptOne(update, recorded, inMemory)
          if (Option.isSome(accepted)) yield* Deferred.await(accepted.value)
        }),
      screen,
      giveUp: (update, reason, tries, cause) =>
        Effect.gen(function* () {
          const updateId = UpdateId.make(update.update_id)
          yield* processed.record([updateId])
          remember(updateId)
          yield* reportSkip(update, reason, tries, Option.some(cause))
          yield* apologise(update)
        }),
      awaitIdle: FiberSet.awaitEmpty(fibers),
      freeCapacity: Effect.sync(() => options.maxPending - admitted),
      finishedCount: Effect.sync(() => finishedTotal),
      progressSince: (count) =>
        Effect.suspend(() => {
          if (finishedTotal > count) return Effect.void
          progressAwaited = true
          return Deferred.await(progressSignal)
        }),
      resync: Effect.flatMap(processed.recordedMax, (max) =>
        Effect.sync(() => {
          maxRecorded = Math.max(maxRecorded, max)
        })
      ),
      drain
    })
  })
