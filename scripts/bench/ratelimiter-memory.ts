// Memory of the rate limiter's in-memory store (issue 12, item 10): Effect's `RateLimiter.layerStoreMemory` against
// our bounded RateLimiterStoreMemory. Each gets 100,000 private chats (Telegram's 3-per-3-s token bucket) and 100,000
// confessing users (ConfessionLimits' hour, a fixed window): heap before, after the 200,000 keys, and after time
// has moved past every window and a sweep ran (on a TestClock, so the script takes seconds, not an hour).
//
//   node scripts/bench/ratelimiter-memory.ts          (re-runs itself with --expose-gc when `gc` is not exposed)
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Context, Effect, Layer } from "effect"
import { RateLimiter } from "effect/persistence"
import { TestClock } from "effect/testing"
import { RateLimiterStoreMemory } from "../../src/services/RateLimiterStoreMemory.ts"

const keys = 100_000

// `gc` exists only under --expose-gc.
const gc = (globalThis as { gc?: () => void }).gc

const heapAfterGc = (collect: () => void) =>
  Effect.sync(() => {
    for (let i = 0; i < 4; i++) collect()
    return process.memoryUsage().heapUsed
  })

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`

const measure = (name: string, store: Layer.Layer<RateLimiter.RateLimiterStore>, collect: () => void) =>
  Effect.scoped(
    Effect.gen(function* () {
      const before = yield* heapAfterGc(collect)
      const context = yield* Layer.build(Layer.provideMerge(RateLimiter.layer, store))
      const limiter = Context.get(context, RateLimiter.RateLimiter)
      const bounded = Context.getOption(context as Context.Context<unknown>, RateLimiterStoreMemory)
      for (let i = 1; i <= keys; i++) {
        yield* limiter.consume({ key: `telegram:chat:${i}`, algorithm: "token-bucket", onExceeded: "delay", limit: 3, window: "3 seconds" })
        yield* limiter.consume({ key: `confession-hour:${i}`, algorithm: "fixed-window", onExceeded: "fail", limit: 5, window: "1 hour" })
      }
      const filled = yield* heapAfterGc(collect)
      // Past every window (a fixed window of 5 per hour holds one token for 12 minutes); our sweep runs each minute.
      yield* TestClock.adjust("2 hours")
      const swept = yield* heapAfterGc(collect)
      const held = bounded._tag === "Some" ? String(yield* bounded.value.size) : "not exposed"
      yield* Effect.sync(() =>
        console.log(
          `${name.padEnd(28)} before ${megabytes(before).padStart(9)}   after ${2 * keys} keys ${megabytes(filled).padStart(9)} ` +
            `(+${megabytes(filled - before)})   after the windows + sweep ${megabytes(swept).padStart(9)} ` +
            `(+${megabytes(swept - before)}; entries held: ${held})`
        )
      )
    })
  ).pipe(Effect.provide(TestClock.layer()))

if (gc === undefined) {
  const child = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: "inherit"
  })
  process.exitCode = child.status ?? 1
} else {
  // A script entry point: the one place a run function is allowed.
  void Effect.runPromise(
    Effect.andThen(
      measure("effect layerStoreMemory", RateLimiter.layerStoreMemory, gc),
      measure("RateLimiterStoreMemory", RateLimiterStoreMemory.layer(), gc)
    )
  )
}
