// Where each user's flow (see domain/Conversation.ts) lives between two messages: a store bounded in size (least
// recently active user evicted first) and in time (idle entries expire after the TTL and a sweep fiber, forked into
// the layer's scope, removes them and logs how many). This module holds the service, the in-memory layer and what
// both layers share; ConversationStoreRedis.ts holds the layer that several processes share through Redis.
import { Cause, Clock, Context, Data, Duration, Effect, Layer, Metric, Option, Ref, Schedule } from "effect"
import { AppConfig } from "../AppConfig.ts"
import type { Conversation } from "../domain/Conversation.ts"
import type { UserId } from "../domain/Ids.ts"

export interface ConversationStoreOptions {
  /** Idle time after which an entry is forgotten (positive): at exactly `ttl` since its last write it is gone. */
  readonly ttl: Duration.Input
  /** Hard cap on entries held; a positive integer. */
  readonly maxEntries: number
  /** Time between two sweeps. The first sweep runs one interval after the layer is built (an empty store at start
   * has nothing to sweep), then every interval. */
  readonly sweepInterval: Duration.Input
}

/** What one sweep did: expired entries it removed, and entries left (all unexpired right after a sweep). */
export interface SweepResult {
  readonly removed: number
  readonly active: number
}

export class ConversationStore extends Context.Service<
  ConversationStore,
  {
    /** The user's current flow; `None` when there is none or it has expired. Reading does not extend its life. */
    readonly get: (user: UserId) => Effect.Effect<Option.Option<Conversation>, ConversationStoreError>
    /** Replaces the user's flow and marks them active now. May evict the least recently active user. */
    readonly set: (user: UserId, state: Conversation) => Effect.Effect<void, ConversationStoreError>
    /**
     * Atomic read-modify-write: `f` sees the current flow (`None` when absent or expired); `Some` stores the result
     * and marks the user active now, `None` removes the entry. Returns what `f` returned. `f` must be pure.
     */
    readonly update: (
      user: UserId,
      f: (current: Option.Option<Conversation>) => Option.Option<Conversation>
    ) => Effect.Effect<Option.Option<Conversation>, ConversationStoreError>
    /** Forgets the user's flow; `true` when there was an unexpired one. */
    readonly clear: (user: UserId) => Effect.Effect<boolean, ConversationStoreError>
    /**
     * Entries held (by this process, or by every process sharing the Redis store), at most `maxEntries`; expired
     * ones count until a sweep or a read removes them.
     */
    readonly size: Effect.Effect<number, ConversationStoreError>
    /** One sweep step (the background fiber runs this every interval): removes expired entries, logs, records. */
    readonly sweep: Effect.Effect<SweepResult, ConversationStoreError>
  }
>()("confessions/services/ConversationStore") {
  /** A store with explicit settings, as tests and scripts use it. */
  static readonly layer = (options: ConversationStoreOptions): Layer.Layer<ConversationStore> =>
    Layer.effect(ConversationStore, make(options))

  /** Settings from `STATE_TTL`, `STATE_MAX_ENTRIES` and `STATE_SWEEP_INTERVAL`. */
  static readonly layerConfig: Layer.Layer<ConversationStore, never, AppConfig> = Layer.effect(
    ConversationStore,
    Effect.gen(function* () {
      const config = yield* AppConfig
      return yield* make({
        ttl: config.stateTtl,
        maxEntries: config.stateMaxEntries,
        sweepInterval: config.stateSweepInterval
      })
    })
  )
}

/**
 * The store could not be reached (the Redis layer only: the in-memory store is bounded by eviction, not by refusing
 * writes, and never fails). The router answers it like any unexpected failure: "a temporary problem".
 */
export class ConversationStoreError extends Data.TaggedError("ConversationStoreError")<{
  readonly reason: "Unavailable"
  readonly cause: unknown
}> {}

