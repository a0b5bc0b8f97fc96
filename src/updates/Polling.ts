// Long polling: one fiber asks getUpdates for as many updates as the pipeline has room for, stores each batch in
// the durable inbox, and hands it to the dispatcher; the next call's offset confirms the stored batch to Telegram.
// Every update is checked at this edge (malformed ones are recorded and dropped, the offset still moves past them),
// and no single update can stop polling: one the inbox refuses is isolated from its batch and given up on.
//
// Several processes may run this against one database: only the leader polls (sql/Leadership.ts), the others wait as
// standbys. Each time this process becomes the leader it starts from the database, not from memory: the newest stored
// update is where polling resumes, what the inbox holds unfinished (left by a previous run or a leader that died) is
// replayed first, and the dispatcher re-reads the processed-updates ledger's newest id. When it stops leading (or
// shuts down) it stops asking, lets in-flight updates finish within the grace period, and confirms the last stored
// batch; on shutdown the lock is given up only after that, so a standby takes over exactly where this one stopped.
import { Cause, Deferred, Duration, Effect, Layer, Option, Ref, Result, Schedule } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { Update } from "grammy/types"
import { AppConfig } from "../AppConfig.ts"
import { Telegram, type TelegramError } from "../services/Telegram.ts"
import { Dispatcher } from "./Dispatcher.ts"
import { Inbox } from "../sql/Inbox.ts"
import { Leadership } from "../sql/Leadership.ts"
import { Router } from "./Router.ts"
import { UpdateSource } from "./UpdateSource.ts"

export interface PollingOptions {
  /** Long-poll timeout passed to getUpdates. */
  readonly timeoutSeconds: number
  readonly shutdownGrace: Duration.Input
}

/** Telegram returns at most 100 updates per call. */
const maxBatch = 100

