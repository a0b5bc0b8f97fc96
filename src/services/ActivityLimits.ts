// Per-user limits on what reaches other people: a comment or reply notifies an author, the report that reaches the
// threshold alerts every admin, and each feedback goes to every admin, so one account could otherwise flood them.
// At most COMMENTS_PER_HOUR comments and replies together, REPORTS_PER_HOUR reports and FEEDBACK_PER_HOUR feedback
// messages per user and hour, kept in a RateLimiter store like ConfessionLimits (in memory by default, bounded:
// RateLimiterStoreMemory; Effect's Redis store makes them hold across several processes and restarts).
import { Context, Data, Duration, Effect, Layer } from "effect"
import { RateLimiter } from "effect/persistence"
import { AppConfig, type AppSettings } from "../AppConfig.ts"
import type { UserId } from "../domain/Ids.ts"
import { RateLimiterStoreMemory } from "./RateLimiterStoreMemory.ts"

/** What is limited: comments and replies share one allowance (both are comments that notify someone). */
export type Activity = "comment" | "report" | "feedback"

export interface ActivityLimitsOptions {
  /** COMMENTS_PER_HOUR: comments and replies per user within an hour. */
  readonly commentsPerHour: number
  /** REPORTS_PER_HOUR: reports (⚠️ presses that count) per user within an hour. */
  readonly reportsPerHour: number
  /** FEEDBACK_PER_HOUR: feedback messages per user within an hour. */
  readonly feedbackPerHour: number
}

export class ActivityLimitsError extends Data.TaggedError("ActivityLimitsError")<{
  readonly activity: Activity
  /** The allowance that is used up, for the answer ("you can write 30 comments per hour"). */
  readonly perHour: number
  /** When the next one will be accepted. */
  readonly retryAfter: Duration.Duration
}> {}

export class ActivityLimits extends Context.Service<
  ActivityLimits,
  {
    /**
     * Uses up one of the user's `activity` allowance for this hour, or fails saying when to try again. Call it for an
     * action that is about to be stored, inside its transaction after the write succeeded, so that an action refused
     * for any other reason spends nothing, and a refusal here rolls the write (and its notices) back. A store failure
     * (Redis down) passes through as `RateLimiterError`.
     */
    readonly spend: (
      user: UserId,
      activity: Activity
    ) => Effect.Effect<void, ActivityLimitsError | RateLimiter.RateLimiterError>
  }
>()("confessions/services/ActivityLimits") {
  /** Needs a `RateLimiterStore`: `RateLimiterStoreMemory.layer()`, or `RateLimiter.layerStoreRedis` for several
   * processes. */
  static readonly layerNoDeps = (
    options: ActivityLimitsOptions
  ): Layer.Layer<ActivityLimits, never, RateLimiter.RateLimiterStore> => Layer.effect(ActivityLimits, make(options))

  /** Limits in this process's memory; a user's entries go once their hour has passed. */
  static readonly layer = (options: ActivityLimitsOptions): Layer.Layer<ActivityLimits> =>
    ActivityLimits.layerNoDeps(options).pipe(Layer.provide(RateLimiterStoreMemory.layer()))

  /** COMMENTS_PER_HOUR, REPORTS_PER_HOUR and FEEDBACK_PER_HOUR from the configuration, in memory. */
  static readonly layerConfig: Layer.Layer<ActivityLimits, never, AppConfig> = Layer.unwrap(
    Effect.gen(function* () {
      return ActivityLimits.layer(optionsOf(yield* AppConfig))
    })
  )

  /** The same settings over the `RateLimiterStore` in context (the Redis store when several processes share limits). */
  static readonly layerConfigNoDeps: Layer.Layer<ActivityLimits, never, AppConfig | RateLimiter.RateLimiterStore> =
    Layer.unwrap(
      Effect.gen(function* () {
        return ActivityLimits.layerNoDeps(optionsOf(yield* AppConfig))
      })
    )
}

const optionsOf = (config: AppSettings): ActivityLimitsOptions => ({
  commentsPerHour: config.commentsPerHour,
  reportsPerHour: config.reportsPerHour,
  feedbackPerHour: config.feedbackPerHour
})

const hour = Duration.hours(1)

const make = (options: ActivityLimitsOptions) =>
  Effect.gen(function* () {
    const limiter = yield* RateLimiter.make
    const perHour: { readonly [A in Activity]: number } = {
      comment: options.commentsPerHour,
      report: options.reportsPerHour,
      feedback: options.feedbackPerHour
    }

    return ActivityLimits.of({
      spend: Effect.fn("ActivityLimits.spend")(function* (user, activity) {
        const limit = perHour[activity]
        yield* limiter.consume({ key: `${activity}-hour:${user}`, limit, window: hour, onExceeded: "fail" }).pipe(
          Effect.catchReason("RateLimiterError", "RateLimitExceeded", (exceeded) =>
            Effect.fail(new ActivityLimitsError({ activity, perHour: limit, retryAfter: exceeded.retryAfter }))
          )
        )
      })
    })
  })
