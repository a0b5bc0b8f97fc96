// The durable inbox of long polling. A fetched batch is stored in one statement before the next getUpdates call
// confirms it to Telegram, so confirmation never waits for handling (Telegram hands out at most 100 updates past the
// confirmed offset, which would otherwise cap throughput at 100 ÷ the slowest update in flight). On start, stored
// updates without a processed record are replayed; writes stay exactly-once through the processed-updates ledger.
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { Update } from "grammy/types"

export interface InboxOptions {
  /** How long a stored update is kept at most (Telegram's own limit is 24 hours). */
  readonly retention: Duration.Input
  /** How often handled updates are removed. */
  readonly cleanInterval: Duration.Input
}

export class Inbox extends Context.Service<
  Inbox,
  {
    /** Stores a fetched batch (one statement); storing an update twice keeps the first copy. */
    readonly store: (updates: ReadonlyArray<Update>) => Effect.Effect<void, SqlError>
    /** Stored updates that were never recorded as processed, oldest first: what a previous run left unfinished. */
    readonly unfinished: Effect.Effect<ReadonlyArray<Update>, SqlError>
    /** Removes handled updates and any older than the retention; returns how many went. */
    readonly clean: Effect.Effect<number, SqlError>
  }
>()("confessions/sql/Inbox") {
  static readonly layer = (options: InboxOptions): Layer.Layer<Inbox, never, SqlClient.SqlClient> =>
    Layer.effect(Inbox, make(options))
}

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
        const row = (update: Update) => ({ updateId: update.update_id, payload: JSON.stringify(update) })
        yield* sql`
          insert into update_inbox ${sql.insert([row(first), ...rest.map(row)])}
          on conflict (update_id) do nothing`
      }),
      unfinished: sql<{ payload: string }>`
        select i.payload::text as payload from update_inbox i
        where not exists (select 1 from processed_updates p where p.update_id = i.update_id)
        order by i.update_id`.pipe(
        // As text, so the client's snake_case → camelCase result mapping cannot touch Telegram's field names.
        Effect.map((rows) => rows.map((row) => JSON.parse(row.payload) as Update))
      ),
      clean
    })
  })