export const layer = (
  options: PollingOptions
): Layer.Layer<UpdateSource, never, Telegram | Dispatcher | Router | Inbox | Leadership> =>
  Layer.effect(
    UpdateSource,
    Effect.gen(function* () {
      const telegram = yield* Telegram
      const dispatcher = yield* Dispatcher
      const router = yield* Router
      const inbox = yield* Inbox
      const leadership = yield* Leadership
      const running = yield* Ref.make(false)
      const shuttingDown = yield* Ref.make(false)
      // The next offset to ask for: one past the newest stored update (0 = wherever Telegram's confirmation is).
      const nextOffset = yield* Ref.make(0)
      const allowedUpdates = router.allowedUpdates

      // The inbox counts the tries of what it stores, so one that keeps failing or crashing is given up on in time.
      const counted = { countAttempt: inbox.countAttempt }

      const replayUnfinished = Effect.gen(function* () {
        const stored = yield* inbox.unfinished
        if (stored.length === 0) return
        yield* Effect.logInfo(`replaying ${stored.length} updates left unfinished by the previous run`)
        // Checked again: an earlier version stored whatever Telegram sent.
        const replay: Array<Update> = []
        for (const row of stored) {
          const update = yield* dispatcher.screen(Option.getOrUndefined(row.payload), "inbox", row.updateId)
          if (Option.isSome(update)) replay.push(update.value)
        }
        const previousAttempts = new Map(stored.map((row) => [row.updateId, row.attempts] as const))
        yield* dispatcher.offer(replay, { ...counted, previousAttempts })
      })

      /**
       * Stores a batch. If the inbox refuses it, each update is tried alone (twice), so that one update it cannot
       * store does not hold back the others; one refused alone is given up on, which first records it as processed:
       * if even that fails, the database itself is failing and the poll fails (nothing was confirmed, it is retried).
       */
      const store = (updates: ReadonlyArray<Update>) =>
        inbox.store(updates).pipe(
          Effect.as(updates),
          Effect.catch((batchError) =>
            Effect.gen(function* () {
              yield* Effect.logWarning("storing a batch of updates failed; storing them one by one", Cause.fail(batchError))
              const kept: Array<Update> = []
              for (const update of updates) {
                const alone = yield* inbox.store([update]).pipe(Effect.retry({ times: 1 }), Effect.result)
                if (Result.isSuccess(alone)) kept.push(update)
                else yield* dispatcher.giveUp(update, "unstorable", 3, Cause.fail(alone.failure))
              }
              return kept
            })
          )
        )

      const pollOnce = Effect.gen(function* () {
        const finished = yield* dispatcher.finishedCount
        const free = yield* dispatcher.freeCapacity
        if (free === 0) return yield* dispatcher.progressSince(finished)
        const offset = yield* Ref.get(nextOffset)
        const updates = yield* telegram.getUpdates({
          offset,
          limit: Math.min(maxBatch, free),
          timeoutSeconds: options.timeoutSeconds,
          allowedUpdates
        })
        if (updates.length === 0) return
        const valid: Array<Update> = []
        for (const input of updates) {
          const update = yield* dispatcher.screen(input, "polling")
          if (Option.isSome(update)) valid.push(update.value)
        }
        // Durable before confirmed: only a stored batch moves the offset past it (malformed updates were recorded).
        const kept = yield* store(valid)
        yield* Ref.set(nextOffset, Math.max(offset, ...updates.flatMap(nextAfter)))
        yield* dispatcher.offer(kept, counted)
      })

      // The pause after a failure stays short (at most 3 s), so polling resumes within seconds of Telegram or the
      // database coming back.
      const loop = pollOnce.pipe(
        Effect.tap(() => Ref.set(running, true)),
        Effect.tapError((error) =>
          Effect.andThen(Ref.set(running, false), Effect.logError("polling failed; trying again after a pause", Cause.fail(error)))
        ),
        Effect.retry(
          Schedule.exponential("1 second").pipe(
            Schedule.setInputType<TelegramError | SqlError>(),
            Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.seconds(3))))
          )
        ),
        Effect.forever
      )

      /** After leading: in-flight updates finish (on shutdown: drain), and the last stored batch is confirmed. */
      const stopLeading = Effect.gen(function* () {
        yield* Ref.set(running, false)
        if (yield* Ref.get(shuttingDown)) yield* dispatcher.drain(options.shutdownGrace)
        else yield* dispatcher.awaitIdle.pipe(Effect.timeoutOption(options.shutdownGrace))
        const offset = yield* Ref.get(nextOffset)
        if (offset > 0) {
          yield* telegram
            .getUpdates({ offset, limit: 1, timeoutSeconds: 0, allowedUpdates })
            .pipe(Effect.ignore({ log: "Warn" }))
        }
        yield* Effect.logInfo(`long polling stopped; confirmed updates below ${offset}`)
      })

      // Completed once the first term started polling (or failed trying), so a process that leads from the start is
      // polling when its layer is ready.
      const firstTerm = yield* Deferred.make<void>()

      /** One term as the leader: resume from the database, then poll until interrupted. */
      const lead = Effect.gen(function* () {
        yield* dispatcher.resync
        yield* Ref.set(nextOffset, (yield* inbox.newest) + 1)
        yield* telegram.deleteWebhook
        yield* replayUnfinished
        yield* Ref.set(running, true)
        yield* Effect.logInfo("long polling started")
        yield* Deferred.succeed(firstTerm, undefined)
        return yield* loop
      }).pipe(Effect.ensuring(Effect.andThen(stopLeading, Deferred.succeed(firstTerm, undefined))))

      yield* leadership.run(lead)
      if ((yield* leadership.role) === "leader") yield* Deferred.await(firstTerm)
      // Finalizers run last-added first: this one runs before leading is interrupted, so it stops with a full drain.
      yield* Effect.addFinalizer(() => Ref.set(shuttingDown, true))

      return UpdateSource.of({
        mode: "polling",
        role: leadership.role,
        // A standby is doing its job by waiting.
        isRunning: Effect.flatMap(leadership.role, (role) => (role === "standby" ? Effect.succeed(true) : Ref.get(running)))
      })
    })
  )

/** The offset past an update, when its id is usable at all (a malformed update may carry anything there). */
const nextAfter = (update: Update): ReadonlyArray<number> => {
  const id: unknown = update.update_id
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? [id + 1] : []
}

export const layerConfig: Layer.Layer<
  UpdateSource,
  never,
  Telegram | Dispatcher | Router | Inbox | Leadership | AppConfig
> = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    return layer({ timeoutSeconds: 30, shutdownGrace: config.shutdownGrace })
  })
)
