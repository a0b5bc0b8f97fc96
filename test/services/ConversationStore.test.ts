import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Latch, Layer, Logger, Metric, Option, Scope } from "effect"
import { Redis } from "effect/persistence"
import { TestClock } from "effect/testing"
import { AppConfig } from "../../src/AppConfig.ts"
import * as Conversation from "../../src/domain/Conversation.ts"
import { ConfessionId, UserId } from "../../src/domain/Ids.ts"
import {
  ConversationStore,
  type ConversationStoreOptions,
  entriesGauge,
  evictionsCounter,
  expirationsCounter,
  sweepDuration
} from "../../src/services/ConversationStore.ts"
import * as ConversationStoreRedis from "../../src/services/ConversationStoreRedis.ts"
import * as TestRedis from "../support/TestRedis.ts"

const user = (n: number) => UserId.make(n)
const options: ConversationStoreOptions = { ttl: "10 minutes", maxEntries: 100, sweepInterval: "60 seconds" }

/** What a test sees of the logs: every message, and a way to wait for the background sweep to have logged. */
interface Logs {
  readonly lines: Array<string>
  /**
   * Waits until `count` sweep lines were logged and returns them all. The memory store's sweep has finished when
   * `TestClock.adjust` returns; the Redis store's is still waiting for its round trip.
   */
  readonly sweeps: (count: number) => Effect.Effect<ReadonlyArray<string>>
}

const sweepLines = (lines: ReadonlyArray<string>) => lines.filter((line) => line.startsWith("state sweep:"))

/** Runs `body` with a fresh metric registry and a logger that keeps every message, so each test sees only its own. */
const withObservability = <A, E, R>(body: (logs: Logs) => Effect.Effect<A, E, R>) => {
  const lines: Array<string> = []
  const logged = Latch.makeUnsafe()
  const capture = Logger.make((entry) => {
    lines.push((entry.message as ReadonlyArray<unknown>).map(String).join(" "))
    Latch.openUnsafe(logged)
  })
  const sweeps = (count: number): Effect.Effect<ReadonlyArray<string>> =>
    Effect.gen(function* () {
      while (true) {
        Latch.closeUnsafe(logged)
        const found = sweepLines(lines)
        if (found.length >= count) return found
        yield* logged.await
      }
    }).pipe(
      // A guard on the real clock so a sweep that never comes fails the test with a message instead of hanging.
      Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.die(new Error(`waited for ${count} sweeps`)) }),
      TestClock.withLive
    )
  return body({ lines, sweeps }).pipe(
    Effect.provide(Logger.layer([capture])),
    Effect.provideService(Metric.MetricRegistry, new Map())
  )
}

/** Builds a store with given settings; the behaviours below run against each. */
type MakeStore = (options: ConversationStoreOptions) => Layer.Layer<ConversationStore, unknown>

/** The same settings from the environment, as App builds it. */
type MakeConfigured = Layer.Layer<ConversationStore, unknown, AppConfig>

const memoryStore: MakeStore = ConversationStore.layer

/** A Redis store under a prefix of its own, on a connection of its own; its keys are deleted when it closes. */
const redisStore = (options: ConversationStoreRedis.ConversationStoreRedisOptions) => {
  const prefix = options.prefix ?? TestRedis.freshPrefix()
  return ConversationStoreRedis.layer({ ...options, prefix }).pipe(
    Layer.provideMerge(TestRedis.dropOnClose(prefix)),
    Layer.provide(TestRedis.connection())
  )
}

const redisConfigured: MakeConfigured = Layer.unwrap(
  Effect.sync(() => {
    const prefix = TestRedis.freshPrefix()
    return ConversationStoreRedis.layerConfig({ prefix }).pipe(
      Layer.provideMerge(TestRedis.dropOnClose(prefix)),
      Layer.provide(TestRedis.connection())
    )
  })
)

const previewText = (state: Option.Option<Conversation.Conversation>) =>
  Option.getOrUndefined(Option.filter(state, Conversation.Conversation.guards.ConfessionPreview))?.text

const increment = (current: Option.Option<Conversation.Conversation>) =>
  Option.some(Conversation.confessionPreview(String(Number(previewText(current) ?? "0") + 1), true))

