// The initial schema: every table PRODUCT.md's flows need, with the constraints that make "exactly once" and
// "one per user" true in the database itself, and an index per query path.
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table users (
      id bigint primary key check (id > 0),
      first_name text not null default '' check (char_length(first_name) <= 256),
      last_name text check (char_length(last_name) <= 256),
      username text check (char_length(username) <= 64),
      anonymous_default boolean not null default true,
      blocked boolean not null default false,
      inactive boolean not null default false,
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now()
    )`
  yield* sql`
    create table confessions (
      id bigserial primary key,
      author_id bigint not null references users (id),
      text text not null check (char_length(text) between 1 and 4096),
      anonymous boolean not null,
      status text not null default 'pending' check (status in ('pending', 'approved', 'rejected', 'deleted')),
      channel_message_id bigint,
      decided_by bigint,
      decided_at timestamptz,
      reject_reason text check (char_length(reject_reason) <= 1000),
      created_at timestamptz not null default now()
    )`
  yield* sql`create index confessions_pending_idx on confessions (id) where status = 'pending'`
  yield* sql`create index confessions_author_idx on confessions (author_id, id desc)`
  yield* sql`create index confessions_created_idx on confessions (created_at)`
  yield* sql`
    create table comments (
      id bigserial primary key,
      confession_id bigint not null references confessions (id) on delete cascade,
      parent_id bigint references comments (id) on delete cascade,
      author_id bigint not null references users (id),
      text text not null check (char_length(text) between 1 and 4096),
      hidden boolean not null default false,
      likes integer not null default 0 check (likes >= 0),
      dislikes integer not null default 0 check (dislikes >= 0),
      reports integer not null default 0 check (reports >= 0),
      replies integer not null default 0 check (replies >= 0),
      created_at timestamptz not null default now()
    )`
  yield* sql`create index comments_thread_idx on comments (confession_id, id desc) where parent_id is null and not hidden`
  yield* sql`create index comments_replies_idx on comments (parent_id, id) where parent_id is not null and not hidden`
  yield* sql`create index comments_author_idx on comments (author_id, id desc)`
  yield* sql`create index comments_created_idx on comments (created_at)`
  yield* sql`
    create table reactions (
      comment_id bigint not null references comments (id) on delete cascade,
      user_id bigint not null references users (id),
      kind text not null check (kind in ('like', 'dislike')),
      created_at timestamptz not null default now(),
      primary key (comment_id, user_id)
    )`
  yield* sql`create index reactions_created_idx on reactions (created_at)`
  yield* sql`
    create table reports (
      comment_id bigint not null references comments (id) on delete cascade,
      user_id bigint not null references users (id),
      created_at timestamptz not null default now(),
      primary key (comment_id, user_id)
    )`
  yield* sql`
    create table report_decisions (
      comment_id bigint primary key references comments (id) on delete cascade,
      decision text not null check (decision in ('hidden', 'kept')),
      decided_by bigint not null,
      decided_at timestamptz not null default now()
    )`
  yield* sql`
    create table feedback (
      id bigserial primary key,
      author_id bigint not null references users (id),
      text text not null check (char_length(text) between 1 and 4096),
      status text not null default 'open' check (status in ('open', 'resolved')),
      admin_note text check (char_length(admin_note) <= 1000),
      resolved_by bigint,
      resolved_at timestamptz,
      created_at timestamptz not null default now()
    )`
  yield* sql`create index feedback_open_idx on feedback (id) where status = 'open'`
  yield* sql`
    create table admin_notifications (
      kind text not null check (kind in ('confession', 'report', 'feedback')),
      subject_id bigint not null,
      admin_id bigint not null,
      chat_id bigint not null,
      message_id bigint not null,
      created_at timestamptz not null default now(),
      primary key (kind, subject_id, admin_id)
    )`
  yield* sql`
    create table audit_log (
      id bigserial primary key,
      actor_id bigint not null,
      action text not null check (char_length(action) between 1 and 64),
      subject_kind text not null check (subject_kind in ('confession', 'comment', 'user', 'feedback')),
      subject_id bigint not null,
      detail text check (char_length(detail) <= 2000),
      created_at timestamptz not null default now()
    )`
  yield* sql`create index audit_log_subject_idx on audit_log (subject_kind, subject_id)`
  yield* sql`
    create table processed_updates (
      update_id bigint primary key,
      processed_at timestamptz not null default now()
    )`
  yield* sql`create index processed_updates_at_idx on processed_updates (processed_at)`
})
