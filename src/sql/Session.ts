// A PostgreSQL session of its own, outside the pool, for what must stay on one connection for a long time: the
// polling leader's advisory lock (it lives exactly as long as the session) and LISTEN. Held on a pooled connection,
// either would take one of DB_POOL_MAX away from the statements for good.
//
// A session to a machine that died without closing the socket would stay open on both ends for hours (TCP's
// default), and so would its lock. Keepalives are set on both ends: the client's socket probes after 2 s idle, and
// the server (tcp_keepalives_*, which any user may set for their own session) drops a silent client after about 4 s.
import { PgClient } from "@effect/sql-pg"
import { type Duration, Effect, type Redacted, type Scope } from "effect"
import { Reactivity } from "effect/reactivity"
import type { SqlError } from "effect/sql/SqlError"

export interface SessionOptions {
  readonly url: Redacted.Redacted<string>
  /** Shown in `pg_stat_activity.application_name` after "confessions-bot ". */
  readonly name: string
  readonly connectTimeout?: Duration.Input | undefined
}

/** Opens the session; it closes with the scope. A statement on a session whose socket broke fails at once. */
export const make = (options: SessionOptions): Effect.Effect<PgClient.PgClient, SqlError, Scope.Scope> =>
  PgClient.makeClient({
    url: options.url,
    applicationName: `confessions-bot ${options.name}`,
    connectTimeout: options.connectTimeout ?? "5 seconds",
    keepAlive: "2 seconds",
    startupParameters: { tcp_keepalives_idle: "2", tcp_keepalives_interval: "1", tcp_keepalives_count: "2" }
  }).pipe(Effect.provide(Reactivity.layer))
