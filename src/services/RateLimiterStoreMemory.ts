// A bounded in-memory store for Effect's RateLimiter: the same answers as `RateLimiter.layerStoreMemory`, but an
// entry is dropped once it can no longer change one (a fixed window that ended, a token bucket that has refilled, an
// adaptive state past its expiry), by a sweep fiber in the layer's scope. Effect's own store keeps one entry per key
// forever: one per private chat the bot ever wrote to and one per user who ever confessed.
import { Cause, Clock, Context, Duration, Effect, Layer, Metric, Schedule } from "effect"
import { RateLimiter } from "effect/persistence"

export interface RateLimiterStoreMemoryOptions {
  /** Time between two sweeps; default 1 minute. Memory holds the keys used within the longest window plus this. */
  readonly sweepInterval?: Duration.Input | undefined
}

/** The store's own face, next to the `RateLimiterStore` it provides: its size, and one sweep on demand. */
export class RateLimiterStoreMemory extends Context.Service<
  RateLimiterStoreMemory,
  {
    /** Entries held: fixed windows, token buckets and adaptive states together. */
    readonly size: Effect.Effect<number>
    /** Removes every entry that can no longer change an answer; returns how many it removed. */
    readonly sweep: Effect.Effect<number>
  }
>()("confessions/services/RateLimiterStoreMemory") {
  /** Provides `RateLimiter.RateLimiterStore` (what `RateLimiter.layer` needs) and this service. */
  static readonly layer = (
    options: RateLimiterStoreMemoryOptions = {}
  ): Layer.Layer<RateLimiter.RateLimiterStore | RateLimiterStoreMemory> => Layer.effectContext(make(options))
}

/** Entries held, set after every sweep. */
export const entriesGauge = Metric.gauge("confessions_ratelimiter_entries", {
  description: "Rate-limiter entries (windows, buckets) held in memory"
})

// Mirrors effect 4.1.0's `layerStoreMemory` (effect/dist/persistence/RateLimiter.js) step for step, so that every
// answer is the same; test/services/RateLimiterStoreMemory.test.ts runs both side by side to hold it to that.
// What is new: buckets remember the limit and refill rate of their last use, so the sweep can tell when one has
// refilled. A key is assumed to keep its limit and window (true of every caller here, and the assumption the Redis
// store's key expiry makes too).

interface FixedWindow {
  count: number
  expiresAt: number
}

interface TokenBucket {
  tokens: number
  lastRefill: number
  limit: number
  refillRateMillis: number
}

interface AdaptiveState {
  phase: RateLimiter.AdaptivePhase
  epoch: number
  cooldownUntil: number
  learningStartedAt: number
  observedTokens: number
  learnedLimit: number
  learnedWindowMillis: number
  expiresAt: number
}

const adaptiveStateTtlGraceMillis = 60_000
const adaptiveStateMaxWindowMillis = 60 * 60 * 1_000

const clampAdaptiveDurationMillis = (millis: number) => {
  if (Number.isNaN(millis) || millis <= 0) return 1
  return Math.min(millis, adaptiveStateMaxWindowMillis)
}

/**
 * Whether a bucket answers at `now` exactly as a missing one would: refilled to its limit, so the next use resets
 * `lastRefill` to now. The same arithmetic as the refill in `tokenBucket`, so no rounding can disagree with it.
 */
const isRefilled = (bucket: TokenBucket, now: number) => {
  const tokensToAdd = Math.floor((now - bucket.lastRefill) / bucket.refillRateMillis)
  const tokens = tokensToAdd > 0 ? Math.min(bucket.limit, bucket.tokens + tokensToAdd) : bucket.tokens
  return tokens === bucket.limit
}

