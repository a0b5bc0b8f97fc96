// The Redis tests use: the machine's shared server (TEST_REDIS_URL, default 127.0.0.1:6379). Nobody may flush it, so
// every test works under its own key prefix and deletes exactly its own keys when its layer closes.
import { NodeRedis } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { Redis } from "effect/persistence"

export const url = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

const run = `test:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`
let prefixes = 0

/** A key prefix no other test, run or worker uses. */
export const freshPrefix = (): string => `${run}${++prefixes}:`

/**
 * A new connection (a new client each call: three calls are three "processes"). Closed with the layer's scope.
 */
export const connection = (): Layer.Layer<Redis.Redis | NodeRedis.NodeRedis, Redis.RedisError> => NodeRedis.layer({ url })

/** Deletes every key under `prefix` when the layer's scope closes (SCAN + DEL, never FLUSHDB). */
export const dropOnClose = (prefix: string): Layer.Layer<never, never, Redis.Redis> =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const redis = yield* Redis.Redis
      yield* Effect.addFinalizer(() => dropKeys(redis, prefix).pipe(Effect.ignore))
    })
  )

/** Keys under `prefix`, for tests that check nothing was left behind. */
export const keysUnder = (redis: Redis.Redis["Service"], prefix: string): Effect.Effect<Array<string>, Redis.RedisError> =>
  Effect.gen(function* () {
    const keys: Array<string> = []
    let cursor = "0"
    do {
      const [next, batch] = yield* redis.send<[string, Array<string>]>("SCAN", cursor, "MATCH", `${escapeGlob(prefix)}*`, "COUNT", "1000")
      keys.push(...batch)
      cursor = next
    } while (cursor !== "0")
    return keys
  })

const dropKeys = (redis: Redis.Redis["Service"], prefix: string) =>
  Effect.flatMap(keysUnder(redis, prefix), (keys) => (keys.length > 0 ? redis.send("DEL", ...keys) : Effect.void))

const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
