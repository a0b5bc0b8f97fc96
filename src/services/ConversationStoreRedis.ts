// The ConversationStore that several processes share through Redis (used when REDIS_URL is set): a flow started on
// one process continues on another, and the cap holds for all of them together. Same guarantees as the memory layer.
//
// Layout: two keys, `<prefix>states` (a hash user → the flow as JSON, domain/Conversation.ts's codec) and
// `<prefix>active` (a sorted set user → time of the last write in ms). Every change to both runs as one Lua script,
// so they always agree and the cap is checked and enforced inside the same atomic step as the write. A score's
// whole part is the write time; its fraction (a multiple of 1/1024) orders writes within one millisecond in the
// order Redis applied them, so least-recently-active eviction is exact even when many writes share a millisecond.
//
// Time is data, not Redis key expiry: each process passes its `Clock` time into the scripts, and an entry is expired
// when `now − lastWrite ≥ ttl`. So Effect's TestClock drives this layer exactly like the memory one, expirations are
// counted once (by whichever read, write or sweep meets them first), and the activity index never lists a key Redis
// dropped silently. The price is an assumption: the processes' clocks agree (NTP). A process whose clock is `s` ms
// off sees entries expire up to `s` ms early or late and may evict among entries written within `s` ms of each other
// in the wrong order; the cap itself is a count and holds regardless. (Redis's own `TIME` inside the scripts would
// remove the skew, but no test clock could drive it.)
//
// `update` is optimistic: read (a script that also drops an expired entry), run the pure `f` here, then a script
// writes only if the entry is still exactly what was read (same JSON, same last-write time), else read again.
// Within one process, updates of one user queue on a per-user lock, so retries only happen between processes.
//
// Operations: Redis must not evict these keys (`maxmemory-policy noeviction` or a `volatile-*` policy; the keys
// have no TTL). On Redis Cluster, put a hash tag in the prefix (e.g. `{confessions}:state:`) so both keys share a
// slot.
import { Clock, Effect, Layer, Option, RcMap, Semaphore } from "effect"
import { Redis } from "effect/persistence"
import { AppConfig } from "../AppConfig.ts"
import * as Conversation from "../domain/Conversation.ts"
import type { UserId } from "../domain/Ids.ts"
import {
  ConversationStore,
  ConversationStoreError,
  type ConversationStoreOptions,
  record,
  settingsOf,
  startSweeping
} from "./ConversationStore.ts"

export interface ConversationStoreRedisOptions extends ConversationStoreOptions {
  /** Start of the store's two key names; every process sharing one store uses the same. */
  readonly prefix?: string | undefined
}

export const defaultPrefix = "confessions:state:"

/** A store with explicit settings, as tests and scripts use it. */
export const layer = (options: ConversationStoreRedisOptions): Layer.Layer<ConversationStore, never, Redis.Redis> =>
  Layer.effect(ConversationStore, make(options))

/**
 * Settings from `STATE_TTL`, `STATE_MAX_ENTRIES` and `STATE_SWEEP_INTERVAL`; keys under `prefix` (default
 * `confessions:state:`; tests pass their own).
 */
export const layerConfig = (
  options: { readonly prefix?: string | undefined } = {}
): Layer.Layer<ConversationStore, never, AppConfig | Redis.Redis> =>
  Layer.effect(
    ConversationStore,
    Effect.gen(function* () {
      const config = yield* AppConfig
      return yield* make({
        ttl: config.stateTtl,
        maxEntries: config.stateMaxEntries,
        sweepInterval: config.stateSweepInterval,
        prefix: options.prefix
      })
    })
  )

/** Most entries one sweep script removes; the sweep repeats it, so Redis is never blocked for long. */
const sweepBatch = 1000

/** What a read found. `json` and `score` are the stored value as is ("" when absent): the version a CAS checks. */
interface Found {
  readonly state: Option.Option<Conversation.Conversation>
  readonly json: string
  readonly score: string
}

const absent: Found = { state: Option.none(), json: "", score: "" }