/** The behaviours both layers promise; `name` says which layer runs them. */
const behaviours = (name: string, makeStore: MakeStore, makeConfigured: MakeConfigured) =>
  describe(`ConversationStore (${name})`, () => {
    /** Runs `body` against a store built by the layer with `overrides`, inside the test's observability. */
    const withStore = <A, E>(
      overrides: Partial<ConversationStoreOptions>,
      body: (store: ConversationStore["Service"], logs: Logs) => Effect.Effect<A, E>
    ) =>
      withObservability((logs) =>
        Effect.gen(function* () {
          const store = yield* ConversationStore
          return yield* body(store, logs)
        }).pipe(Effect.provide(makeStore({ ...options, ...overrides })))
      )

    it.effect("get/set/clear - stores, replaces and forgets a user's flow", () =>
      withStore({}, (store) =>
        Effect.gen(function* () {
          assert.isTrue(Option.isNone(yield* store.get(user(1))))
          yield* store.set(user(1), Conversation.awaitingConfession)
          yield* store.set(user(2), Conversation.awaitingComment(ConfessionId.make(5)))
          assert.deepStrictEqual(yield* store.get(user(1)), Option.some(Conversation.awaitingConfession))
          yield* store.set(user(1), Conversation.confessionPreview("hello", true))
          assert.deepStrictEqual(yield* store.get(user(1)), Option.some(Conversation.confessionPreview("hello", true)))
          assert.strictEqual(yield* store.size, 2)
          assert.isTrue(yield* store.clear(user(1)))
          assert.isFalse(yield* store.clear(user(1)))
          assert.isTrue(Option.isNone(yield* store.get(user(1))))
          assert.deepStrictEqual(yield* store.get(user(2)), Option.some(Conversation.awaitingComment(ConfessionId.make(5))))
          assert.strictEqual(yield* store.size, 1)
          assert.strictEqual((yield* Metric.value(entriesGauge)).value, 1)
        })))

    it.effect("update - sees the current flow, stores Some, removes on None", () =>
      withStore({}, (store) =>
        Effect.gen(function* () {
          const seen: Array<Option.Option<Conversation.Conversation>> = []
          const created = yield* store.update(user(1), (current) => {
            seen.push(current)
            return Option.some(Conversation.confessionPreview("draft", true))
          })
          assert.deepStrictEqual(created, Option.some(Conversation.confessionPreview("draft", true)))
          const toggled = yield* store.update(user(1), (current) => {
            seen.push(current)
            return Option.flatMap(current, (state) =>
              state._tag === "ConfessionPreview"
                ? Option.some(Conversation.confessionPreview(state.text, !state.anonymous))
                : Option.none())
          })
          assert.deepStrictEqual(toggled, Option.some(Conversation.confessionPreview("draft", false)))
          assert.deepStrictEqual(seen, [Option.none(), Option.some(Conversation.confessionPreview("draft", true))])
          assert.deepStrictEqual(yield* store.get(user(1)), toggled)
          assert.isTrue(Option.isNone(yield* store.update(user(1), () => Option.none())))
          assert.isTrue(Option.isNone(yield* store.get(user(1))))
          assert.strictEqual(yield* store.size, 0)
        })))

    it.effect("get - an entry is visible at TTL − 1 ms and gone at exactly TTL, counted as one expiration", () =>
      withStore({ ttl: "10 minutes", sweepInterval: "1 hour" }, (store) =>
        Effect.gen(function* () {
          yield* store.set(user(1), Conversation.awaitingFeedback)
          yield* TestClock.adjust("599999 millis")
          assert.deepStrictEqual(yield* store.get(user(1)), Option.some(Conversation.awaitingFeedback))
          assert.strictEqual((yield* Metric.value(expirationsCounter)).count, 0)
          yield* TestClock.adjust("1 millis")
          assert.isTrue(Option.isNone(yield* store.get(user(1))))
          assert.isTrue(Option.isNone(yield* store.get(user(1))))
          assert.isFalse(yield* store.clear(user(1)))
          assert.strictEqual(yield* store.size, 0)
          assert.deepStrictEqual(yield* store.sweep, { removed: 0, active: 0 })
          assert.strictEqual((yield* Metric.value(expirationsCounter)).count, 1)
        })))

    it.effect("clear / update - an expired entry is invisible to them too", () =>
      withStore({ ttl: "1 minute", sweepInterval: "1 hour" }, (store) =>
        Effect.gen(function* () {
          yield* store.set(user(1), Conversation.awaitingConfession)
          yield* store.set(user(2), Conversation.awaitingConfession)
          yield* TestClock.adjust("1 minute")
          assert.isFalse(yield* store.clear(user(1)))
          const seen: Array<Option.Option<Conversation.Conversation>> = []
          yield* store.update(user(2), (current) => {
            seen.push(current)
            return current
          })
          assert.deepStrictEqual(seen, [Option.none()])
          assert.strictEqual((yield* Metric.value(expirationsCounter)).count, 2)
        })))

    it.effect("set / update - a write extends the entry's life; a read does not", () =>
      withStore({ ttl: "10 minutes", sweepInterval: "1 hour" }, (store) =>
        Effect.gen(function* () {
          yield* store.set(user(1), Conversation.awaitingConfession)
          yield* store.set(user(2), Conversation.awaitingConfession)
          yield* store.set(user(3), Conversation.awaitingConfession)
          yield* TestClock.adjust("9 minutes")
          yield* store.set(user(1), Conversation.confessionPreview("again", true)) // touched at 9 min
          yield* store.update(user(2), (current) => current) // touched at 9 min
          assert.isTrue(Option.isSome(yield* store.get(user(3)))) // read at 9 min: not a touch
          yield* TestClock.adjust("1 minute") // t = 10 min
          assert.isTrue(Option.isNone(yield* store.get(user(3))))
          assert.isTrue(Option.isSome(yield* store.get(user(1))))
          assert.isTrue(Option.isSome(yield* store.get(user(2))))
          yield* TestClock.adjust("539999 millis") // t = 19 min − 1 ms: 9 min 59.999 s after the touch
          assert.isTrue(Option.isSome(yield* store.get(user(1))))
          assert.isTrue(Option.isSome(yield* store.get(user(2))))
          yield* TestClock.adjust("1 millis") // t = 19 min: exactly TTL after the touch
          assert.isTrue(Option.isNone(yield* store.get(user(1))))
          assert.isTrue(Option.isNone(yield* store.get(user(2))))
        })))

    it.effect("sweep - runs once per interval, removes expired entries and logs the counts", () =>
      withStore({ ttl: "90 seconds", sweepInterval: "60 seconds" }, (store, logs) =>
        Effect.gen(function* () {
          yield* store.set(user(1), Conversation.awaitingConfession) // t = 0, expires at 90 s
          yield* TestClock.adjust("45 seconds")
          yield* store.set(user(2), Conversation.awaitingFeedback) // t = 45 s, expires at 135 s
          yield* TestClock.adjust("14 seconds") // t = 59 s
          assert.deepStrictEqual(sweepLines(logs.lines), [])
          yield* TestClock.adjust("1 second") // t = 60 s: first sweep
          assert.deepStrictEqual(yield* logs.sweeps(1), ["state sweep: removed 0 expired, 2 active"])
          yield* TestClock.adjust("60 seconds") // t = 120 s
          assert.deepStrictEqual((yield* logs.sweeps(2)).slice(1), ["state sweep: removed 1 expired, 1 active"])
          assert.strictEqual(yield* store.size, 1)
          yield* TestClock.adjust("60 seconds") // t = 180 s
          assert.deepStrictEqual((yield* logs.sweeps(3)).slice(2), ["state sweep: removed 1 expired, 0 active"])
          assert.strictEqual(yield* store.size, 0)
          assert.strictEqual((yield* Metric.value(expirationsCounter)).count, 2)
          assert.strictEqual((yield* Metric.value(entriesGauge)).value, 0)
          assert.strictEqual((yield* Metric.value(sweepDuration)).count, 3)
        })))

    it.effect("sweep - stops at the first unexpired entry, in activity order", () =>
      withStore({ ttl: "10 minutes", sweepInterval: "1 hour" }, (store) =>
        Effect.gen(function* () {
          for (const n of [1, 2, 3, 4]) {
            yield* store.set(user(n), Conversation.awaitingConfession)
            yield* TestClock.adjust("1 minute")
          }
          yield* store.set(user(1), Conversation.awaitingFeedback) // t = 4 min: user 1 is now the most recent
          yield* TestClock.adjust("9 minutes") // t = 13 min: users 2, 3, 4 (written at 1, 2, 3 min) expired; 1 did not
          assert.deepStrictEqual(yield* store.sweep, { removed: 3, active: 1 })
          assert.deepStrictEqual(yield* store.get(user(1)), Option.some(Conversation.awaitingFeedback))
        })))

    it.effect("sweep - the fiber stops when the layer's scope closes", () =>
      withObservability((logs) =>
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          const context = yield* Layer.buildWithScope(makeStore(options), scope)
          const store = Context.get(context, ConversationStore)
          yield* store.set(user(1), Conversation.awaitingConfession)
          yield* TestClock.adjust("1 minute")
          yield* logs.sweeps(1)
          yield* TestClock.adjust("1 minute")
          assert.strictEqual((yield* logs.sweeps(2)).length, 2)
          yield* Scope.close(scope, Exit.void)
          yield* TestClock.adjust("10 minutes")
          assert.strictEqual(sweepLines(logs.lines).length, 2)
        })))

    it.effect("set - 10× the cap of distinct users: size never exceeds the cap, the least recently active go first", () =>
      withStore({ maxEntries: 100 }, (store) =>
        Effect.gen(function* () {
          // Reference model: user ids in activity order, least recent first.
          let model: Array<number> = []
          let inserted = 0
          const touch = (n: number) => {
            model = model.filter((m) => m !== n)
            model.push(n)
            if (model.length > 100) model.shift()
          }
          for (let i = 0; i < 1000; i++) {
            inserted++
            yield* store.set(user(inserted), Conversation.awaitingComment(ConfessionId.make(inserted)))
            touch(inserted)
            // Every third step also touches someone from the older half, so recency differs from insertion order.
            if (i % 3 === 0) {
              const older = model[Math.floor(model.length / 3)] ?? inserted
              yield* store.update(user(older), (current) => current)
              touch(older)
            }
            assert.isAtMost(yield* store.size, 100)
            if (i % 100 === 0) yield* TestClock.adjust("1 second")
          }
          const present: Array<number> = []
          for (let n = 1; n <= inserted; n++) {
            if (Option.isSome(yield* store.get(user(n)))) present.push(n)
          }
          assert.deepStrictEqual(present, [...model].sort((a, b) => a - b))
          assert.strictEqual(yield* store.size, 100)
          assert.strictEqual((yield* Metric.value(evictionsCounter)).count, 900)
          assert.strictEqual((yield* Metric.value(entriesGauge)).value, 100)
        })))

    it.effect("set - a full store drops an expired front entry as an expiration, not an eviction", () =>
      withStore({ maxEntries: 2, ttl: "1 minute", sweepInterval: "1 hour" }, (store) =>
        Effect.gen(function* () {
          yield* store.set(user(1), Conversation.awaitingConfession)
          yield* TestClock.adjust("30 seconds")
          yield* store.set(user(2), Conversation.awaitingConfession)
          yield* TestClock.adjust("30 seconds") // user 1 expired, user 2 not
          yield* store.set(user(3), Conversation.awaitingConfession)
          yield* store.set(user(4), Conversation.awaitingConfession) // evicts user 2, still live
          assert.strictEqual((yield* Metric.value(expirationsCounter)).count, 1)
          assert.strictEqual((yield* Metric.value(evictionsCounter)).count, 1)
          assert.strictEqual(yield* store.size, 2)
          assert.isTrue(Option.isNone(yield* store.get(user(2))))
        })))

    it.effect("update - 1,000 concurrent increments to one user lose no write", () =>
      withStore({}, (store) =>
        Effect.gen(function* () {
          const results = yield* Effect.forEach(
            Array.from({ length: 1000 }, (_, i) => i),
            () => Effect.yieldNow.pipe(Effect.andThen(store.update(user(7), increment))),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(previewText(yield* store.get(user(7))), "1000")
          const returned = results.map((r) => Number(previewText(r))).sort((a, b) => a - b)
          assert.deepStrictEqual(returned, Array.from({ length: 1000 }, (_, i) => i + 1))
        })))

    it.effect("layer - refuses a cap below 1 or a zero sweep interval", () =>
      Effect.gen(function* () {
        const build = (overrides: Partial<ConversationStoreOptions>) =>
          Effect.exit(Effect.scoped(Layer.build(makeStore({ ...options, ...overrides }))))
        assert.isTrue(Exit.hasDies(yield* build({ maxEntries: 0 })))
        assert.isTrue(Exit.hasDies(yield* build({ sweepInterval: "0 seconds" })))
        assert.isTrue(Exit.isSuccess(yield* build({ maxEntries: 1 })))
      }))

    it.effect("layerConfig - takes TTL and cap from STATE_TTL and STATE_MAX_ENTRIES", () =>
      withObservability(() =>
        Effect.gen(function* () {
          const store = yield* ConversationStore
          for (const n of [1, 2, 3, 4]) yield* store.set(user(n), Conversation.awaitingConfession)
          assert.strictEqual(yield* store.size, 3)
          assert.isTrue(Option.isNone(yield* store.get(user(1))))
          yield* TestClock.adjust("4 minutes")
          assert.isTrue(Option.isSome(yield* store.get(user(4))))
          yield* TestClock.adjust("1 minute")
          assert.isTrue(Option.isNone(yield* store.get(user(4))))
        }).pipe(
          Effect.provide(
            makeConfigured.pipe(
              Layer.provide(
                AppConfig.layerFromEnv({
                  BOT_TOKEN: "123:test",
                  STATE_TTL: "5 minutes",
                  STATE_MAX_ENTRIES: "3",
                  STATE_SWEEP_INTERVAL: "10 seconds"
                })
              )
            )
          )
        )))
  })

