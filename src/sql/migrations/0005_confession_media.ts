// A confession may be a photo or a voice note (re-sent by file_id, never forwarded) with an optional caption: the text
// column holds the caption then, and may be empty.
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    alter table confessions
      add column media_kind text check (media_kind in ('photo', 'voice')),
      add column media_file_id text check (char_length(media_file_id) between 1 and 256),
      add column media_duration integer check (media_duration >= 0)`
  yield* sql`alter table confessions drop constraint confessions_text_check`
  yield* sql`
    alter table confessions add constraint confessions_text_check
      check (char_length(text) <= 4096 and (char_length(text) >= 1 or media_kind is not null))`
  yield* sql`
    alter table confessions add constraint confessions_media_check
      check ((media_kind is null) = (media_file_id is null))`
})
