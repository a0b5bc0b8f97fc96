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
import { Clock, Context, Deferred, Duration, Effect, FiberSet, Layer, Metric, Option, Ref, Schedule, Semaphore } from "effect"
import type { Update } from "grammy/types"
import { AppConfig } from "../AppConfig.ts"
import { UpdateId } from "../domain/Ids.ts"
import { CurrentUpdate, Processed } from "../sql/Processed.ts"
import { Router } from "./Router.ts"

export interface DispatcherOptions {
  /** Updates handled at once (`UPDATE_CONCURRENCY`). */
  readonly concurrency: number
  /** Updates accepted but not finished, running or queued; a full pipeline stops taking more. */
  readonly maxPending: number
  /** How often ids of updates that wrote nothing are recorded in one batch. */
  readonly recordInterval: Duration.Input
  /** How many finished ids are remembered for de-duplication. */
  readonly rememberFinished: number
}

export class Dispatcher extends Context.Service<
  Dispatcher,
  {
    /**
     * Accepts updates in `update_id` order, skipping any already running, finished or recorded; waits while the
     * pipeline is full. Returns how many were new.
     */
    readonly offer: (updates: ReadonlyArray<Update>) => Effect.Effect<number>
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
    /** Stops accepting, lets running updates finish within `grace`, interrupts the rest, records what finished. */
    readonly drain: (grace: Duration.Input) => Effect.Effect<void>
  }
>()("confessions/updates/Dispatcher") {
  static readonly layer = (options: DispatcherOptions): Layer.Layer<Dispatcher, never, Router | Processed> =>
    Layer.effect(Dispatcher, make(options))

  static readonly layerConfig: Layer.Layer<Dispatcher, never, Router | Processed | AppConfig> = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return Dispatcher.layer({
        concurrency: config.updateConcurrency,
        maxPending: Math.max(config.updateConcurrency * 4, 100),
        recordInterval: "200 millis",
        rememberFinished: 100_000
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

interface Entry {
  finished: boolean
  readonly done: Deferred.Deferred<void>
}

interface Chain {
  tail: Deferred.Deferred<void>
  count: number
}

const make = (options: DispatcherOptions) =>
  Effect.gen(function* () {
    const router = yield* Router
    const processed = yield* Processed
    const fibers = yield* FiberSet.make<void>()
    const admission = yield* Semaphore.make(options.maxPending)
    const execution = yield* Semaphore.make(options.concurrency)

    const entries = new Map<number, Entry>()
    const chains = new Map<string, Chain>()
    const finishedRecently = new Set<number>()
    const toRecord: Array<UpdateId> = []
    let admitted = 0
    let executing = 0
    let accepting = true
    let progressSignal = yield* Deferred.make<void>()
    let finishedTotal = 0

    // Ids at or below this were possibly handled by an earlier run; only they need a database look-up.
    const maxRecorded = yield* processed.recordedMax.pipe(Effect.orDie)

    const remember = (id: number) => {
      finishedRecently.add(id)
      if (finishedRecently.size > options.rememberFinished) {
        const oldest = finishedRecently.values().next()
        if (!oldest.done) finishedRecently.delete(oldest.value)
      }
    }

    const publishGauges = Effect.all(
      [Metric.update(running, executing), Metric.update(queued, Math.max(0, admitted - executing))],
      { discard: true }
    )

    const signalProgress = Effect.gen(function* () {
      finishedTotal++
      const previous = progressSignal
      progressSignal = yield* Deferred.make<void>()
      yield* Deferred.succeed(previous, undefined)
    })

    const keyOf = (update: Update): string => {
      const from = update.callback_query?.from ?? update.message?.from ?? update.edited_message?.from
      if (from) return `u${from.id}`
      const chat = update.message?.chat ?? update.edited_message?.chat ?? update.channel_post?.chat
      return chat ? `c${chat.id}` : "other"
    }

    const work = (update: Update, key: string, predecessor: Option.Option<Deferred.Deferred<void>>, entry: Entry, acceptedAt: number) =>
      Effect.gen(function* () {
        if (Option.isSome(predecessor)) yield* Deferred.await(predecessor.value)
        yield* execution.withPermits(1)(
          Effect.gen(function* () {
            executing++
            yield* publishGauges
            const startedAt = yield* Clock.currentTimeMillis
            yield* Metric.update(queueWait, (startedAt - acceptedAt) / 1000)
            const claimed = yield* Ref.make(false)
            const updateId = UpdateId.make(update.update_id)
            yield* router.route(update).pipe(Effect.provideService(CurrentUpdate, Option.some({ updateId, claimed })))
            if (!(yield* Ref.get(claimed))) toRecord.push(updateId)
            entry.finished = true
          }).pipe(
            Effect.ensuring(
              Effect.suspend(() => {
                executing--
                return publishGauges
              })
            )
          )
        )
      }).pipe(
        Effect.ensuring(
          Effect.gen(function* () {
            const chain = chains.get(key)
            if (chain) {
              chain.count--
              if (chain.count === 0 && chain.tail === entry.done) chains.delete(key)
            }
            if (entry.finished) remember(update.update_id)
            entries.delete(update.update_id)
            admitted--
            yield* Deferred.succeed(entry.done, undefined)
            yield* admission.release(1)
            yield* publishGauges
            yield* signalProgress
          })
        )
      )

    /** Accepts one update: returns its completion signal, or `None` when it was a duplicate. */
    const acceptOne = (update: Update, recorded: ReadonlySet<number>) =>
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
        const entry: Entry = { finished: false, done: yield* Deferred.make<void>() }
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
        yield* FiberSet.run(fibers, work(update, key, predecessor, entry, acceptedAt))
        yield* publishGauges
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

    yield* flushRecords.pipe(Effect.repeat(Schedule.spaced(options.recordInterval)), Effect.forkScoped)

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

    return Dispatcher.of({
      offer: (updates) =>
        Effect.gen(function* () {
          const sorted = [...updates].sort((a, b) => a.update_id - b.update_id)
          const recorded = yield* lookUpRecorded(sorted)
          let fresh = 0
          for (const update of sorted) {
            const isNew = !entries.has(update.update_id)
            const accepted = yield* acceptOne(update, recorded)
            if (isNew && Option.isSome(accepted)) fresh++
          }
          return fresh
        }),
      submit: (update) =>
        Effect.gen(function* () {
          const recorded = yield* lookUpRecorded([update])
          const accepted = yield* acceptOne(update, recorded)
          if (Option.isSome(accepted)) yield* Deferred.await(accepted.value)
        }),
      awaitIdle: FiberSet.awaitEmpty(fibers),
      freeCapacity: Effect.sync(() => options.maxPending - admitted),
      finishedCount: Effect.sync(() => finishedTotal),
      progressSince: (count) => Effect.suspend(() => (finishedTotal > count ? Effect.void : Deferred.await(progressSignal))),
      drain
    })
  })