behaviours("memory", memoryStore, ConversationStore.layerConfig)
behaviours("Redis", redisStore, redisConfigured)


describe("ConversationStore (Redis only)", () => {
  /**
   * One "process": a store on a connection of its own, sharing `prefix` with the others. The caller's scope owns it;
   * the keys are deleted when that scope closes (through a connection opened first, so closed last).
   */
  const processes = (prefix: string, count: number, overrides: Partial<ConversationStoreOptions> = {}) =>
    Effect.gen(function* () {
      yield* Layer.build(TestRedis.dropOnClose(prefix).pipe(Layer.provide(TestRedis.connection())))
      const stores: Array<ConversationStore["Service"]> = []
      for (let i = 0; i < count; i++) {
        const context = yield* Layer.build(ConversationStoreRedis.layer({ ...options, ...overrides, prefix }).pipe(
          Layer.provide(TestRedis.connection())
        ))
        stores.push(Context.get(context, ConversationStore))
      }
      return stores
    })

  /** A raw connection, for looking at (or spoiling) what the store keeps. */
  const raw = Effect.map(Layer.build(TestRedis.connection()), (context) => Context.get(context, Redis.Redis))

  it.effect("three processes writing at once: the shared total never exceeds the cap; the rest were evicted", () =>
    withObservability(() =>
      Effect.gen(function* () {
        const prefix = TestRedis.freshPrefix()
        const cap = 150
        const perProcess = 400
        const stores = yield* processes(prefix, 3, { maxEntries: cap })
        const redis = yield* raw
        let largest = 0
        yield* Effect.forEach(
          stores,
          (store, p) =>
            Effect.forEach(
              Array.from({ length: perProcess }, (_, i) => user(p * 10_000 + i + 1)),
              (u) =>
                Effect.gen(function* () {
                  yield* store.set(u, Conversation.awaitingComment(ConfessionId.make(u)))
                  const size = yield* store.size
                  largest = Math.max(largest, size)
                  assert.isAtMost(size, cap)
                }),
              { concurrency: 8, discard: true }
            ),
          { concurrency: "unbounded", discard: true }
        )
        assert.strictEqual(largest, cap)
        for (const store of stores) assert.strictEqual(yield* store.size, cap)
        // Both keys agree: every listed user has a state, and no state is left without its activity entry.
        assert.strictEqual(yield* redis.send<number>("HLEN", `${prefix}states`), cap)
        assert.strictEqual(yield* redis.send<number>("ZCARD", `${prefix}active`), cap)
        // Each of the 1,200 distinct writes beyond the cap pushed out exactly one live entry, counted once.
        assert.strictEqual((yield* Metric.value(evictionsCounter)).count, 3 * perProcess - cap)
        assert.strictEqual((yield* Metric.value(expirationsCounter)).count, 0)
        assert.deepStrictEqual((yield* TestRedis.keysUnder(redis, prefix)).sort(), [`${prefix}active`, `${prefix}states`])
      }).pipe(Effect.scoped)))

  it.effect("three processes: a flow started on one continues on another; concurrent updates lose no write", () =>
    withObservability(() =>
      Effect.gen(function* () {
        const [a, b, c] = yield* processes(TestRedis.freshPrefix(), 3)
        if (a === undefined || b === undefined || c === undefined) return assert.fail("three stores")
        yield* a.set(user(1), Conversation.awaitingComment(ConfessionId.make(9)))
        assert.deepStrictEqual(yield* b.get(user(1)), Option.some(Conversation.awaitingComment(ConfessionId.make(9))))
        assert.isTrue(yield* c.clear(user(1)))
        assert.isTrue(Option.isNone(yield* a.get(user(1))))
        // 3 × 200 increments of one user at once: within a process they queue, between processes the
        // conditional write makes the loser read again.
        const results = yield* Effect.forEach(
          [a, b, c].flatMap((store) => Array.from({ length: 200 }, () => store)),
          (store) => Effect.yieldNow.pipe(Effect.andThen(store.update(user(2), increment))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(previewText(yield* c.get(user(2))), "600")
        const returned = results.map((r) => Number(previewText(r))).sort((x, y) => x - y)
        assert.deepStrictEqual(returned, Array.from({ length: 600 }, (_, i) => i + 1))
      }).pipe(Effect.scoped)))

  it.effect("get / update - a stored value that does not decode reads as absent, is removed and logged", () =>
    withObservability((logs) =>
      Effect.gen(function* () {
        const prefix = TestRedis.freshPrefix()
        const [store] = yield* processes(prefix, 1)
        if (store === undefined) return assert.fail("one store")
        const redis = yield* raw
        const spoil = (n: number, value: string) =>
          Effect.andThen(
            redis.send("HSET", `${prefix}states`, String(n), value),
            redis.send("ZADD", `${prefix}active`, "0", String(n))
          )
        yield* spoil(1, "{not json")
        yield* spoil(2, JSON.stringify({ _tag: "AwaitingComment", confessionId: -3 }))
        assert.isTrue(Option.isNone(yield* store.get(user(1))))
        assert.strictEqual(yield* redis.send<number>("HEXISTS", `${prefix}states`, "1"), 0)
        const seen: Array<Option.Option<Conversation.Conversation>> = []
        const stored = yield* store.update(user(2), (current) => {
          seen.push(current)
          return Option.some(Conversation.awaitingFeedback)
        })
        assert.deepStrictEqual(seen, [Option.none()])
        assert.deepStrictEqual(stored, Option.some(Conversation.awaitingFeedback))
        assert.deepStrictEqual(yield* store.get(user(2)), Option.some(Conversation.awaitingFeedback))
        assert.strictEqual(yield* store.size, 1)
        const warnings = logs.lines.filter((line) => line.includes("did not decode"))
        assert.strictEqual(warnings.length, 2)
        // The warning names neither the user nor the stored text.
        assert.isFalse(warnings.some((line) => line.includes("not json") || /\b[12]\b/.test(line)))
      }).pipe(Effect.scoped)))

  it.effect("sweep - removes expired entries in batches, all of them in one sweep", () =>
    withObservability(() =>
      Effect.gen(function* () {
        const [store] = yield* processes(TestRedis.freshPrefix(), 1, { maxEntries: 5000, sweepInterval: "1 hour" })
        if (store === undefined) return assert.fail("one store")
        yield* Effect.forEach(
          Array.from({ length: 2500 }, (_, i) => user(i + 1)),
          (u) => store.set(u, Conversation.awaitingConfession),
          { concurrency: 16, discard: true }
        )
        yield* TestClock.adjust("5 minutes")
        yield* store.set(user(9999), Conversation.awaitingFeedback)
        yield* TestClock.adjust("5 minutes")
        assert.deepStrictEqual(yield* store.sweep, { removed: 2500, active: 1 })
        assert.strictEqual((yield* Metric.value(expirationsCounter)).count, 2500)
      }).pipe(Effect.scoped)))

  it.effect("layer - stores under different prefixes do not see each other", () =>
    withObservability(() =>
      Effect.gen(function* () {
        const [left] = yield* processes(TestRedis.freshPrefix(), 1)
        const [right] = yield* processes(TestRedis.freshPrefix(), 1)
        if (left === undefined || right === undefined) return assert.fail("two stores")
        yield* left.set(user(1), Conversation.awaitingConfession)
        assert.isTrue(Option.isNone(yield* right.get(user(1))))
        assert.strictEqual(yield* right.size, 0)
        assert.strictEqual(yield* left.size, 1)
      }).pipe(Effect.scoped)))
})
