import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { AppConfig } from "../../src/AppConfig.ts"
import { UserId } from "../../src/domain/Ids.ts"
import { type Activity, ActivityLimits, ActivityLimitsError } from "../../src/services/ActivityLimits.ts"
import { RateLimiterStoreMemory } from "../../src/services/RateLimiterStoreMemory.ts"

const ann = UserId.make(41)
const ben = UserId.make(42)

const limits = ActivityLimits.layer({ commentsPerHour: 3, reportsPerHour: 2, feedbackPerHour: 1 })

const spend = (user: UserId, activity: Activity) => ActivityLimits.use((l) => l.spend(user, activity))

/** The refusal of a spend, as [activity, allowance, seconds to wait]. */
const refusal = (user: UserId, activity: Activity) =>
  Effect.map(Effect.flip(spend(user, activity)), (error) =>
    error instanceof ActivityLimitsError
      ? ([error.activity, error.perHour, Duration.toSeconds(error.retryAfter)] as const)
      : assert.fail(`unexpected ${error._tag}`)
  )

describe("ActivityLimits", () => {
  it.effect("spend - at most the hour's allowance, then says when the hour frees up", () =>
    Effect.gen(function* () {
      for (let i = 0; i < 3; i++) {
        yield* spend(ann, "comment")
        yield* TestClock.adjust("5 minutes")
      }
      // t = 15 min: the three of the hour are used; the window ends 60 minutes after the first.
      assert.deepStrictEqual(yield* refusal(ann, "comment"), ["comment", 3, 45 * 60])
      yield* TestClock.adjust("44 minutes")
      assert.deepStrictEqual(yield* refusal(ann, "comment"), ["comment", 3, 60])
      yield* TestClock.adjust("1 minute")
      yield* spend(ann, "comment")
    }).pipe(Effect.provide(limits)))

  it.effect("spend - a refusal spends nothing: refused a hundred times, the next hour still has its whole allowance", () =>
    Effect.gen(function* () {
      yield* spend(ann, "report")
      yield* spend(ann, "report")
      for (let i = 0; i < 100; i++) assert.strictEqual((yield* refusal(ann, "report"))[0], "report")
      yield* TestClock.adjust("1 hour")
      yield* spend(ann, "report")
      yield* spend(ann, "report")
      assert.deepStrictEqual(yield* refusal(ann, "report"), ["report", 2, 3600])
    }).pipe(Effect.provide(limits)))

  it.effect("spend - each activity and each user has its own allowance", () =>
    Effect.gen(function* () {
      yield* spend(ann, "feedback")
      assert.deepStrictEqual(yield* refusal(ann, "feedback"), ["feedback", 1, 3600])
      // Ann's comments and reports, and Ben's feedback, are untouched.
      yield* spend(ann, "comment")
      yield* spend(ann, "report")
      yield* spend(ben, "feedback")
      assert.deepStrictEqual(yield* refusal(ben, "feedback"), ["feedback", 1, 3600])
    }).pipe(Effect.provide(limits)))

  it.effect("layerNoDeps - keeps its windows in the RateLimiterStore it is given, which forgets them after the hour", () =>
    Effect.gen(function* () {
      const context = yield* Layer.build(
        ActivityLimits.layerNoDeps({ commentsPerHour: 5, reportsPerHour: 5, feedbackPerHour: 5 }).pipe(
          Layer.provideMerge(RateLimiterStoreMemory.layer({ sweepInterval: "1 minute" }))
        )
      )
      const store = Context.get(context, RateLimiterStoreMemory)
      const activity = Context.get(context, ActivityLimits)
      assert.strictEqual(yield* store.size, 0)
      yield* activity.spend(ann, "comment")
      yield* activity.spend(ann, "report")
      yield* activity.spend(ben, "feedback")
      assert.strictEqual(yield* store.size, 3)
      yield* TestClock.adjust("61 minutes")
      assert.strictEqual(yield* store.size, 0)
    }))

  it.effect("layerConfig - reads COMMENTS_PER_HOUR, REPORTS_PER_HOUR and FEEDBACK_PER_HOUR", () =>
    Effect.gen(function* () {
      yield* spend(ann, "comment")
      yield* spend(ann, "comment")
      assert.deepStrictEqual(yield* refusal(ann, "comment"), ["comment", 2, 3600])
      for (let i = 0; i < 3; i++) yield* spend(ann, "report")
      assert.deepStrictEqual(yield* refusal(ann, "report"), ["report", 3, 3600])
      for (let i = 0; i < 4; i++) yield* spend(ann, "feedback")
      assert.deepStrictEqual(yield* refusal(ann, "feedback"), ["feedback", 4, 3600])
    }).pipe(
      Effect.provide(
        ActivityLimits.layerConfig.pipe(
          Layer.provide(
            AppConfig.layerFromEnv({
              BOT_TOKEN: "1:x",
              COMMENTS_PER_HOUR: "2",
              REPORTS_PER_HOUR: "3",
              FEEDBACK_PER_HOUR: "4"
            })
          )
        )
      )
    ))
})
