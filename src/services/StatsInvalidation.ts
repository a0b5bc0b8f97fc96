// Tells the other processes whose statistics changed, so that every process's stats cache forgets them: a write on
// one process never leaves a stale count cached on another (beyond the few milliseconds a message takes). Three
// transports: none (one process: `layerLocal`), Redis pub/sub (`layerRedis`, with REDIS_URL) and PostgreSQL
// LISTEN/NOTIFY (`layerPostgres`, with DATABASE_URL and no Redis).
//
// Costs nothing on the hot path: `announce` puts the user id in a queue and returns; one fiber sends whatever has
// queued up as one message (`<origin> <id>,<id>,…`), so under load one PUBLISH or one `pg_notify` carries many writes.
// A process ignores its own messages (its cache already forgot), by its random origin.
//
// Delivery is at most once, so whatever may have been missed is answered by forgetting everything:
// - a message that could not be sent stays queued and goes with the next one (retried every second);
// - PostgreSQL: a LISTEN session that broke is opened again, and then the cache is cleared (notifications sent
//   meanwhile are lost, those after LISTEN arrive);
// - Redis: the subscriber reconnects by itself, silently, so a PING every second watches the connection; after a
//   failure the process publishes a probe on the channel until its own subscriber receives it, which proves the
//   subscription is back, and then clears the cache.
import { Context, Effect, Layer, Metric, Queue, type Redacted, Ref, Schedule, type Scope } from "effect"
import { Redis } from "effect/persistence"
import { SqlClient } from "effect/sql"
import { randomBytes } from "node:crypto"
import { UserId } from "../domain/Ids.ts"
import * as Session from "../sql/Session.ts"

/** What the cache must forget: some users' entries, or everything (after a possible gap). */
export type Invalidation =
  | { readonly _tag: "Users"; readonly users: ReadonlyArray<UserId> }
  | { readonly _tag: "All" }

export class StatsInvalidation extends Context.Service<
  StatsInvalidation,
  {
    /** Queues `user` for the next message to the other processes; never fails, never waits. */
    readonly announce: (user: UserId) => Effect.Effect<void>
    /** What other processes announced, and `All` after a possible gap; one consumer (the stats cache). */
    readonly received: Queue.Dequeue<Invalidation>
  }
>()("confessions/services/StatsInvalidation") {
  /** One process: nothing to tell anyone. */
  static readonly layerLocal: Layer.Layer<StatsInvalidation> = Layer.effect(
    StatsInvalidation,
    Effect.gen(function* () {
      const received = yield* Queue.unbounded<Invalidation>()
      return StatsInvalidation.of({ announce: () => Effect.void, received })
    })
  )

  /** Redis pub/sub on `channel` (the same for every process of one bot). */
  static readonly layerRedis = (options: { readonly channel: string }): Layer.Layer<StatsInvalidation, never, Redis.Redis> =>
    Layer.effect(StatsInvalidation, makeRedis(options.channel))

  /**
   * PostgreSQL: NOTIFY through the pool (`SqlClient`), LISTEN on a session of its own opened from `url` (the same
   * database). `channel` is a PostgreSQL identifier.
   */
  static readonly layerPostgres = (options: {
    readonly url: Redacted.Redacted<string>
    readonly channel: string
  }): Layer.Layer<StatsInvalidation, never, SqlClient.SqlClient> => Layer.effect(StatsInvalidation, makePostgres(options))
}

const messagesTotal = Metric.counter("confessions_stats_invalidation_messages_total", {
  description: "Stats-cache invalidation messages between processes, by direction (sent, received) and kind (users, all)",
  incremental: true
})

/** User ids per message: about 7 KB at most, under PostgreSQL's 8,000-byte NOTIFY payload limit. */
const idsPerMessage = 400

/** How a transport moves one text message to every process (its own included). */
interface Transport {
  readonly publish: (message: string) => Effect.Effect<void, unknown>
  /** Subscribes for the scope's lifetime; the returned effect takes the next message, and fails once the
   * subscription is lost. */
  readonly subscribe: Effect.Effect<Effect.Effect<string, unknown>, unknown, Scope.Scope>
}