/** Entries held, set after every write and every sweep. */
export const entriesGauge = Metric.gauge("confessions_state_entries", {
  description: "Conversation-state entries held (with the Redis store: by all processes together)"
})
/** Unexpired entries removed because the store was full (least recently active first). */
export const evictionsCounter = Metric.counter("confessions_state_evictions_total", {
  description: "Conversation-state entries evicted because the store was full",
  incremental: true
})
/** Entries found expired, counted once each: by the sweep, or by the read or write that met them first. */
export const expirationsCounter = Metric.counter("confessions_state_expirations_total", {
  description: "Conversation-state entries that expired after STATE_TTL of inactivity",
  incremental: true
})
export const sweepDuration = Metric.histogram("confessions_state_sweep_duration_seconds", {
  description: "Time one conversation-state sweep took",
  boundaries: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]
})

interface Entry {
  readonly state: Conversation
  /** Clock millis of the last write (set or a storing update). */
  readonly lastActive: number
}

/** What a step did besides its result, for the metrics. */
interface Step<A> {
  readonly result: A
  readonly expired: number
  readonly evicted: number
  /** Entries held afterwards; `undefined` when the step changed nothing (a plain read). */
  readonly size: number | undefined
}

const make = Effect.fnUntraced(function* (options: ConversationStoreOptions) {
  const { ttl, maxEntries, interval } = yield* settingsOf(options)

  // Invariants (the trick of effect's Cache: a JavaScript Map iterates in insertion order):
  // - every write deletes the user's key and re-inserts it, so iteration order is activity order, least recently
  //   active first, and `lastActive` never decreases from front to back (the time is read inside the same
  //   synchronous step that inserts);
  // - so eviction takes the first key, and the sweep walks from the front and stops at the first unexpired entry;
  // - the Map is mutated in place, only inside `Ref.modify` callbacks. They are synchronous and JavaScript runs one
  //   fiber step at a time, so each callback is atomic with respect to every other operation; a copy per write would
  //   make writes O(n).
  // If the wall clock steps backwards, order can be off by that step: reads still check expiry themselves, so an
  // expired entry is never served; only its removal waits for a later sweep.
  const entries = yield* Ref.make(new Map<UserId, Entry>())

  const isExpired = (entry: Entry, now: number) => now - entry.lastActive >= ttl

  /** Runs a synchronous step on the map at the current time, then records what it did. */
  const step = <A>(f: (map: Map<UserId, Entry>, now: number) => Step<A>): Effect.Effect<A> =>
    Clock.clockWith((clock) =>
      Ref.modify(entries, (map) => [f(map, clock.currentTimeMillisUnsafe()), map] as const)
    ).pipe(Effect.tap(record), Effect.map((s) => s.result))

  /** The user's unexpired entry; an expired one is deleted here and counted (it must not be counted again). */
  const visible = (map: Map<UserId, Entry>, user: UserId, now: number): { entry: Entry | undefined; expired: number } => {
    const entry = map.get(user)
    if (entry === undefined) return { entry: undefined, expired: 0 }
    if (!isExpired(entry, now)) return { entry, expired: 0 }
    map.delete(user)
    return { entry: undefined, expired: 1 }
  }

  /** Stores `state` as the most recently active entry, evicting from the front while the store is full. */
  const write = (map: Map<UserId, Entry>, user: UserId, state: Conversation, now: number) => {
    let expired = 0
    let evicted = 0
    map.delete(user)
    while (map.size >= maxEntries) {
      const oldest = map.entries().next()
      if (oldest.done === true) break
      const [oldestUser, oldestEntry] = oldest.value
      map.delete(oldestUser)
      if (isExpired(oldestEntry, now)) expired++
      else evicted++
    }
    map.set(user, { state, lastActive: now })
    return { expired, evicted }
  }

  const sweep = yield* startSweeping(
    interval,
    step((map, now) => {
      let removed = 0
      for (const [user, entry] of map) {
        if (!isExpired(entry, now)) break
        map.delete(user) // deleting the current key while iterating a Map is safe
        removed++
      }
      return { result: { removed, active: map.size }, expired: removed, evicted: 0, size: map.size }
    })
  )

  return ConversationStore.of({
    // Read for every message outside a command; an in-memory look-up needs no span (the update's span covers it).
    get: Effect.fnUntraced(function* (user) {
      return yield* step((map, now) => {
        const { entry, expired } = visible(map, user, now)
        return { result: Option.fromUndefinedOr(entry?.state), expired, evicted: 0, size: expired > 0 ? map.size : undefined }
      })
    }),
    set: Effect.fn("ConversationStore.set")(function* (user, state) {
      yield* step((map, now) => {
        const { expired } = visible(map, user, now)
        const written = write(map, user, state, now)
        return { result: undefined, expired: expired + written.expired, evicted: written.evicted, size: map.size }
      })
    }),
    update: Effect.fn("ConversationStore.update")(function* (user, f) {
      return yield* step((map, now): Step<Option.Option<Conversation>> => {
        const { entry, expired } = visible(map, user, now)
        // f runs before anything else changes, so a throwing f leaves the map as it was (bar the expired entry).
        const next = f(Option.fromUndefinedOr(entry?.state))
        if (Option.isNone(next)) {
          map.delete(user)
          return { result: next, expired, evicted: 0, size: map.size }
        }
        const written = write(map, user, next.value, now)
        return { result: next, expired: expired + written.expired, evicted: written.evicted, size: map.size }
      })
    }),
    clear: Effect.fn("ConversationStore.clear")(function* (user) {
      return yield* step((map, now) => {
        const { entry, expired } = visible(map, user, now)
        if (entry !== undefined) map.delete(user)
        return { result: entry !== undefined, expired, evicted: 0, size: map.size }
      })
    }),
    size: Effect.map(Ref.get(entries), (map) => map.size),
    sweep
  })
})