const make = Effect.fnUntraced(function* (options: ConversationStoreRedisOptions) {
  const { ttl, maxEntries, interval } = yield* settingsOf(options)
  const redis = yield* Redis.Redis
  const prefix = options.prefix ?? defaultPrefix
  const states = `${prefix}states`
  const active = `${prefix}active`
  const readScript = redis.eval(read)
  const writeScript = redis.eval(write)
  const sweepScript = redis.eval(sweep)
  // One lock per user with an update in progress in this process; an entry goes when its last holder leaves.
  const locks = yield* RcMap.make({ lookup: (_: UserId) => Semaphore.make(1) })

  const unavailable = (cause: Redis.RedisError) => new ConversationStoreError({ reason: "Unavailable", cause })

  /**
   * Writes `json` ("" removes) at `now`; with `expected`, only if the entry is still exactly that. `undefined` means
   * the entry had changed; otherwise whether an unexpired entry was there before.
   */
  const commit = (user: UserId, json: string, now: number, expected: Found | undefined) =>
    writeScript(
      states,
      active,
      String(user),
      json,
      now,
      ttl,
      maxEntries,
      expected === undefined ? "any" : "cas",
      expected?.json ?? "",
      expected?.score ?? ""
    ).pipe(
      Effect.mapError(unavailable),
      Effect.flatMap(([existed, expired, evicted, size]) =>
        existed < 0 ? Effect.succeed(undefined) : Effect.as(record({ expired, evicted, size }), existed === 1)
      )
    )

  /** The user's unexpired entry at `now`. An expired one is removed (and counted) by the script; one that does not
   * decode is removed here, unless it was rewritten meanwhile, and reads as absent. */
  const lookup = Effect.fnUntraced(function* (user: UserId, now: number) {
    const [status, json, score, size] = yield* readScript(states, active, String(user), now, ttl).pipe(
      Effect.mapError(unavailable)
    )
    yield* record({ expired: status === 2 ? 1 : 0, evicted: 0, size: size >= 0 ? size : undefined })
    if (status !== 1) return absent
    const decoded = yield* Effect.option(Conversation.fromJson(json))
    if (Option.isSome(decoded)) return { state: decoded, json, score } satisfies Found
    // No user id and no content in the log: the value may hold a confession draft.
    yield* Effect.logWarning("conversation state in Redis did not decode; removed")
    yield* commit(user, "", now, { state: Option.none(), json, score })
    return absent
  })

  /** One optimistic attempt; `undefined` when another process changed the entry between read and write. */
  const tryUpdate = Effect.fnUntraced(function* (
    user: UserId,
    f: (current: Option.Option<Conversation.Conversation>) => Option.Option<Conversation.Conversation>
  ) {
    const now = yield* Clock.currentTimeMillis
    const found = yield* lookup(user, now)
    const next = f(found.state)
    if (Option.isNone(next) && found.json === "") return next // nothing stored and nothing to store
    const written = yield* commit(user, Option.isSome(next) ? Conversation.toJson(next.value) : "", now, found)
    return written === undefined ? undefined : next
  })

  const sweepStep = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    let removed = 0
    while (true) {
      const [count, size] = yield* sweepScript(states, active, now, ttl, sweepBatch).pipe(Effect.mapError(unavailable))
      removed += count
      if (count < sweepBatch) {
        yield* record({ expired: removed, evicted: 0, size })
        return { removed, active: size }
      }
    }
  })

  const sweepEffect = yield* startSweeping(interval, sweepStep)

  return ConversationStore.of({
    get: Effect.fn("ConversationStore.get")(function* (user) {
      const now = yield* Clock.currentTimeMillis
      return (yield* lookup(user, now)).state
    }),
    set: Effect.fn("ConversationStore.set")(function* (user, state) {
      const now = yield* Clock.currentTimeMillis
      yield* commit(user, Conversation.toJson(state), now, undefined)
    }),
    update: Effect.fn("ConversationStore.update")(function* (user, f) {
      const lock = yield* RcMap.get(locks, user)
      return yield* lock.withPermit(
        Effect.gen(function* () {
          while (true) {
            const result = yield* tryUpdate(user, f)
            if (result !== undefined) return result
          }
        })
      )
    }, Effect.scoped),
    clear: Effect.fn("ConversationStore.clear")(function* (user) {
      const now = yield* Clock.currentTimeMillis
      return (yield* commit(user, "", now, undefined)) === true
    }),
    size: redis.send<number>("ZCARD", active).pipe(Effect.map(Number), Effect.mapError(unavailable)),
    sweep: sweepEffect
  })
})

// The scripts. KEYS[1] is the states hash, KEYS[2] the activity sorted set; times are whole ms from the caller's
// clock. An entry is expired when now − floor(score) ≥ ttl. Lua tables stop at the first nil, so "nothing" travels
// as "" and -1.

