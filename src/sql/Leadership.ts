// Which of several polling processes polls. Telegram serves one getUpdates consumer per bot, so exactly one process
// (the leader) polls and the others (standbys) wait, serve /metrics and deliver the outbox. The leader is whoever holds
// a PostgreSQL advisory lock, on a session of its own held for the leadership's lifetime (sql/Session.ts): when the
// leader dies (even kill -9) its session ends and the lock goes with it, and a standby, trying every
// `retryInterval`, takes over.
//
// A leader checks its session every `heartbeatInterval`; when it fails (PostgreSQL gone, network cut) it stops leading
// at once, since the lock may already be someone else's, and starts over as a standby. On shutdown it stops leading
// first (the polling layer drains its updates) and only then closes the session, so the next leader never replays an
// update this one is still handling. The embedded database serves one process only: there, `layerAlways`.
//
// What the lock cannot promise: a leader cut off from PostgreSQL but not from Telegram can poll for up to about one
// heartbeat after its lock went. Telegram answers the older of two getUpdates calls with 409, and the inbox and the
// processed-updates ledger keep every write exactly-once meanwhile.
import { Context, Deferred, Duration, Effect, Layer, Metric, type Redacted, Ref, Schedule, type Scope } from "effect"
import * as Session from "./Session.ts"

export type Role = "leader" | "standby"

export interface AdvisoryLockOptions {
  readonly url: Redacted.Redacted<string>
  /** How often a standby tries to take the lock (default 500 ms: the larger part of a takeover's time). */
  readonly retryInterval?: Duration.Input | undefined
  /** How often the leader checks its session. */
  readonly heartbeatInterval?: Duration.Input | undefined
}

export class Leadership extends Context.Service<
  Leadership,
  {
    readonly role: Effect.Effect<Role>
    /**
     * Runs `lead` in the scope each time this process becomes the leader, and interrupts it when the leadership is
     * lost or the scope closes (before the lock is given up). `lead` is meant to run until interrupted; if it fails
     * or ends it is run again after a pause, still as the leader. Returns once the first try for the lock has an
     * answer, so `role` says at once whether this process leads.
     */
    readonly run: <E, R>(lead: Effect.Effect<void, E, R>) => Effect.Effect<void, never, R | Scope.Scope>
  }
>()("confessions/sql/Leadership") {
  /** One process (embedded database): always the leader. */
  static readonly layerAlways: Layer.Layer<Leadership> = Layer.effect(
    Leadership,
    Effect.gen(function* () {
      yield* publishRole("leader")
      return Leadership.of({
        role: Effect.succeed("leader"),
        run: (lead) => Effect.asVoid(Effect.forkScoped(again(lead)))
      })
    })
  )

  /** PostgreSQL: the holder of the advisory lock leads. */
  static readonly layerAdvisoryLock = (options: AdvisoryLockOptions): Layer.Layer<Leadership> =>
    Layer.effect(Leadership, makeAdvisoryLock(options))
}

/** 1 for the role this process has now, 0 for the others (`sum(confessions_role{role="leader"})` should be 1). */
const roleGauge = Metric.gauge("confessions_role", {
  description: "This process's role: leader (polls Telegram), standby (waits to take over) or webhook (receives updates)"
})
const leaderChanges = Metric.counter("confessions_leader_elections_total", {
  description: "Times this process became the polling leader",
  incremental: true
})

const roles = ["leader", "standby", "webhook"] as const

/** Sets `confessions_role` for this process: 1 for `role`, 0 for the others. */
export const publishRole = (role: (typeof roles)[number]) =>
  Effect.forEach(roles, (each) => Metric.update(Metric.withAttributes(roleGauge, { role: each }), each === role ? 1 : 0), {
    discard: true
  })

/** The lock's key: one per database, the same for every process of the bot. */
const lockKey = "confessions:polling-leader"

/** Runs `lead` over and over: a lead that ends or fails is logged and started again after a second. */
const again = <E, R>(lead: Effect.Effect<void, E, R>) =>
  lead.pipe(
    Effect.catchCause((cause) => Effect.logError("leading failed; starting again", cause)),
    Effect.andThen(Effect.sleep("1 second")),
    Effect.forever
  )

const makeAdvisoryLock = (options: AdvisoryLockOptions) =>
  Effect.gen(function* () {
    const retryInterval = Duration.fromInputUnsafe(options.retryInterval ?? "500 millis")
    const heartbeatInterval = Duration.fromInputUnsafe(options.heartbeatInterval ?? "1 second")
    const role = yield* Ref.make<Role>("standby")
    yield* publishRole("standby")

    const becomeLeader = Effect.andThen(Ref.set(role, "leader"), publishRole("leader")).pipe(
      Effect.andThen(Metric.update(leaderChanges, 1)),
      Effect.andThen(Effect.logInfo("this process is now the polling leader"))
    )
    const becomeStandby = Effect.gen(function* () {
      if ((yield* Ref.getAndSet(role, "standby")) === "leader") yield* Effect.logInfo("this process is no longer the polling leader")
      yield* publishRole("standby")
    })

    /** One session: wait for the lock, then lead until the session fails (or the scope closes). */
    const term = <E, R>(lead: Effect.Effect<void, E, R>, settled: Deferred.Deferred<void>) =>
      Effect.scoped(
        Effect.gen(function* () {
          const session = yield* Session.make({ url: options.url, name: "polling-leader" })
          const tryLock = session<{ locked: boolean }>`select pg_try_advisory_lock(hashtextextended(${lockKey}, 0)) as locked`
          while (true) {
            const locked = (yield* tryLock)[0]?.locked === true
            if (locked) break
            yield* Deferred.succeed(settled, undefined)
            yield* Effect.sleep(retryInterval)
          }
          // Added before leading starts, so it runs after leading stopped and before the session closes.
          yield* Effect.addFinalizer(() => becomeStandby)
          yield* becomeLeader
          yield* Deferred.succeed(settled, undefined)
          const heartbeat = session`select 1`.pipe(
            Effect.timeout(Duration.seconds(2)),
            Effect.repeat(Schedule.spaced(heartbeatInterval)),
            Effect.andThen(Effect.never)
          )
          return yield* Effect.raceFirst(heartbeat, again(lead))
        })
      )

    return Leadership.of({
      role: Ref.get(role),
      run: (lead) =>
        Effect.gen(function* () {
          const settled = yield* Deferred.make<void>()
          yield* Effect.forkScoped(
            term(lead, settled).pipe(
              Effect.catchCause((cause) =>
                Effect.logWarning("leader election: the database session failed; trying again", cause).pipe(
                  Effect.andThen(Deferred.succeed(settled, undefined))
                )
              ),
              Effect.andThen(Effect.sleep(retryInterval)),
              Effect.forever
            )
          )
          yield* Deferred.await(settled)
        })
    })
  })
