// Liveness and readiness: /healthz answers while the process runs; /readyz answers 200 only while the database
// answers and the update source is running, 503 otherwise (load balancers stop sending webhooks to us then).
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { SqlClient } from "effect/sql"
import { UpdateSource } from "../updates/UpdateSource.ts"

export const layer: Layer.Layer<never, never, HttpRouter.HttpRouter | SqlClient.SqlClient | UpdateSource> = Layer.unwrap(
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const source = yield* UpdateSource
    const databaseAnswers = sql`select 1`.pipe(
      Effect.timeout("2 seconds"),
      Effect.as(true),
      Effect.catchCause(() => Effect.succeed(false))
    )
    const ready = Effect.gen(function* () {
      const [database, updates] = yield* Effect.all([databaseAnswers, source.isRunning], { concurrency: 2 })
      const body = JSON.stringify({ database: database ? "ok" : "unreachable", updates: updates ? source.mode : "stopped" })
      return HttpServerResponse.text(body, { status: database && updates ? 200 : 503, contentType: "application/json" })
    })
    return Layer.mergeAll(
      HttpRouter.add("GET", "/healthz", HttpServerResponse.text("ok")),
      HttpRouter.add("GET", "/readyz", ready)
    )
  })
)
