// Long polling: one fiber asks getUpdates for as many updates as the pipeline has room for, stores each batch in
// the durable inbox, and hands it to the dispatcher; the next call's offset confirms the stored batch to Telegram.
// At start, what the inbox holds unfinished from an earlier run is replayed first. On shutdown the fiber stops
// asking, the dispatcher drains within the grace period, and the last stored batch is confirmed.
// Every update is checked at this edge (malformed ones are recorded and dropped, the offset still moves past them),
// and no single update can stop polling: one the inbox refuses is isolated from its batch and given up on.
import { Cause, Duration, Effect, Fiber, Layer, Option, Ref, Result, Schedule } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { Update } from "grammy/types"
import { AppConfig } from "../AppConfig.ts"
import { Telegram, type TelegramError } from "../services/Telegram.ts"
import { Dispatcher } from "./Dispatcher.ts"
import { Inbox } from "../sql/Inbox.ts"
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
): Layer.Layer<UpdateSource, TelegramError | SqlError, Telegram | Dispatcher | Router | Inbox> =>
  Layer.effect(
    UpdateSource,
    Effect.gen(function* () {
      const telegram = yield* Telegram
      const dispatcher = yield* Dispatcher
      const router = yield* Router
      const inbox = yield* Inbox
      const running = yield* Ref.make(false)
      // The next offset to ask for: one past the newest stored update (0 = wherever Telegram's confirmation is).
      const nextOffset = yield* Ref.make(0)
      const allowedUpdates = router.allowedUpdates

      yield* telegram.deleteWebhook

      // The inbox counts the tries of what it stores, so one that keeps failing or crashing is given up on in time.
      const counted = { countAttempt: inbox.countAttempt }

      const stored = yield* inbox.unfinished
      if (stored.length > 0) {
        yield* Effect.logInfo(`replaying ${stored.length} updates left unfinished by the previous run`)
        yield* Ref.set(nextOffset, Math.max(...stored.map((row) => row.updateId)) + 1)
        // Checked again: an earlier version stored whatever Telegram sent.
        const replay: Array<Update> = []
        for (const row of stored) {
          const update = yield* dispatcher.screen(Option.getOrUndefined(row.payload), "inbox", row.updateId)
          if (Option.isSome(update)) replay.push(update.value)
        }
        const previousAttempts = new Map(stored.map((row) => [row.updateId, row.attempts] as const))
        yield* dispatcher.offer(replay, { ...counted, previousAttempts })
      }

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

      const loop = pollOnce.pipe(
        Effect.tap(() => Ref.set(running, true)),
        Effect.tapError((error) =>
          Effect.andThen(Ref.set(running, false), Effect.logError("polling failed; trying again after a pause", Cause.fail(error)))
        ),
        Effect.retry(
          Schedule.exponential("1 second").pipe(
            Schedule.setInputType<TelegramError | SqlError>(),
            Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.seconds(30))))
          )
        ),
        Effect.forever
      )

      yield* Ref.set(running, true)
      const poller = yield* Effect.forkScoped(loop)
      yield* Effect.logInfo("long polling started")

      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          yield* Ref.set(running, false)
          yield* Fiber.interrupt(poller)
          yield* dispatcher.drain(options.shutdownGrace)
          const offset = yield* Ref.get(nextOffset)
          if (offset > 0) {
            yield* telegram
              .getUpdates({ offset, limit: 1, timeoutSeconds: 0, allowedUpdates })
              .pipe(Effect.ignore({ log: "Warn" }))
          }
          yield* Effect.logInfo(`long polling stopped; confirmed updates below ${offset}`)
        })
      )

      return UpdateSource.of({ mode: "polling", isRunning: Ref.get(running) })
    })
  )

/** The offset past an update, when its id is usable at all (a malformed update may carry anything there). */
const nextAfter = (update: Update): ReadonlyArray<number> => {
  const id: unknown = update.update_id
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? [id + 1] : []
}

export const layerConfig: Layer.Layer<
  UpdateSource,
  TelegramError | SqlError,
  Telegram | Dispatcher | Router | Inbox | AppConfig
> = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    return layer({ timeoutSeconds: 30, shutdownGrace: config.shutdownGrace })
  })
)
