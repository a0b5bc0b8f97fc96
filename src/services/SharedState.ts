// What the processes of one bot share, chosen from the configuration. Without REDIS_URL everything lives in this
// process (one process needs nothing but Node): conversation flows, rate limits and confession limits in memory, no
// cross-process locks, and stats-cache invalidation over PostgreSQL LISTEN/NOTIFY when DATABASE_URL is set (a polling
// standby that becomes the leader must not serve what it cached before), none with the embedded database (one
// process). With REDIS_URL all of them live in Redis under REDIS_KEY_PREFIX:
//
//   <prefix>state:states, <prefix>state:active   conversation flows (ConversationStoreRedis)
//   <prefix>ratelimit:…                          Telegram's limits and the per-user confession limits (one store)
//   <prefix>lock:<user>                          per-user leases, webhook mode (UserLock)
//   <prefix>stats                                pub/sub channel of stats-cache invalidations (StatsInvalidation)
//
// The Redis client is created with `disableOfflineQueue`: while Redis is down a command fails within milliseconds
// (with node-redis's default it would wait, and so would every update), and the client reconnects by itself (backoff
// capped at about 2 s) when Redis returns. Redis must keep these keys: `maxmemory-policy noeviction`.
import { NodeRedis } from "@effect/platform-node"
import { Effect, Layer, Option, Redacted } from "effect"
import { RateLimiter, type Redis } from "effect/persistence"
import type { SqlClient } from "effect/sql"
import { AppConfig } from "../AppConfig.ts"
import { ConversationStore } from "./ConversationStore.ts"
import * as ConversationStoreRedis from "./ConversationStoreRedis.ts"
import { RateLimiterStoreMemory } from "./RateLimiterStoreMemory.ts"
import { StatsInvalidation } from "./StatsInvalidation.ts"
import { UserLock } from "./UserLock.ts"

/** What this layer provides; with REDIS_URL also `Redis.Redis` (health checks look for it). */
export type Shared = ConversationStore | RateLimiter.RateLimiterStore | StatsInvalidation | UserLock

/** The PostgreSQL channel of stats-cache invalidations (LISTEN/NOTIFY). */
export const postgresChannel = "confessions_stats"

type SharedLayer = Layer.Layer<Shared, Redis.RedisError, AppConfig | SqlClient.SqlClient>

export const layerConfig: SharedLayer = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    return Option.match(config.redisUrl, {
      onNone: (): SharedLayer =>
        Layer.mergeAll(
          ConversationStore.layerConfig,
          RateLimiterStoreMemory.layer(),
          UserLock.layerLocal,
          Option.match(config.databaseUrl, {
            onNone: () => StatsInvalidation.layerLocal,
            onSome: (url) => StatsInvalidation.layerPostgres({ url, channel: postgresChannel })
          })
        ),
      onSome: (url) => layerRedis(config, url)
    })
  })
)

const layerRedis = (config: AppConfig["Service"], url: Redacted.Redacted<string>): SharedLayer => {
  const prefix = config.redisKeyPrefix
  return Layer.mergeAll(
    ConversationStoreRedis.layerConfig({ prefix: `${prefix}state:` }),
    RateLimiter.layerStoreRedis({ prefix: `${prefix}ratelimit:` }),
    StatsInvalidation.layerRedis({ channel: `${prefix}stats` }),
    // Polling: only the leader handles updates, so the dispatcher's own per-user order is enough.
    config.botMode === "webhook" ? UserLock.layerRedis({ prefix: `${prefix}lock:` }) : UserLock.layerLocal
  ).pipe(Layer.provideMerge(NodeRedis.layer({ url: Redacted.value(url), disableOfflineQueue: true })))
}
