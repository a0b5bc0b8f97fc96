// The transactional outbox: every Bot API call that follows a write is stored by the write's own transaction and
// delivered at least once by the courier. Times are the program's clock (passed in), so several processes agree as
// far as their clocks do and tests can move time. Calls are JSON kept as text: JSON.stringify escapes NUL and lone
// surrogates, which jsonb would refuse, so any text a user could send is stored. Admin copies are outbox rows of their
// topic now, so the old table of copies goes.
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table outbox (
      id bigserial primary key,
      dedupe_key text not null unique check (char_length(dedupe_key) between 1 and 200),
      kind text not null check (char_length(kind) between 1 and 40),
      topic text check (char_length(topic) <= 100),
      call text not null,
      parent_id bigint references outbox (id) on delete set null,
      status text not null default 'pending'
        check (status in ('pending', 'delivered', 'failed', 'cancelled', 'skipped')),
      attempts integer not null default 0,
      due_at timestamptz not null,
      locked_until timestamptz,
      last_error text check (char_length(last_error) <= 1000),
      result_message_id bigint,
      on_delivered text,
      created_at timestamptz not null,
      finished_at timestamptz
    )`
  yield* sql`create index outbox_due_idx on outbox (due_at, id) where status = 'pending'`
  yield* sql`create index outbox_topic_idx on outbox (topic, kind) where topic is not null`
  yield* sql`create index outbox_parent_idx on outbox (parent_id) where parent_id is not null`
  yield* sql`create index outbox_finished_idx on outbox (finished_at) where status <> 'pending'`
  yield* sql`drop table admin_notifications`
})
