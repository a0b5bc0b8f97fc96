// Per-user spam limits on confessions: at most CONFESSIONS_PER_HOUR per hour and one per CONFESSION_COOLDOWN, kept in
// a RateLimiter store (in memory by default, bounded: RateLimiterStoreMemory; Effect's Redis store makes the limits
// hold across several processes and restarts).
// A failed check says how long to wait, so the user can be told when to try again.
import { Context, Data, Duration, Effect, Layer } from "effect"
import { RateLimiter } from "effect/persistence"
import { AppConfig } from "../AppConfig.ts"
import type { UserId } from "../domain/Ids.ts"
import { RateLimiterStoreMemory } from "./RateLimiterStoreMemory.ts"

export interface ConfessionLimitsOptions {
  /** CONFESSIONS_PER_HOUR: submissions per user within an hour. */
  readonly perHour: number
  /** CONFESSION_COOLDOWN: minimum time between two submissions of one user; zero turns the cooldown off. */
  readonly cooldown: Duration.Duration
}

export class ConfessionLimitsError extends Data.TaggedError("ConfessionLimitsError")<{
  /** `Cooldown`: the last confession was too recent; `HourlyLimit`: this hour's allowance is used up. */
  readonly reason: "Cooldown" | "HourlyLimit"
  /** When the next submission will be accepted. */
  readonly retryAfter: Duration.Duration
}> {}

export class ConfessionLimits extends Context.Service<
  ConfessionLimits,
  {
    /**
     * Uses up one of the user's submissions, or fails saying when to try again. Call it when the user presses Submit
     * (after the text was accepted), never for a preview: every successful check counts as a confession.
     * A store failure (Redis down) passes through as `RateLimiterError`.
     */
    readonly check: (user: UserId) => Effect.Effect<void, ConfessionLimitsError | RateLimiter.RateLimiterError>
  }
>()("confessions/services/ConfessionLimits") {
  /** Needs a `RateLimiterStore`: `RateLimiterStoreMemory.layer()`, or `RateLimiter.layerStoreRedis` for several
   * processes. */
  static readonly layerNoDeps = (
    options: ConfessionLimitsOptions
  ): Layer.Layer<ConfessionLimits, never, RateLimiter.RateLimiterStore> => Layer.effect(ConfessionLimits, make(options))

  /** Limits in this process's memory; a user's entries go once their windows have passed. */
  static readonly layer = (options: ConfessionLimitsOptions): Layer.Layer<ConfessionLimits> =>
    ConfessionLimits.layerNoDeps(options).pipe(Layer.provide(RateLimiterStoreMemory.layer()))

  /** Settings from the configuration; the limits live in the `RateLimiterStore` given (memory, or Redis to share
   * them between processes and keep them across restarts). */
  static readonly layerConfig: Layer.Layer<ConfessionLimits, never, AppConfig | RateLimiter.RateLimiterStore> = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return ConfessionLimits.layerNoDeps({ perHour: config.confessionsPerHour, cooldown: config.confessionCooldown })
    })
  )
}

const hour = Duration.hours(1)

const make = (options: ConfessionLimitsOptions) =>
  Effect.gen(function* () {
    const limiter = yield* RateLimiter.make
    const cooldownOn = Duration.isGreaterThan(options.cooldown, Duration.zero)

    const exceeded =
      (reason: ConfessionLimitsError["reason"], atLeast: Duration.Duration) =>
      <A>(consume: Effect.Effect<A, RateLimiter.RateLimiterError>) =>
        consume.pipe(
          Effect.catchReason("RateLimiterError", "RateLimitExceeded", (limit) =>
            Effect.fail(new ConfessionLimitsError({ reason, retryAfter: Duration.max(limit.retryAfter, atLeast) }))
          )
        )

    return ConfessionLimits.of({
      check: Effect.fn("ConfessionLimits.check")(function* (user) {
        // The cooldown goes first: a too-early press must not also spend one of the hour's submissions. If the
        // cooldown passes but the hour is used up, the cooldown has just restarted, so the wait is at least that long.
        if (cooldownOn) {
          yield* limiter
            .consume({ key: `confession-cooldown:${user}`, limit: 1, window: options.cooldown, onExceeded: "fail" })
            .pipe(exceeded("Cooldown", Duration.zero))
        }
        yield* limiter
          .consume({ key: `confession-hour:${user}`, limit: options.perHour, window: hour, onExceeded: "fail" })
          .pipe(exceeded("HourlyLimit", cooldownOn ? options.cooldown : Duration.zero))
      })
    })
  })
