// Cluster-wide turn-taking for one user's updates. Behind a load balancer, two updates of one user can reach two
// processes at once; each process already runs a user's updates one after another (Dispatcher), and this lease makes
// the processes take turns too, so a user's updates never run at the same time anywhere.
//
// The lease is a Redis key `<prefix><ordering key>` set with `SET NX PX ttl` to a token of its own. While the update
// runs, a fiber renews it every ttl/3 (only if it still holds our token); when the update ends it is deleted, again
// only if it still holds our token (compare-and-delete scripts, so a late release never frees someone else's lease).
// A process that dies, or stalls longer than the ttl, loses the lease when it expires: nobody waits longer than ttl.
//
// Why Redis and not PostgreSQL: a transaction-scoped advisory lock (`pg_advisory_xact_lock`) covers one transaction,
// while an update reads before it and sends after it; a session-scoped one would pin a pooled connection to every
// update in flight (UPDATE_CONCURRENCY ≫ DB_POOL_MAX) for the whole handler, Telegram calls included. And several
// webhook processes need REDIS_URL anyway: without it each keeps conversation state in its own memory.
import { Clock, Context, Data, Duration, Effect, Layer, Metric, Ref, type Scope } from "effect"
import { Redis } from "effect/persistence"
import { randomBytes } from "node:crypto"

export interface UserLockRedisOptions {
  /** Start of the lease keys (every process of one bot uses the same). */
  readonly prefix: string
  /** How long a lease lives without renewal: the longest a dead process can keep others waiting. */
  readonly ttl?: Duration.Input | undefined
  /** Longest wait for a lease another process holds before the try fails. */
  readonly maxWait?: Duration.Input | undefined
}

export class UserLockError extends Data.TaggedError("UserLockError")<{
  /** `Unavailable`: Redis could not be reached; `Busy`: another process held the lease longer than `maxWait`. */
  readonly reason: "Unavailable" | "Busy"
  readonly cause?: unknown
}> {
  override get message(): string {
    return this.reason === "Busy" ? "another process kept the user's lease too long" : "the lease store (Redis) is unreachable"
  }
}

export class UserLock extends Context.Service<
  UserLock,
  {
    /**
     * Holds the lease of `key` (a user's ordering key) until the scope closes: waits while another process holds it,
     * renews it meanwhile, releases it at the end.
     */
    readonly hold: (key: string) => Effect.Effect<void, UserLockError, Scope.Scope>
    /**
     * Whether leases are shared with other processes. When false (`layerLocal`) `hold` takes nothing, so the
     * dispatcher skips the lease and its scope altogether (per update, that scope was a measurable cost).
     */
    readonly shared: boolean
  }
>()("confessions/services/UserLock") {
  /** One process (or polling, where only the leader handles updates): the dispatcher's own ordering is enough. */
  static readonly layerLocal: Layer.Layer<UserLock> = Layer.succeed(
    UserLock,
    UserLock.of({ hold: () => Effect.void, shared: false })
  )

  static readonly layerRedis = (options: UserLockRedisOptions): Layer.Layer<UserLock, never, Redis.Redis> =>
    Layer.effect(UserLock, makeRedis(options))
}

/** Every lease taken, with how long it took (about one Redis round trip when nobody else held it). */
export const waitSeconds = Metric.histogram("confessions_user_lock_wait_seconds", {
  description: "Time an update took to get its user's lease (waiting while another process held it); webhook mode with Redis",
  boundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]
})
export const lostTotal = Metric.counter("confessions_user_lock_lost_total", {
  description: "Leases found expired or taken while their update still ran (the process stalled longer than the lease)",
  incremental: true
})

const makeRedis = (options: UserLockRedisOptions) =>
  Effect.gen(function* () {
    const redis = yield* Redis.Redis
    const ttlMillis = Math.max(100, Duration.toMillis(Duration.fromInputUnsafe(options.ttl ?? "10 seconds")))
    const maxWaitMillis = Duration.toMillis(Duration.fromInputUnsafe(options.maxWait ?? "30 seconds"))
    const origin = randomBytes(6).toString("base64url")
    const serial = yield* Ref.make(0)
    const renewScript = redis.eval(renew)
    const releaseScript = redis.eval(release)
    const unavailable = (cause: unknown) => new UserLockError({ reason: "Unavailable", cause })
    yield* Metric.update(lostTotal, 0)

    const take = (name: string, token: string) =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        let pause = 2
        while (true) {
          const answer = yield* redis.send<string | null>("SET", name, token, "NX", "PX", String(ttlMillis)).pipe(
            Effect.mapError(unavailable)
          )
          const now = yield* Clock.currentTimeMillis
          if (answer === "OK") return yield* Metric.update(waitSeconds, (now - started) / 1000)
          if (now - started >= maxWaitMillis) return yield* new UserLockError({ reason: "Busy" })
          yield* Effect.sleep(Duration.millis(pause))
          pause = Math.min(20, pause * 2)
        }
      })

    const keepRenewing = (name: string, token: string) =>
      Effect.gen(function* () {
        while (true) {
          yield* Effect.sleep(Duration.millis(Math.floor(ttlMillis / 3)))
          const held = yield* renewScript(name, token, ttlMillis).pipe(Effect.result)
          // Unreachable: nobody else can take it either; it expires by itself if this lasts.
          if (held._tag === "Failure") continue
          if (held.success === 0) {
            yield* Metric.update(lostTotal, 1)
            return yield* Effect.logWarning("a user's lease expired while their update still ran (the process stalled)")
          }
        }
      })

    return UserLock.of({
      shared: true,
      hold: (key) =>
        Effect.gen(function* () {
          const name = `${options.prefix}${key}`
          const token = `${origin}:${yield* Ref.getAndUpdate(serial, (n) => n + 1)}`
          yield* take(name, token)
          // Finalizers run last-added first: the renewer stops before the release, so it never sees its own release
          // as a lost lease.
          yield* Effect.addFinalizer(() => Effect.ignore(releaseScript(name, token)))
          yield* Effect.forkScoped(keepRenewing(name, token))
        })
    })
  })

/** Extends the lease if it still holds our token → 1, else 0. */
const renew = Redis.script((name: string, token: string, ttlMillis: number) => [name, token, ttlMillis], {
  numberOfKeys: 1,
  lua: `
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0
`
}).withReturnType<number>()

/** Deletes the lease if it still holds our token → 1, else 0. */
const release = Redis.script((name: string, token: string) => [name, token], {
  numberOfKeys: 1,
  lua: `
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0
`
}).withReturnType<number>()
