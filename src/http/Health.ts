// Liveness and readiness: /healthz answers while the process runs; /readyz answers 200 only while the database
// answers, Redis answers (when REDIS_URL is set) and the update source does its part, 503 otherwise (load balancers
// stop sending webhooks to us then). Both answer JSON saying why, and which role this process has: a polling standby
// is ready (it serves /metrics and delivers the outbox), it just does not poll.
import { Cause, Effect, Layer, Option } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { Redis } from "effect/persistence"
import { SqlClient } from "effect/sql"
import { UpdateSource } from "../updates/UpdateSource.ts"

/** How long a dependency may take to answer a check. */
const checkTimeout = "2 seconds"

export const layer: Layer.Layer<never, never, HttpRouter.HttpRouter | SqlClient.SqlClient | UpdateSource> = Layer.unwrap(
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const source = yield* UpdateSource
    const redis = yield* Effect.serviceOption(Redis.Redis)
    const databaseAnswers = check(sql`select 1`)
    const redisAnswers = Option.match(redis, {
      onNone: () => Effect.succeed(Option.none<Option.Option<string>>()),
      onSome: (client) => Effect.map(check(client.send("PING")), Option.some)
    })
    const ready = Effect.gen(function* () {
      const [database, cache, running, role] = yield* Effect.all(
        [databaseAnswers, redisAnswers, source.isRunning, source.role],
        { concurrency: "unbounded" }
      )
      const reasons: Array<string> = []
      if (Option.isSome(database)) reasons.push(`database unreachable: ${database.value}`)
      if (Option.isSome(cache) && Option.isSome(cache.value)) reasons.push(`redis unreachable: ${cache.value.value}`)
      if (!running) reasons.push(`${source.mode} stopped`)
      const body = {
        status: reasons.length === 0 ? "ready" : "unready",
        database: Option.isNone(database) ? "ok" : "unreachable",
        ...(Option.isSome(cache) ? { redis: Option.isNone(cache.value) ? "ok" : "unreachable" } : {}),
        updates: running ? source.mode : "stopped",
        role,
        reasons
      }
      return HttpServerResponse.text(JSON.stringify(body), {
        status: reasons.length === 0 ? 200 : 503,
        contentType: "application/json"
      })
    })
    return Layer.mergeAll(
      HttpRouter.add("GET", "/healthz", HttpServerResponse.text("ok")),
      HttpRouter.add("GET", "/readyz", ready)
    )
  })
)

/** `None` when `probe` answered in time, else why not (one line). */
const check = <A, E>(probe: Effect.Effect<A, E>): Effect.Effect<Option.Option<string>> =>
  probe.pipe(
    Effect.timeout(checkTimeout),
    Effect.as(Option.none<string>()),
    Effect.catchCause((cause) => Effect.succeed(Option.some(describe(cause))))
  )

const describe = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  // A RedisError carries its reason only in `cause` (node-redis's own error).
  const inner: unknown = error instanceof Error && error.message === "" ? error.cause : error
  const text = inner instanceof Error ? `${inner.name === "Error" ? "" : `${inner.name}: `}${inner.message}` : String(inner)
  return (text.split("\n")[0] ?? "").slice(0, 200) || "no answer"
}
