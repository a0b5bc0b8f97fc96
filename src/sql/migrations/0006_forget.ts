// /forget: a person can be erased while what others built on their content stays. `author_id is null` means "written
// by someone who is forgotten": a published confession kept in the channel as an anonymous post, a confession shell
// whose post was deleted on request (status 'deleted', no text, no media), or a comment tombstone (no text) kept
// because other people replied under it. Only such rows (and a media confession's caption) may have an empty text.
// Indexes serve the per-person reads of /mydata and the deletes of /forget (reactions and reports are otherwise keyed
// by comment, and a deleted comment's or confession's foreign keys are checked through them).
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`alter table confessions alter column author_id drop not null`
  yield* sql`alter table comments alter column author_id drop not null`
  // Migration 5's rule (a text, or media with a possibly empty caption), plus the shell of a forgotten person.
  yield* sql`alter table confessions drop constraint confessions_text_check`
  yield* sql`
    alter table confessions add constraint confessions_text_check check (
      char_length(text) <= 4096
      and (char_length(text) >= 1 or media_kind is not null or (author_id is null and status = 'deleted')))`
  yield* sql`alter table comments drop constraint comments_text_check`
  yield* sql`
    alter table comments add constraint comments_text_check check (
      char_length(text) between 1 and 4096 or (text = '' and author_id is null))`
  // Deleting comments (and pending or rejected confessions) checks their foreign keys per deleted row: without full
  // indexes on these columns each check scans the comments (1,000 comments of one person: 6.9 s; with them: 0.1 s).
  yield* sql`create index comments_parent_idx on comments (parent_id) where parent_id is not null`
  yield* sql`create index comments_confession_idx on comments (confession_id)`
  yield* sql`create index reactions_user_idx on reactions (user_id)`
  yield* sql`create index reports_user_idx on reports (user_id)`
  yield* sql`create index feedback_author_idx on feedback (author_id, id)`
})