const make = Effect.fnUntraced(function* (options: RateLimiterStoreMemoryOptions) {
  const interval = Duration.fromInputUnsafe(options.sweepInterval ?? "1 minute")
  if (!Duration.isFinite(interval) || !Duration.isGreaterThan(interval, Duration.zero)) {
    return yield* Effect.die(new RangeError("RateLimiterStoreMemory: sweepInterval must be positive and finite"))
  }
  // Plain Maps mutated only inside `Effect.sync` steps: JavaScript runs one such step at a time, so each is atomic
  // with respect to the others (the same reasoning as Effect's store).
  const fixedCounters = new Map<string, FixedWindow>()
  const tokenBuckets = new Map<string, TokenBucket>()
  const adaptiveStates = new Map<string, AdaptiveState>()

  const getAdaptiveState = (key: string, now: number) => {
    const state = adaptiveStates.get(key)
    if (!state) return undefined
    if (state.expiresAt <= now) {
      adaptiveStates.delete(key)
      return undefined
    }
    return state
  }
  const cooldownExpiresAt = (cooldownUntil: number) => cooldownUntil + adaptiveStateTtlGraceMillis
  const learningExpiresAt = (now: number, fallbackWindow: Duration.Duration) =>
    now + Duration.toMillis(fallbackWindow) + adaptiveStateTtlGraceMillis
  const learnedExpiresAt = (now: number, learnedWindowMillis: number) =>
    now + learnedWindowMillis + adaptiveStateTtlGraceMillis

  const size = Effect.sync(() => fixedCounters.size + tokenBuckets.size + adaptiveStates.size)

  const sweep = Clock.clockWith((clock) =>
    Effect.sync(() => {
      const now = clock.currentTimeMillisUnsafe()
      let removed = 0
      // Deleting the current key while iterating a Map is safe.
      for (const [key, counter] of fixedCounters) {
        if (counter.expiresAt <= now) {
          fixedCounters.delete(key)
          removed++
        }
      }
      for (const [key, bucket] of tokenBuckets) {
        if (isRefilled(bucket, now)) {
          tokenBuckets.delete(key)
          removed++
        }
      }
      for (const [key, state] of adaptiveStates) {
        if (state.expiresAt <= now) {
          adaptiveStates.delete(key)
          removed++
        }
      }
      return removed
    })
  ).pipe(
    Effect.tap((removed) =>
      Effect.flatMap(size, (held) =>
        Effect.andThen(
          Metric.update(entriesGauge, held),
          Effect.logDebug(`rate limiter sweep: removed ${removed}, ${held} held`)
        )
      )
    )
  )

  // Interruption (the layer's scope closing) ends the loop; nothing else can fail here, but a defect must not end
  // the sweeping silently.
  const sweepLogged = sweep.pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause) : Effect.logError("rate limiter sweep failed", cause)
    )
  )
  yield* Effect.sleep(interval).pipe(
    Effect.andThen(Effect.repeat(sweepLogged, Schedule.spaced(interval))),
    Effect.forkScoped
  )

  const store = RateLimiter.RateLimiterStore.of({
    fixedWindow: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync((): readonly [count: number, ttl: number] => {
          const refillRateMillis = Duration.toMillis(options.refillRate)
          const now = clock.currentTimeMillisUnsafe()
          let counter = fixedCounters.get(options.key)
          if (!counter || counter.expiresAt <= now) {
            counter = { count: 0, expiresAt: now }
            fixedCounters.set(options.key, counter)
          }
          if (options.limit && counter.count + options.tokens > options.limit) {
            return [counter.count + options.tokens, counter.expiresAt - now]
          }
          counter.count += options.tokens
          counter.expiresAt += refillRateMillis * options.tokens
          return [counter.count, counter.expiresAt - now]
        })
      ),
    tokenBucket: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync((): readonly [remaining: number, elapsedMillis: number] => {
          const refillRateMillis = Duration.toMillis(options.refillRate)
          const now = clock.currentTimeMillisUnsafe()
          let bucket = tokenBuckets.get(options.key)
          if (!bucket) {
            bucket = { tokens: options.limit, lastRefill: now, limit: options.limit, refillRateMillis }
            tokenBuckets.set(options.key, bucket)
          }
          bucket.limit = options.limit
          bucket.refillRateMillis = refillRateMillis
          const tokensToAdd = Math.floor((now - bucket.lastRefill) / refillRateMillis)
          if (tokensToAdd > 0) {
            bucket.tokens = Math.min(options.limit, bucket.tokens + tokensToAdd)
            bucket.lastRefill += tokensToAdd * refillRateMillis
          }
          if (bucket.tokens >= options.limit) {
            bucket.lastRefill = now
          }
          const newTokenCount = bucket.tokens - options.tokens
          if (options.allowOverflow || newTokenCount >= 0) {
            bucket.tokens = newTokenCount
          }
          return [newTokenCount, Math.max(0, now - bucket.lastRefill)]
        })
      ),
    adaptiveConsume: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync((): RateLimiter.AdaptiveConsumeResult => {
          const now = clock.currentTimeMillisUnsafe()
          const state = getAdaptiveState(options.key, now)
          if (!state) return { delay: Duration.zero, epoch: 0, phase: "inactive" }
          if (state.phase === "cooldown") {
            if (state.cooldownUntil > now) {
              return { delay: Duration.millis(state.cooldownUntil - now), epoch: state.epoch, phase: "cooldown" }
            }
            state.phase = "learning"
            state.epoch += 1
            state.learningStartedAt = now
            state.observedTokens = options.tokens
            state.expiresAt = learningExpiresAt(now, options.fallbackWindow)
            return { delay: Duration.zero, epoch: state.epoch, phase: "learning" }
          }
          if (state.phase === "learning") {
            state.observedTokens += options.tokens
            return { delay: Duration.zero, epoch: state.epoch, phase: state.phase }
          }
          if (state.phase === "learned") {
            const refillRateMillis = state.learnedWindowMillis / state.learnedLimit
            if (state.cooldownUntil <= now) {
              state.observedTokens = 0
              state.cooldownUntil = now
            }
            state.observedTokens += options.tokens
            state.cooldownUntil += refillRateMillis * options.tokens
            const ttl = state.cooldownUntil - now
            const ttlTotal = state.observedTokens * refillRateMillis
            const elapsed = ttlTotal - ttl
            const windowNumber = Math.floor((state.observedTokens - 1) / state.learnedLimit)
            const remaining = windowNumber * state.learnedWindowMillis - elapsed
            return {
              delay: remaining <= 0 ? Duration.zero : Duration.millis(remaining),
              epoch: state.epoch,
              phase: state.phase
            }
          }
          return { delay: Duration.zero, epoch: state.epoch, phase: state.phase }
        })
      ),
    adaptiveFeedback: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          if (options.status !== 429 || options.retryAfter === undefined) return
          const retryAfterMillis = clampAdaptiveDurationMillis(Duration.toMillis(options.retryAfter))
          const now = clock.currentTimeMillisUnsafe()
          const cooldownUntil = now + retryAfterMillis
          const state = getAdaptiveState(options.key, now)
          if (!state) {
            if (options.epoch !== 0) return
            adaptiveStates.set(options.key, {
              phase: "cooldown",
              epoch: 0,
              cooldownUntil,
              learningStartedAt: 0,
              observedTokens: 0,
              learnedLimit: 0,
              learnedWindowMillis: 0,
              expiresAt: cooldownExpiresAt(cooldownUntil)
            })
            return
          }
          if (state.epoch !== options.epoch) return
          if (state.phase === "cooldown") {
            state.cooldownUntil = Math.max(state.cooldownUntil, cooldownUntil)
            state.expiresAt = cooldownExpiresAt(state.cooldownUntil)
            return
          }
          if (state.phase === "learning") {
            const acceptedTokens = state.observedTokens - options.tokens
            if (acceptedTokens <= 0) {
              resetToCooldown(state, cooldownUntil)
              state.expiresAt = cooldownExpiresAt(cooldownUntil)
              return
            }
            const learnedWindowMillis = clampAdaptiveDurationMillis(now - state.learningStartedAt + retryAfterMillis)
            state.phase = "learned"
            state.epoch += 1
            state.cooldownUntil = state.learningStartedAt + learnedWindowMillis
            state.observedTokens = acceptedTokens
            state.learnedLimit = acceptedTokens
            state.learnedWindowMillis = learnedWindowMillis
            state.expiresAt = learnedExpiresAt(now, learnedWindowMillis)
            return
          }
          if (state.phase === "learned") {
            resetToCooldown(state, cooldownUntil)
            state.expiresAt = cooldownExpiresAt(cooldownUntil)
          }
        })
      )
  })

  return Context.make(RateLimiter.RateLimiterStore, store).pipe(
    Context.add(RateLimiterStoreMemory, RateLimiterStoreMemory.of({ size, sweep }))
  )
})

const resetToCooldown = (state: AdaptiveState, cooldownUntil: number) => {
  state.phase = "cooldown"
  state.cooldownUntil = cooldownUntil
  state.learningStartedAt = 0
  state.observedTokens = 0
  state.learnedLimit = 0
  state.learnedWindowMillis = 0
}
