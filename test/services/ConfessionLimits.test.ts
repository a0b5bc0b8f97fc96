import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { AppConfig } from "../../src/AppConfig.ts"
import { UserId } from "../../src/domain/Ids.ts"
import { ConfessionLimits, ConfessionLimitsError } from "../../src/services/ConfessionLimits.ts"
import { RateLimiterStoreMemory } from "../../src/services/RateLimiterStoreMemory.ts"

const ann = UserId.make(31)
const ben = UserId.make(32)

const limits = (perHour: number, cooldown: Duration.Input) =>
  ConfessionLimits.layer({ perHour, cooldown: Duration.fromInputUnsafe(cooldown) })

const check = (user: UserId) => ConfessionLimits.use((l) => l.check(user))

/** The failure of a check, as [reason, seconds to wait]. */
const refusal = (user: UserId) =>
  Effect.map(Effect.flip(check(user)), (error) =>
    error instanceof ConfessionLimitsError
      ? ([error.reason, Duration.toSeconds(error.retryAfter)] as const)
      : assert.fail(`unexpected ${error._tag}`)
  )

describe("ConfessionLimits", () => {
  it.effect("check - one per cooldown, with the remaining wait", () =>
    Effect.gen(function* () {
      yield* check(ann)
      assert.deepStrictEqual(yield* refusal(ann), ["Cooldown", 30])
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual(yield* refusal(ann), ["Cooldown", 20])
      yield* TestClock.adjust("20 seconds")
      yield* check(ann)
    }).pipe(Effect.provide(limits(5, "30 seconds"))))

  it.effect("check - a refused check does not spend the hour's allowance", () =>
    Effect.gen(function* () {
      yield* check(ann)
      for (let i = 0; i < 10; i++) assert.strictEqual((yield* refusal(ann))[0], "Cooldown")
      // Four more, each after its cooldown: all five of the hour are still there
      for (let i = 0; i < 4; i++) {
        yield* TestClock.adjust("30 seconds")
        yield* check(ann)
      }
    }).pipe(Effect.provide(limits(5, "30 seconds"))))

  it.effect("check - at most CONFESSIONS_PER_HOUR per hour, then says when the hour frees up", () =>
    Effect.gen(function* () {
      for (let i = 0; i < 5; i++) {
        yield* check(ann)
        yield* TestClock.adjust("1 minute")
      }
      // t = 5 min: the hour's five are used; the window ends 60 minutes after the first
      assert.deepStrictEqual(yield* refusal(ann), ["HourlyLimit", 55 * 60])
      yield* TestClock.adjust("54 minutes")
      assert.deepStrictEqual(yield* refusal(ann), ["HourlyLimit", 60])
      yield* TestClock.adjust("1 minute")
      yield* check(ann)
    }).pipe(Effect.provide(limits(5, "30 seconds"))))

  it.effect("check - the hourly wait is never shorter than the cooldown that just restarted", () =>
    Effect.gen(function* () {
      yield* check(ann)
      yield* TestClock.adjust("1790 seconds")
      yield* check(ann)
      yield* TestClock.adjust("30 minutes")
      // t = 59m50s: both of the hour are used and the hour frees in 10 s, but this press restarted the cooldown
      assert.deepStrictEqual(yield* refusal(ann), ["HourlyLimit", 30])
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual(yield* refusal(ann), ["Cooldown", 20])
      yield* TestClock.adjust("20 seconds")
      yield* check(ann)
    }).pipe(Effect.provide(limits(2, "30 seconds"))))

  it.effect("check - users are limited independently", () =>
    Effect.gen(function* () {
      yield* check(ann)
      yield* check(ben)
      assert.strictEqual((yield* refusal(ann))[0], "Cooldown")
      assert.strictEqual((yield* refusal(ben))[0], "Cooldown")
    }).pipe(Effect.provide(limits(5, "30 seconds"))))

  it.effect("check - a zero cooldown leaves only the hourly limit", () =>
    Effect.gen(function* () {
      yield* check(ann)
      yield* check(ann)
      yield* check(ann)
      assert.deepStrictEqual(yield* refusal(ann), ["HourlyLimit", 3600])
    }).pipe(Effect.provide(limits(3, "0 seconds"))))

  it.effect("layerConfig - reads CONFESSIONS_PER_HOUR and CONFESSION_COOLDOWN", () =>
    Effect.gen(function* () {
      yield* check(ann)
      assert.deepStrictEqual(yield* refusal(ann), ["Cooldown", 5])
      yield* TestClock.adjust("5 seconds")
      yield* check(ann)
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual((yield* refusal(ann))[0], "HourlyLimit")
    }).pipe(
      Effect.provide(
        ConfessionLimits.layerConfig.pipe(
          Layer.provide([
            AppConfig.layerFromEnv({ BOT_TOKEN: "1:x", CONFESSIONS_PER_HOUR: "2", CONFESSION_COOLDOWN: "5 seconds" }),
            RateLimiterStoreMemory.layer()
          ])
        )
      )
    ))
})
