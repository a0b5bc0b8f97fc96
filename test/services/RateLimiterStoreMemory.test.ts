import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Layer, Metric, Scope } from "effect"
import { RateLimiter } from "effect/persistence"
import { TestClock } from "effect/testing"
import { entriesGauge, RateLimiterStoreMemory } from "../../src/services/RateLimiterStoreMemory.ts"

/** A RateLimiter over the given store layer, built in the caller's scope, with the store's own face if it has one. */
const limiterOn = <R>(store: Layer.Layer<RateLimiter.RateLimiterStore | R>) =>
  Effect.map(Layer.build(Layer.provideMerge(RateLimiter.layer, store)), (context) => ({
    limiter: Context.get(context, RateLimiter.RateLimiter),
    store: Context.get(context, RateLimiter.RateLimiterStore),
    context
  }))

type ConsumeOptions = Parameters<RateLimiter.RateLimiter["consume"]>[0]

/** A consume's outcome as plain data (durations in ms), so two stores' answers compare with deepStrictEqual. */
const outcome = (limiter: RateLimiter.RateLimiter, options: ConsumeOptions) =>
  limiter.consume(options).pipe(
    Effect.map((r) => ["ok", Duration.toMillis(r.delay), r.limit, r.remaining, Duration.toMillis(r.resetAfter)] as const),
    Effect.catch((e) =>
      Effect.succeed(
        e.reason._tag === "RateLimitExceeded"
          ? (["exceeded", Duration.toMillis(e.reason.retryAfter), e.reason.limit, e.reason.remaining, 0] as const)
          : (["store error", 0, 0, 0, 0] as const)
      )
    )
  )

