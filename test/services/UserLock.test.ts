// Per-user leases in Redis, each "process" a UserLock on a connection of its own (the machine's shared Redis, keys
// under a fresh prefix, deleted afterwards). Waiting for a lease is real time (it polls Redis); expiry is Redis's own
// clock, so the tests check the lease's TTL rather than wait it out, and drive the renewal with the TestClock.
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Metric, Scope } from "effect"
import { Redis } from "effect/persistence"
import { TestClock } from "effect/testing"
import { lostTotal as lostCounter, UserLock, type UserLockRedisOptions } from "../../src/services/UserLock.ts"
import * as TestRedis from "../support/TestRedis.ts"

const process = (options: UserLockRedisOptions) =>
  Effect.map(Layer.build(UserLock.layerRedis(options).pipe(Layer.provide(TestRedis.connection()))), (context) =>
    Context.get(context, UserLock)
  )

/** A raw connection that deletes the prefix's keys when the test's scope closes. */
const raw = (prefix: string) =>
  Effect.map(
    Layer.build(TestRedis.dropOnClose(prefix).pipe(Layer.provideMerge(TestRedis.connection()))),
    (context) => Context.get(context, Redis.Redis)
  )

/** Holds `key` until the returned scope is closed. */
const holding = (lock: UserLock["Service"], key: string) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    yield* Scope.provide(lock.hold(key), scope)
    return scope
  })

describe("UserLock", () => {
  it.live("hold - a second process waits until the first releases; then it holds the lease", () =>
    Effect.gen(function* () {
      const prefix = TestRedis.freshPrefix()
      yield* raw(prefix)
      const a = yield* process({ prefix })
      const b = yield* process({ prefix })
      const first = yield* holding(a, "u1")
      const acquired = yield* Deferred.make<void>()
      const second = yield* Effect.forkChild(
        Effect.gen(function* () {
          const scope = yield* holding(b, "u1")
          yield* Deferred.succeed(acquired, undefined)
          return scope
        })
      )
      yield* Effect.sleep("150 millis")
      assert.isFalse(yield* Deferred.isDone(acquired), "b waits while a holds u1")
      // Another user's lease is independent.
      yield* Scope.close(yield* holding(b, "u2"), Exit.void)
      yield* Scope.close(first, Exit.void)
      const scope = yield* Fiber.join(second)
      assert.isTrue(yield* Deferred.isDone(acquired))
      yield* Scope.close(scope, Exit.void)
    }), { timeout: 20_000 })

  it.live("hold - gives up with Busy after maxWait while another process keeps the lease", () =>
    Effect.gen(function* () {
      const prefix = TestRedis.freshPrefix()
      yield* raw(prefix)
      const a = yield* process({ prefix })
      const b = yield* process({ prefix, maxWait: "200 millis" })
      yield* holding(a, "u1")
      const error = yield* Effect.flip(Effect.scoped(b.hold("u1")))
      assert.strictEqual(error.reason, "Busy")
    }), { timeout: 20_000 })

  it.live("hold - the lease expires by itself (a dead process frees it) and is released only by its holder", () =>
    Effect.gen(function* () {
      const prefix = TestRedis.freshPrefix()
      const redis = yield* raw(prefix)
      const a = yield* process({ prefix, ttl: "10 seconds" })
      const scope = yield* holding(a, "u1")
      const ttl = yield* redis.send<number>("PTTL", `${prefix}u1`)
      assert.isAbove(ttl, 0, "the key expires")
      assert.isAtMost(ttl, 10_000)
      // Someone else's lease now (as after an expiry): a's late release must not delete it.
      yield* redis.send("SET", `${prefix}u1`, "someone-else")
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(yield* redis.send<string | null>("GET", `${prefix}u1`), "someone-else")
    }), { timeout: 20_000 })

  it.effect("hold - renews the lease every ttl/3 while held; a lease taken over is counted as lost", () =>
    Effect.gen(function* () {
      const prefix = TestRedis.freshPrefix()
      const redis = yield* raw(prefix)
      const a = yield* process({ prefix, ttl: "9 seconds" })
      const scope = yield* holding(a, "u1")
      yield* redis.send("PEXPIRE", `${prefix}u1`, "2000")
      yield* TestClock.adjust("3 seconds")
      yield* Effect.yieldNow
      // The renewal round trip is real; wait for it without moving the test clock.
      let ttl = 0
      for (let i = 0; i < 100 && ttl <= 2000; i++) {
        ttl = yield* redis.send<number>("PTTL", `${prefix}u1`)
        if (ttl <= 2000) yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
      }
      assert.isAbove(ttl, 8000, "renewed to the full ttl")
      yield* redis.send("SET", `${prefix}u1`, "someone-else")
      yield* TestClock.adjust("3 seconds")
      let lost = 0
      for (let i = 0; i < 100 && lost === 0; i++) {
        lost = (yield* Metric.value(lostCounter)).count
        if (lost === 0) yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
      }
      assert.strictEqual(lost, 1)
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())), { timeout: 20_000 })
})
