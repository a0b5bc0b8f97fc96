// Profile and system statistics behind Effect's Cache: a miss costs one SQL statement, a hit costs none, and a
// user's own write forgets their entry so they never see a stale count of their own doing. With several processes
// the write is announced (StatsInvalidation) and every other process forgets the entry too.
import { Context, Duration, Effect, Exit, Layer, Metric, Queue } from "effect"
import * as Cache from "effect/Cache"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../AppConfig.ts"
import type { UserId } from "../domain/Ids.ts"
import type { ProfileStats } from "../domain/Profile.ts"
import type { SystemStats } from "../domain/Stats.ts"
import { StatsInvalidation } from "./StatsInvalidation.ts"
import { StatsQueries } from "./StatsQueries.ts"

export interface StatsCacheOptions {
  /** How long a profile stays cached. Zero turns the cache off: every lookup queries. */
  readonly ttl: Duration.Input
  /** Most profiles held at once; the least recently used goes first. Zero turns the cache off. */
  readonly capacity: number
}

/**
 * `/stats` numbers are cached for the profile TTL but never longer than this, so an admin looking at the system
 * sees at most half a minute old numbers even with a long STATS_CACHE_TTL, while a burst of `/stats` still costs
 * one statement.
 */
export const systemTtlCap: Duration.Duration = Duration.seconds(30)

/** Lookups answered from the cache, by `cache` ("profile" or "system"). Joining an in-flight lookup is a hit. */
export const hitsTotal = Metric.counter("confessions_stats_cache_hits_total", {
  description: "Statistics lookups answered from the cache",
  incremental: true
})

/** Lookups that ran a query, by `cache`; with the cache off every lookup is a miss. */
export const missesTotal = Metric.counter("confessions_stats_cache_misses_total", {
  description: "Statistics lookups that ran a query",
  incremental: true
})

/** Entries held, by `cache`; expired entries count until a lookup or a capacity eviction drops them. */
export const size = Metric.gauge("confessions_stats_cache_size", {
  description: "Entries held by the statistics cache"
})

export class StatsCache extends Context.Service<
  StatsCache,
  {
    readonly profileOf: (user: UserId) => Effect.Effect<ProfileStats, SqlError>
    readonly system: Effect.Effect<SystemStats, SqlError>
    /** Called by every write that changes `user`'s numbers; other processes are told too. */
    readonly forget: (user: UserId) => Effect.Effect<void>
  }
>()("confessions/services/StatsCache") {
  /** Needs the `StatsInvalidation` transport between processes. */
  static readonly layerNoDeps = (
    options: StatsCacheOptions
  ): Layer.Layer<StatsCache, never, StatsQueries | StatsInvalidation> => Layer.effect(StatsCache, make(options))

  /** One process: nobody else to tell. */
  static readonly layer = (options: StatsCacheOptions): Layer.Layer<StatsCache, never, StatsQueries> =>
    StatsCache.layerNoDeps(options).pipe(Layer.provide(StatsInvalidation.layerLocal))

  /** STATS_CACHE_TTL and STATS_CACHE_CAPACITY from the configuration. */
  static readonly layerConfig: Layer.Layer<StatsCache, never, AppConfig | StatsQueries | StatsInvalidation> = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return StatsCache.layerNoDeps({ ttl: config.statsCacheTtl, capacity: config.statsCacheCapacity })
    })
  )
}

const make = Effect.fnUntraced(function* (options: StatsCacheOptions) {
  const queries = yield* StatsQueries
  const invalidation = yield* StatsInvalidation
  const ttl = Duration.fromInputUnsafe(options.ttl)
  const profile = labelled("profile")
  const system = labelled("system")

  if (options.capacity <= 0 || Duration.isZero(ttl)) {
    // Cache off (the benchmark's "before"): every lookup is a miss and runs its statement.
    return StatsCache.of({
      profileOf: (user) => Effect.andThen(Metric.update(profile.misses, 1), queries.profileOf(user)),
      system: Effect.andThen(Metric.update(system.misses, 1), queries.system),
      forget: () => Effect.void
    })
  }

  // A failed lookup gets TTL zero: the waiters that joined it share the failure, the next lookup queries again.
  const profiles = yield* Cache.makeWith(probed(queries.profileOf), {
    capacity: options.capacity,
    timeToLive: (exit) => (Exit.isSuccess(exit) ? ttl : Duration.zero)
  })
  const systemTtl = Duration.min(ttl, systemTtlCap)
  const systemEntry = yield* Cache.makeWith(probed((_: "system") => queries.system), {
    capacity: 1,
    timeToLive: (exit) => (Exit.isSuccess(exit) ? systemTtl : Duration.zero)
  })

  const publishSize = Effect.flatMap(Cache.size(profiles), (entries) => Metric.update(profile.size, entries))

  // What other processes changed. An `All` (a possible gap in the messages) forgets the system numbers too.
  yield* Queue.take(invalidation.received).pipe(
    Effect.flatMap((what) =>
      what._tag === "Users"
        ? Effect.forEach(what.users, (user) => Cache.invalidate(profiles, user), { discard: true })
        : Effect.andThen(Cache.invalidateAll(profiles), Cache.invalidateAll(systemEntry))
    ),
    Effect.andThen(publishSize),
    Effect.forever,
    Effect.forkScoped
  )

  return StatsCache.of({
    profileOf: Effect.fn("StatsCache.profileOf")(function* (user) {
      return yield* lookup(profiles, user, profile)
    }),
    system: lookup(systemEntry, "system", system).pipe(Effect.withSpan("StatsCache.system")),
    forget: Effect.fn("StatsCache.forget")(function* (user) {
      yield* Cache.invalidate(profiles, user)
      yield* invalidation.announce(user)
      yield* publishSize
    })
  })
})

interface Labelled {
  readonly hits: Metric.Metric<number, Metric.CounterState<number>>
  readonly misses: Metric.Metric<number, Metric.CounterState<number>>
  readonly size: Metric.Metric<number, Metric.GaugeState<number>>
}

const labelled = (cache: "profile" | "system"): Labelled => ({
  hits: Metric.withAttributes(hitsTotal, { cache }),
  misses: Metric.withAttributes(missesTotal, { cache }),
  size: Metric.withAttributes(size, { cache })
})

/**
 * Set by a lookup as it starts. `Cache.get` forks the lookup from the fiber whose `get` found no live entry, and the
 * fork inherits that fiber's context, so the probe provided around one `get` is marked exactly when that call ran
 * the query: hits and misses are counted without a check-then-get race against concurrent callers.
 */
const LookupProbe = Context.Reference<{ ran: boolean } | undefined>("confessions/services/StatsCache/LookupProbe", {
  defaultValue: () => undefined
})

const probed =
  <K, A, E>(lookupOf: (key: K) => Effect.Effect<A, E>) =>
  (key: K): Effect.Effect<A, E> =>
    Effect.gen(function* () {
      const probe = yield* LookupProbe
      if (probe !== undefined) probe.ran = true
      return yield* lookupOf(key)
    })

const lookup = <K, A>(
  cache: Cache.Cache<K, A, SqlError>,
  key: K,
  metrics: Labelled
): Effect.Effect<A, SqlError> =>
  Effect.suspend(() => {
    const probe = { ran: false }
    return Cache.get(cache, key).pipe(
      Effect.provideService(LookupProbe, probe),
      Effect.onExit(() =>
        Effect.andThen(
          Metric.update(probe.ran ? metrics.misses : metrics.hits, 1),
          Effect.flatMap(Cache.size(cache), (entries) => Metric.update(metrics.size, entries))
        )
      )
    )
  })
