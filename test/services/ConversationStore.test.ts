import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, Metric, Option, Scope } from "effect"
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

const user = (n: number) => UserId.make(n)
const options: ConversationStoreOptions = { ttl: "10 minutes", maxEntries: 100, sweepInterval: "60 seconds" }

/** Runs `body` with a fresh metric registry and a logger that keeps every message, so each test sees only its own. */
const withObservability = <A, E, R>(body: (logs: Array<string>) => Effect.Effect<A, E, R>) => {
  const logs: Array<string> = []
  const capture = Logger.make((entry) => {
    logs.push((entry.message as ReadonlyArray<unknown>).map(String).join(" "))
  })
  return body(logs).pipe(
    Effect.provide(Logger.layer([capture])),
    Effect.provideService(Metric.MetricRegistry, new Map())
  )
}

const sweepLines = (logs: ReadonlyArray<string>) => logs.filter((line) => line.startsWith("state sweep:"))

/** Runs `body` against a store built by the real layer with `overrides`, inside the test's observability. */
const withStore = <A, E>(
  overrides: Partial<ConversationStoreOptions>,
  body: (store: ConversationStore["Service"], logs: Array<string>) => Effect.Effect<A, E>
) =>
  withObservability((logs) =>
    Effect.gen(function* () {
      const store = yield* ConversationStore
      return yield* body(store, logs)
    }).pipe(Effect.provide(ConversationStore.layer({ ...options, ...overrides })))
  )

const previewText = (state: Option.Option<Conversation.Conversation>) =>
  Option.getOrUndefined(Option.filter(state, Conversation.Conversation.guards.ConfessionPreview))?.text

describe("ConversationStore", () => {
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
        assert.deepStrictEqual(sweepLines(logs), [])
        yield* TestClock.adjust("1 second") // t = 60 s: first sweep
        assert.deepStrictEqual(sweepLines(logs), ["state sweep: removed 0 expired, 2 active"])
        yield* TestClock.adjust("60 seconds") // t = 120 s
        assert.deepStrictEqual(sweepLines(logs).slice(1), ["state sweep: removed 1 expired, 1 active"])
        assert.strictEqual(yield* store.size, 1)
        yield* TestClock.adjust("60 seconds") // t = 180 s
        assert.deepStrictEqual(sweepLines(logs).slice(2), ["state sweep: removed 1 expired, 0 active"])
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
        const context = yield* Layer.buildWithScope(ConversationStore.layer(options), scope)
        const store = Context.get(context, ConversationStore)
        yield* store.set(user(1), Conversation.awaitingConfession)
        yield* TestClock.adjust("2 minutes")
        assert.strictEqual(sweepLines(logs).length, 2)
        yield* Scope.close(scope, Exit.void)
        yield* TestClock.adjust("10 minutes")
        assert.strictEqual(sweepLines(logs).length, 2)
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
        const increment = (current: Option.Option<Conversation.Conversation>) =>
          Option.some(Conversation.confessionPreview(String(Number(previewText(current) ?? "0") + 1), true))
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
        Effect.exit(Effect.scoped(Layer.build(ConversationStore.layer({ ...options, ...overrides }))))
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
          ConversationStore.layerConfig.pipe(
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