const makeBus = (
  transport: Transport,
  options: {
    /** Redis only: watch the connection, and after a failure clear everything once a probe came back. */
    readonly ping?: Effect.Effect<unknown, unknown> | undefined
  } = {}
) =>
  Effect.gen(function* () {
    const origin = randomBytes(6).toString("base64url")
    const outgoing = yield* Queue.unbounded<UserId>()
    const received = yield* Queue.unbounded<Invalidation>()
    const sent = Metric.withAttributes(messagesTotal, { direction: "sent", kind: "users" })
    const gotUsers = Metric.withAttributes(messagesTotal, { direction: "received", kind: "users" })
    const gotAll = Metric.withAttributes(messagesTotal, { direction: "received", kind: "all" })

    const forgetEverything = Effect.andThen(Queue.offer(received, { _tag: "All" }), Metric.update(gotAll, 1))
    yield* Effect.forEach([sent, gotUsers, gotAll], (counter) => Metric.update(counter, 0), { discard: true })

    // ---- sending: ids that could not go out wait in `unsent` and join the next message ----
    const unsent = new Set<UserId>()
    const sendLoop = Effect.gen(function* () {
      for (const user of yield* Queue.takeAll(outgoing)) unsent.add(user)
      while (unsent.size > 0) {
        const batch = [...unsent].slice(0, idsPerMessage)
        yield* transport.publish(`${origin} ${batch.join(",")}`)
        for (const user of batch) unsent.delete(user)
        yield* Metric.update(sent, 1)
      }
    }).pipe(
      Effect.catchCause((cause) =>
        Effect.logWarning("stats invalidation could not be sent; retrying", cause).pipe(Effect.andThen(Effect.sleep("1 second")))
      ),
      Effect.forever
    )
    yield* Effect.forkScoped(sendLoop)

    // ---- receiving ----
    const probeNeeded = yield* Ref.make(false)
    const probeNonce = yield* Ref.make(0)

    const handle = (message: string) =>
      Effect.gen(function* () {
        const space = message.indexOf(" ")
        if (space < 0) return
        const from = message.slice(0, space)
        const body = message.slice(space + 1)
        if (body.startsWith("probe:")) {
          if (from !== origin || body !== `probe:${yield* Ref.get(probeNonce)}`) return
          if (!(yield* Ref.getAndSet(probeNeeded, false))) return
          yield* Effect.logInfo("stats invalidation: subscription confirmed after a connection failure; cache cleared")
          return yield* forgetEverything
        }
        if (from === origin) return
        const users = body.split(",").flatMap((id) => (/^[1-9][0-9]{0,15}$/.test(id) ? [UserId.make(Number(id))] : []))
        if (users.length === 0) return
        yield* Queue.offer(received, { _tag: "Users", users })
        yield* Metric.update(gotUsers, 1)
      })

    const subscriptions = yield* Ref.make(0)
    const listenOnce = Effect.scoped(
      Effect.gen(function* () {
        const next = yield* transport.subscribe
        if ((yield* Ref.getAndUpdate(subscriptions, (n) => n + 1)) > 0) {
          yield* Effect.logInfo("stats invalidation: subscribed again after losing the subscription; cache cleared")
          yield* forgetEverything
        }
        while (true) yield* Effect.flatMap(next, handle)
      })
    )
    yield* listenOnce.pipe(
      Effect.catchCause((cause) =>
        Effect.logWarning("stats invalidation subscription lost; subscribing again", cause).pipe(
          Effect.andThen(Effect.sleep("1 second"))
        )
      ),
      Effect.forever,
      Effect.forkScoped
    )

    if (options.ping !== undefined) {
      const ping = options.ping
      const watch = Effect.gen(function* () {
        const ok = yield* ping.pipe(Effect.timeout("2 seconds"), Effect.isSuccess)
        if (!ok) return yield* Ref.set(probeNeeded, true)
        if (!(yield* Ref.get(probeNeeded))) return
        const nonce = yield* Ref.updateAndGet(probeNonce, (n) => n + 1)
        yield* transport.publish(`${origin} probe:${nonce}`).pipe(Effect.ignore)
      })
      yield* watch.pipe(Effect.repeat(Schedule.spaced("1 second")), Effect.forkScoped)
    }

    return StatsInvalidation.of({
      announce: (user) => Effect.asVoid(Queue.offer(outgoing, user)),
      received
    })
  })

const makeRedis = (channel: string) =>
  Effect.gen(function* () {
    const redis = yield* Redis.Redis
    return yield* makeBus(
      {
        publish: (message) => redis.send("PUBLISH", channel, message),
        subscribe: Effect.map(redis.subscribe(channel), (queue) => Effect.map(Queue.take(queue), (m) => m.message))
      },
      { ping: redis.send("PING") }
    )
  })

const makePostgres = (options: { readonly url: Redacted.Redacted<string>; readonly channel: string }) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* makeBus({
      publish: (message) => sql`select pg_notify(${options.channel}, ${message})`,
      subscribe: Effect.gen(function* () {
        const session = yield* Session.make({ url: options.url, name: "stats-invalidation" })
        const queue = yield* session.listen(options.channel)
        return Effect.map(Queue.take(queue), (notification) => notification.payload)
      })
    })
  })