/** A small deterministic generator (mulberry32), so a failure replays exactly. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("RateLimiterStoreMemory", () => {
  it.effect("answers exactly as Effect's layerStoreMemory: 20,000 random operations side by side, sweeping often", () =>
    Effect.gen(function* () {
      const theirs = yield* limiterOn(RateLimiter.layerStoreMemory)
      // Ours lives in a scope of its own, so its sweep fiber can be stopped before the final jump in time.
      const oursScope = yield* Scope.make()
      const ours = yield* Effect.provideService(
        limiterOn(RateLimiterStoreMemory.layer({ sweepInterval: "5 seconds" })),
        Scope.Scope,
        oursScope
      )
      const bounded = Context.get(ours.context, RateLimiterStoreMemory)
      const next = random(20_251_130)
      const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(next() * items.length)] as A
      // Each key keeps one limit and window, as every caller does (Telegram's chats and groups, the confession
      // cooldown and hour), with the algorithms and onExceeded modes they use and the two they do not.
      const buckets = Array.from({ length: 20 }, (_, i) => ({
        key: `bucket:${i}`,
        limit: [1, 3, 30, 20][i % 4] as number,
        window: ["1 second", "3 seconds", "1 second", "1 minute"][i % 4] as Duration.Input
      }))
      const windows = Array.from({ length: 20 }, (_, i) => ({
        key: `window:${i}`,
        limit: [1, 5, 2][i % 3] as number,
        window: ["30 seconds", "1 hour", "2 seconds"][i % 3] as Duration.Input
      }))
      const epochs = new Map<string, number>()
      for (let step = 0; step < 20_000; step++) {
        const roll = next()
        if (roll < 0.35) {
          const b = pick(buckets)
          const options: ConsumeOptions = {
            ...b,
            algorithm: "token-bucket",
            onExceeded: next() < 0.8 ? "delay" : "fail",
            tokens: next() < 0.9 ? 1 : 2
          }
          assert.deepStrictEqual(yield* outcome(ours.limiter, options), yield* outcome(theirs.limiter, options), `step ${step}`)
        } else if (roll < 0.7) {
          const w = pick(windows)
          const options: ConsumeOptions = {
            ...w,
            algorithm: "fixed-window",
            onExceeded: next() < 0.8 ? "fail" : "delay",
            tokens: next() < 0.9 ? 1 : 2
          }
          assert.deepStrictEqual(yield* outcome(ours.limiter, options), yield* outcome(theirs.limiter, options), `step ${step}`)
        } else if (roll < 0.8) {
          const key = `adaptive:${Math.floor(next() * 4)}`
          const options = { key, tokens: 1, fallbackLimit: 10, fallbackWindow: Duration.seconds(10) }
          const mine = yield* ours.store.adaptiveConsume(options)
          const reference = yield* theirs.store.adaptiveConsume(options)
          assert.deepStrictEqual(
            [Duration.toMillis(mine.delay), mine.epoch, mine.phase],
            [Duration.toMillis(reference.delay), reference.epoch, reference.phase],
            `step ${step}`
          )
          epochs.set(key, reference.epoch)
        } else if (roll < 0.85) {
          const key = `adaptive:${Math.floor(next() * 4)}`
          const options = {
            key,
            epoch: epochs.get(key) ?? 0,
            tokens: 1,
            status: next() < 0.7 ? 429 : 200,
            retryAfter: Duration.millis(100 + Math.floor(next() * 5000))
          }
          yield* ours.store.adaptiveFeedback(options)
          yield* theirs.store.adaptiveFeedback(options)
        } else if (roll < 0.87) {
          yield* bounded.sweep
        } else if (roll < 0.998) {
          yield* TestClock.adjust(Duration.millis(Math.floor(next() * 1500)))
        } else {
          yield* TestClock.adjust(pick(["1 minute", "1 hour"] as const))
        }
      }
      // Long after every window (fixed windows in "delay" mode can reach days ahead), nothing is left.
      yield* Scope.close(oursScope, Exit.void)
      yield* TestClock.adjust("30 days")
      assert.isAbove(yield* bounded.sweep, 0)
      assert.strictEqual(yield* bounded.size, 0)
    }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("sweep - 200,000 chats and users: entries go once their windows have passed, down to none", () =>
    Effect.gen(function* () {
      const { limiter, context } = yield* limiterOn(RateLimiterStoreMemory.layer({ sweepInterval: "1 minute" }))
      const bounded = Context.get(context, RateLimiterStoreMemory)
      // Telegram's private-chat bucket (3 per 3 s) for 100,000 chats, ConfessionLimits' hour (5) for 100,000 users.
      for (let i = 1; i <= 100_000; i++) {
        yield* limiter.consume({ key: `telegram:chat:${i}`, algorithm: "token-bucket", onExceeded: "delay", limit: 3, window: "3 seconds" })
        yield* limiter.consume({ key: `confession-hour:${i}`, algorithm: "fixed-window", onExceeded: "fail", limit: 5, window: "1 hour" })
      }
      assert.strictEqual(yield* bounded.size, 200_000)
      yield* TestClock.adjust("1 minute") // first sweep: every chat bucket has refilled
      assert.strictEqual(yield* bounded.size, 100_000)
      assert.strictEqual((yield* Metric.value(entriesGauge)).value, 100_000)
      // Effect's fixed window holds each token for window / limit: one confession of five per hour, 12 minutes.
      yield* TestClock.adjust("10 minutes") // t = 11 min
      assert.strictEqual(yield* bounded.size, 100_000)
      yield* TestClock.adjust("1 minute") // t = 12 min: the sweep then removes them all
      assert.strictEqual(yield* bounded.size, 0)
      assert.strictEqual((yield* Metric.value(entriesGauge)).value, 0)
    }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("sweep - keeps a bucket until it has refilled, then the key answers as a new one", () =>
    Effect.gen(function* () {
      const { limiter, context } = yield* limiterOn(RateLimiterStoreMemory.layer({ sweepInterval: "1 hour" }))
      const bounded = Context.get(context, RateLimiterStoreMemory)
      const chat = { key: "telegram:chat:7", algorithm: "token-bucket", onExceeded: "delay", limit: 3, window: "3 seconds" } as const
      for (let i = 0; i < 4; i++) yield* limiter.consume(chat) // one over: remaining −1, waits 1 s
      yield* TestClock.adjust("3999 millis") // 1 ms short of the refill to 3
      assert.strictEqual(yield* bounded.sweep, 0)
      assert.deepStrictEqual(yield* outcome(limiter, chat), ["ok", 0, 3, 1, 1001])
      yield* TestClock.adjust("2001 millis") // full again
      assert.strictEqual(yield* bounded.sweep, 1)
      assert.strictEqual(yield* bounded.size, 0)
      assert.deepStrictEqual(yield* outcome(limiter, chat), ["ok", 0, 3, 2, 1000])
    }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("layer - refuses a zero sweep interval", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(RateLimiterStoreMemory.layer({ sweepInterval: "0 seconds" }))))
      assert.isTrue(Exit.hasDies(exit))
    }))
})
