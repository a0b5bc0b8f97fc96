// Long polling: one fiber asks getUpdates for as many updates as the pipeline has room for, stores each batch in
// the durable inbox, and hands it to the dispatcher; the next call's offset confirms the stored batch to Telegram.
// At start, what the inbox holds unfinished from an earlier run is replayed first. On shutdown the fiber stops
// asking, the dispatcher drains within the grace period, and the last stored batch is confirmed.
import { Duration, Effect, Fiber, Layer, Ref, Schedule } from "effect"
import type { SqlError } from "effect/sql/SqlError"
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

      const replay = yield* inbox.unfinished
      if (replay.length > 0) {
        yield* Effect.logInfo(`replaying ${replay.length} updates left unfinished by the previous run`)
        yield* Ref.set(nextOffset, Math.max(...replay.map((u) => u.update_id)) + 1)
        yield* dispatcher.offer(replay)
      }

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
        // Durable before confirmed: only a stored batch moves the offset past it.
        yield* inbox.store(updates)
        yield* Ref.set(nextOffset, Math.max(offset, ...updates.map((u) => u.update_id + 1)))
        yield* dispatcher.offer(updates)
      })

      const loop = pollOnce.pipe(
        Effect.tap(() => Ref.set(running, true)),
        Effect.tapError((error) =>
          Effect.andThen(
            Ref.set(running, false),
            Effect.logError("polling failed; trying again after a pause", error.message)
          )
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
