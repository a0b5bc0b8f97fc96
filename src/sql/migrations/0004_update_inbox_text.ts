// The inbox stores updates as the JSON text they arrived as, not `jsonb`: jsonb refuses the escapes `\u0000` and
// unpaired surrogates (`\ud800`) that any client may put in a message or a name, and one such update made the whole
// fetched batch unstorable, so long polling stopped for everyone. `text` holds any JSON (the escapes are plain
// ASCII in it) and the bot never queries inside a payload. `attempts` counts tries that started after a restart or
// failed, so an update that keeps failing, or keeps taking the process down, is skipped after a bounded number.
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`alter table update_inbox alter column payload type text using payload::text`
  yield* sql`alter table update_inbox add column attempts integer not null default 0 check (attempts >= 0)`
})
