// Launches the real application graph (App.make) against the Bot API emulator and a test database, with settings from
// a plain record, for end-to-end tests. Telegram's outgoing rate limits are raised so scripted sessions run fast.
import type { PgClient } from "@effect/sql-pg"
import { Effect, Layer } from "effect"
import type { SqlClient } from "effect/sql"
import type { Courier } from "../../src/services/Courier.ts"
import * as App from "../../src/App.ts"
import { AppConfig } from "../../src/AppConfig.ts"
import { BotApiEmulator, token, unthrottledEnv } from "../../src/emulator/BotApiEmulator.ts"

export const admins = { bea: 900_001, cal: 900_002 } as const

export const baseEnv = (apiRoot: string): Record<string, string> => ({
  BOT_TOKEN: token,
  TELEGRAM_API_ROOT: apiRoot,
  HTTP_PORT: "0",
  ADMIN_IDS: `${admins.bea},${admins.cal}`,
  CHANNEL_ID: "-1001234567890",
  ADMIN_NOTIFY_JITTER: "0 seconds",
  LOG_LEVEL: "warn",
  LOG_FORMAT: "json",
  SHUTDOWN_GRACE: "5 seconds",
  ...unthrottledEnv
})

/**
 * The app with the given features, reading `env` on top of `baseEnv`; needs a `BotApiEmulator` and a database
 * (the database layer is given separately so a test can restart the app on the same data).
 */
export const layer = <E, R>(options: {
  readonly features: Layer.Layer<never, E, R>
  readonly env?: Record<string, string>
  readonly database: Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, unknown>
}) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      return App.make({ features: options.features, database: options.database }).pipe(
        Layer.provideMerge(AppConfig.layerFromEnv({ ...baseEnv(fake.apiRoot), ...options.env }))
      )
    })
  )

/**
 * Delivers what the outbox holds that is due (`courier.settle`) until the table agrees that nothing due is left: a
 * row the delivery fiber recorded just as `settle` looked (a parent sent, so its child fell due) is delivered too.
 */
export const settled = (courier: Courier["Service"], sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    for (;;) {
      yield* courier.settle
      const [due] = yield* sql<{ n: number }>`
        select count(*)::int as n from outbox o
        where o.status = 'pending' and o.due_at <= now()
          and (o.parent_id is null or exists (select 1 from outbox p where p.id = o.parent_id and p.status <> 'pending'))`
      if ((due?.n ?? 0) === 0) return
      yield* Effect.sleep("20 millis")
    }
  }).pipe(Effect.timeoutOrElse({ duration: "20 seconds", orElse: () => Effect.die(new Error("the outbox kept due rows for 20 s")) }))
