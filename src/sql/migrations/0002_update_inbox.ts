// Long polling's durable inbox: a fetched batch is stored before Telegram is told to forget it, so confirmation no
// longer waits for handling, and anything unfinished at a crash or shutdown is replayed from here on the next start.
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table update_inbox (
      update_id bigint primary key,
      payload jsonb not null,
      received_at timestamptz not null default now()
    )`
  yield* sql`create index update_inbox_received_idx on update_inbox (received_at)`
})
