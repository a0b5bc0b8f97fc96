// The durable inbox of long polling. A fetched batch is stored in one statement before the next getUpdates call
// confirms it to Telegram, so confirmation never waits for handling (Telegram hands out at most 100 updates past the
// confirmed offset, which would otherwise cap throughput at 100 ÷ the slowest update in flight). On start, stored
// updates without a processed record are replayed; writes stay exactly-once through the processed-updates ledger.
// Updates are kept as the JSON text they arrived as, so anything a client can send is storable (see migration 4),
// with a count of tries, so that one that keeps failing or crashing can be given up on.
import { Context, Duration, Effect, Layer, Option, Schedule, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { Update } from "grammy/types"
import { UpdateId } from "../domain/Ids.ts"

export interface InboxOptions {
  /** How long a stored update is kept at most (Telegram's own limit is 24 hours). */
  readonly retention: Duration.Input
  /** How often handled updates are removed. */
  readonly cleanInterval: Duration.Input
}

/** An update a previous run stored and did not finish. */
export interface StoredUpdate {
  readonly updateId: UpdateId
  /** The update as it arrived, parsed back from its JSON text (`None` if the text does not parse); unchecked. */
  readonly payload: Option.Option<unknown>
  /** Tries counted so far (see `countAttempt`). */
  readonly attempts: number
}

export class Inbox extends Context.Service<
  Inbox,
  {
    /** Stores a fetched batch (one statement); storing an update twice keeps the first copy. */
    readonly store: (updates: ReadonlyArray<Update>) => Effect.Effect<void, SqlError>
    /** Stored updates that were never recorded as processed, oldest first: what a previous run left unfinished. */
    readonly unfinished: Effect.Effect<ReadonlyArray<StoredUpdate>, SqlError>
    /** The newest stored update id (-1 when none): everything up to it is durable and may be confirmed to Telegram. */
    readonly newest: Effect.Effect<number, SqlError>
    /** Counts one more try of a stored update; returns the new count (0 when the update is not stored). */
    readonly countAttempt: (updateId: UpdateId) => Effect.Effect<number, SqlError>
    /** Removes handled updates and any older than the retention; returns how many went. */
    readonly clean: Effect.Effect<number, SqlError>
  }
>()("confessions/sql/Inbox") {
  static readonly layer = (options: InboxOptions): Layer.Layer<Inbox, never, SqlClient.SqlClient> =>
    Layer.effect(Inbox, make(options))
}

const parseJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

const make = (options: InboxOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const retentionSeconds = Duration.toSeconds(Duration.fromInputUnsafe(options.retention))

    const clean = sql<{ n: number }>`
      with gone as (
        delete from update_inbox i
        where exists (select 1 from processed_updates p where p.update_id = i.update_id)
           or i.received_at < now() - make_interval(secs => ${retentionSeconds})
        returning 1
      )
      select count(*)::int as n from gone`.pipe(Effect.map((rows) => rows[0]?.n ?? 0))

    yield* clean.pipe(
      Effect.catchCause((cause) => Effect.logWarning("cleaning the update inbox failed", cause)),
      Effect.repeat(Schedule.spaced(options.cleanInterval)),
      Effect.forkScoped
    )

    return Inbox.of({
      store: Effect.fnUntraced(function* (updates) {
        const [first, ...rest] = updates
        if (first === undefined) return
        // JSON.stringify writes NUL and unpaired surrogates as `\u0000`-style escapes, which `text` stores as is.
        const row = (update: Update) => ({ updateId: update.update_id, payload: JSON.stringify(update) })
        yield* sql`
          insert into update_inbox ${sql.insert([row(first), ...rest.map(row)])}
          on conflict (update_id) do nothing`
      }),
      unfinished: sql<{ updateId: bigint | number | string; payload: string; attempts: number }>`
        select i.update_id, i.payload, i.attempts from update_inbox i
        where not exists (select 1 from processed_updates p where p.update_id = i.update_id)
        order by i.update_id`.pipe(
        // Parsed here rather than by the client, so its snake_case → camelCase mapping cannot touch Telegram's fields.
        Effect.map((rows) =>
          rows.map((row) => ({
            updateId: UpdateId.make(Number(row.updateId)),
            payload: parseJson(row.payload),
            attempts: row.attempts
          }))
        )
      ),
      newest: sql<{ max: bigint | number | string | null }>`select max(update_id) as max from update_inbox`.pipe(
        Effect.map((rows) => (rows[0]?.max === null || rows[0]?.max === undefined ? -1 : Number(rows[0].max)))
      ),
      countAttempt: Effect.fnUntraced(function* (updateId) {
        const rows = yield* sql<{ attempts: number }>`
          update update_inbox set attempts = attempts + 1 where update_id = ${updateId} returning attempts`
        return rows[0]?.attempts ?? 0
      }),
      clean
    })
  })
