// Long polling: one fiber asks getUpdates for as many updates as the pipeline has room for, from the oldest one not
// yet handled (so nothing unfinished is ever confirmed), and hands them to the dispatcher. On shutdown it stops
// asking, lets the dispatcher drain within the grace period, and confirms what finished.
import { Duration, Effect, Fiber, Layer, Ref, Schedule } from "effect"
import { AppConfig } from "../AppConfig.ts"
import { Telegram, type TelegramError } from "../services/Telegram.ts"
import { Dispatcher } from "./Dispatcher.ts"
import { Router } from "./Router.ts"
import { UpdateSource } from "./UpdateSource.ts"

export interface PollingOptions {
  /** Long-poll timeout passed to getUpdates. */
  readonly timeoutSeconds: number
  readonly shutdownGrace: Duration.Input
}

/** Telegram returns at most 100 updates per call. */
const maxBatch = 100

export const layer = (options: PollingOptions): Layer.Layer<UpdateSource, TelegramError, Telegram | Dispatcher | Router> =>
  Layer.effect(
    UpdateSource,
    Effect.gen(function* () {
      const telegram = yield* Telegram
      const dispatcher = yield* Dispatcher
      const router = yield* Router
      const running = yield* Ref.make(false)
      const allowedUpdates = router.allowedUpdates

      yield* telegram.deleteWebhook

      const pollOnce = Effect.gen(function* () {
        // Read before asking, so an update finishing while we ask is not missed by the waits below.
        const finished = yield* dispatcher.finishedCount
        const window = yield* dispatcher.windowSize
        const free = yield* dispatcher.freeCapacity
        // Unconfirmed updates come back in every answer, so the batch must have room beyond them for new ones.
        if (window >= maxBatch || free === 0) return yield* dispatcher.progressSince(finished)
        const offset = yield* dispatcher.acknowledgeOffset
        const updates = yield* telegram.getUpdates({
          offset,
          limit: Math.min(maxBatch, window + free),
          timeoutSeconds: options.timeoutSeconds,
          allowedUpdates
        })
        const fresh = yield* dispatcher.offer(updates)
        // Only updates we already have came back: wait for one to finish instead of asking again at once.
        if (updates.length > 0 && fresh === 0) {
          yield* dispatcher.progressSince(finished).pipe(Effect.timeoutOption("1 second"))
        }
      })

      const loop = pollOnce.pipe(
        Effect.tap(() => Ref.set(running, true)),
        Effect.tapError((error) =>
          Effect.andThen(
            Ref.set(running, false),
            Effect.logError("getUpdates failed; polling again after a pause", error.message)
          )
        ),
        Effect.retry(
          Schedule.exponential("1 second").pipe(Schedule.setInputType<TelegramError>(), Schedule.modifyDelay(({ duration }) =>
            Effect.succeed(Duration.min(duration, Duration.seconds(30)))
          ))
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
          const offset = yield* dispatcher.acknowledgeOffset
          yield* telegram
            .getUpdates({ offset, limit: 1, timeoutSeconds: 0, allowedUpdates })
            .pipe(Effect.ignore({ log: "Warn" }))
          yield* Effect.logInfo(`long polling stopped; confirmed updates below ${offset}`)
        })
      )

      return UpdateSource.of({ mode: "polling", isRunning: Ref.get(running) })
    })
  )

export const layerConfig: Layer.Layer<UpdateSource, TelegramError, Telegram | Dispatcher | Router | AppConfig> = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    return layer({ timeoutSeconds: 30, shutdownGrace: config.shutdownGrace })
  })
)