/** Options checked and converted, shared by both layers. */
export const settingsOf = (options: ConversationStoreOptions) =>
  Effect.suspend(() => {
    const ttl = Duration.toMillis(Duration.fromInputUnsafe(options.ttl))
    const maxEntries = options.maxEntries
    const interval = Duration.fromInputUnsafe(options.sweepInterval)
    // AppConfig already rejects these; a caller of `layer` passing them has a bug (a zero interval would spin).
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      return Effect.die(new RangeError(`ConversationStore: maxEntries must be a positive integer, got ${maxEntries}`))
    }
    if (!(ttl > 0) || !Number.isFinite(ttl) || !Duration.isFinite(interval) || !Duration.isGreaterThan(interval, Duration.zero)) {
      return Effect.die(new RangeError("ConversationStore: ttl and sweepInterval must be positive and finite"))
    }
    return Effect.succeed({ ttl, maxEntries, interval })
  })

/**
 * Wraps one layer's removal step into the store's `sweep` (timed, logged as `state sweep: removed N expired, M
 * active`) and forks the loop that runs it every `interval` into the layer's scope. Shared by both layers so their
 * logs and metrics cannot drift apart.
 */
export const startSweeping = <E>(interval: Duration.Duration, removeExpired: Effect.Effect<SweepResult, E>) =>
  Effect.gen(function* () {
    const sweep: Effect.Effect<SweepResult, E> = Effect.gen(function* () {
      const started = yield* Clock.currentTimeNanos
      const result = yield* removeExpired
      const finished = yield* Clock.currentTimeNanos
      yield* Metric.update(sweepDuration, Number(finished - started) / 1e9)
      yield* Effect.logInfo(`state sweep: removed ${result.removed} expired, ${result.active} active`)
      return result
    })
    // A failure in a forked loop would end it without a word: log it and keep sweeping. Interruption (the layer's
    // scope closing) is not a failure and ends the loop. `spaced` counts from the end of the previous sweep, so a
    // slow sweep (a Redis round trip) never overlaps the next one.
    const sweepLogged = sweep.pipe(
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause) : Effect.logError("state sweep failed", cause)
      )
    )
    yield* Effect.sleep(interval).pipe(
      Effect.andThen(Effect.repeat(sweepLogged, Schedule.spaced(interval))),
      Effect.forkScoped
    )
    return sweep
  })

/** Records what one store operation did: entries found expired or evicted, and the entries held afterwards. */
export const record = (s: {
  readonly expired: number
  readonly evicted: number
  readonly size: number | undefined
}): Effect.Effect<void> =>
  Effect.all([
    s.size !== undefined ? Metric.update(entriesGauge, s.size) : Effect.void,
    s.expired > 0 ? Metric.update(expirationsCounter, s.expired) : Effect.void,
    s.evicted > 0 ? Metric.update(evictionsCounter, s.evicted) : Effect.void
  ], { discard: true })