/** → {status, json, score, size}: status 0 absent, 1 present (json, score set), 2 expired and removed now; size is
 * the entry count after a removal, else -1. */
const read = Redis.script(
  (states: string, active: string, user: string, now: number, ttl: number) => [states, active, user, now, ttl],
  {
    numberOfKeys: 2,
    lua: `
local states, active = KEYS[1], KEYS[2]
local user, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local score = redis.call("ZSCORE", active, user)
if not score then return {0, "", "", -1} end
if now - math.floor(tonumber(score)) >= ttl then
  redis.call("ZREM", active, user)
  redis.call("HDEL", states, user)
  return {2, "", "", redis.call("ZCARD", active)}
end
local json = redis.call("HGET", states, user)
if not json then
  -- an activity entry without its state can only come from outside these scripts: drop it
  redis.call("ZREM", active, user)
  return {0, "", "", redis.call("ZCARD", active)}
end
return {1, json, score, -1}
`
  }
).withReturnType<readonly [status: number, json: string, score: string, size: number]>()

/**
 * Stores `json` for the user as the most recently active entry ("" removes it). Mode "cas" first checks that the
 * entry is still `expectedJson` written at `expectedScore` ("" and "" for absent) and otherwise changes nothing and
 * returns existed = -1. Before storing, the least recently active entries are popped until there is room, each
 * counted as expired or evicted. → {existed (an unexpired entry was replaced or removed: 1/0), expired, evicted,
 * size after}.
 */
const write = Redis.script(
  (
    states: string,
    active: string,
    user: string,
    json: string,
    now: number,
    ttl: number,
    maxEntries: number,
    mode: "any" | "cas",
    expectedJson: string,
    expectedScore: string
  ) => [states, active, user, json, now, ttl, maxEntries, mode, expectedJson, expectedScore],
  {
    numberOfKeys: 2,
    lua: `
local states, active = KEYS[1], KEYS[2]
local user, json = ARGV[1], ARGV[2]
local now, ttl, max = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local step = 1 / 1024
local score = redis.call("ZSCORE", active, user)
if ARGV[6] == "cas" then
  local current = ""
  if score then current = redis.call("HGET", states, user) or "" end
  if (score or "") ~= ARGV[8] or current ~= ARGV[7] then return {-1, 0, 0, 0} end
end
local existed, expired, evicted = 0, 0, 0
if score then
  if now - math.floor(tonumber(score)) >= ttl then expired = 1 else existed = 1 end
  redis.call("ZREM", active, user)
end
redis.call("HDEL", states, user)
if json ~= "" then
  local excess = redis.call("ZCARD", active) - max + 1
  if excess > 0 then
    local oldest = redis.call("ZPOPMIN", active, excess)
    for i = 1, #oldest, 2 do
      redis.call("HDEL", states, oldest[i])
      if now - math.floor(tonumber(oldest[i + 1])) >= ttl then expired = expired + 1 else evicted = evicted + 1 end
    end
  end
  -- just above the most recent entry when that one is from this millisecond; never into the next millisecond
  local stamp = now
  local top = redis.call("ZRANGE", active, -1, -1, "WITHSCORES")
  if top[2] and tonumber(top[2]) >= now then stamp = math.min(tonumber(top[2]) + step, now + 1 - step) end
  redis.call("HSET", states, user, json)
  redis.call("ZADD", active, string.format("%.17g", stamp), user)
end
return {existed, expired, evicted, redis.call("ZCARD", active)}
`
  }
).withReturnType<readonly [existed: number, expired: number, evicted: number, size: number]>()

/** Removes up to `batch` entries whose last write is at least `ttl` before `now` (score below cutoff + 1: whole
 * part ≤ cutoff). → {removed, size after}. */
const sweep = Redis.script(
  (states: string, active: string, now: number, ttl: number, batch: number) => [states, active, now, ttl, batch],
  {
    numberOfKeys: 2,
    lua: `
local states, active = KEYS[1], KEYS[2]
local cutoff = tonumber(ARGV[1]) - tonumber(ARGV[2])
local users = redis.call("ZRANGEBYSCORE", active, "-inf", "(" .. string.format("%.17g", cutoff + 1), "LIMIT", 0, tonumber(ARGV[3]))
if #users > 0 then
  redis.call("ZREM", active, unpack(users))
  redis.call("HDEL", states, unpack(users))
end
return {#users, redis.call("ZCARD", active)}
`
  }
).withReturnType<readonly [removed: number, size: number]>()
