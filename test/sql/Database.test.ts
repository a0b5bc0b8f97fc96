import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Database from "../../src/sql/Database.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const constraintViolated = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(effect), (exit) => Exit.isFailure(exit))

describe("Database", () => {
  layer(TestDatabase.layer(), { timeout: "120 seconds" })(`migrations (${TestDatabase.backend})`, (it) => {
    it.effect("migrate - applies once, and again on a migrated database changes nothing", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const tables = yield* sql<{ tableName: string }>`
          select table_name from information_schema.tables where table_schema = 'public' order by table_name`
        const names = tables.map((t) => t.tableName)
        for (const table of ["users", "confessions", "comments", "reactions", "reports", "feedback", "outbox", "audit_log", "processed_updates"]) {
          assert.include(names, table)
        }
        const before = yield* sql<{ n: number }>`select count(*)::int as n from effect_sql_migrations`
        yield* Database.migrate
        const after = yield* sql<{ n: number }>`select count(*)::int as n from effect_sql_migrations`
        assert.deepStrictEqual(after, before)
      }))

    it.effect("schema - rejects a bad status, a duplicate reaction and over-long text", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`insert into users (id, first_name) values (1, 'Ann'), (2, 'Bob')`
        const [confession] = yield* sql<{ id: bigint }>`
          insert into confessions (author_id, text, anonymous) values (1, 'hello', true) returning id`
        assert.isTrue(yield* constraintViolated(sql`
          insert into confessions (author_id, text, anonymous, status) values (1, 'x', true, 'published')`))
        assert.isTrue(yield* constraintViolated(sql`
          insert into confessions (author_id, text, anonymous) values (1, ${"x".repeat(4097)}, true)`))
        assert.isTrue(yield* constraintViolated(sql`
          insert into confessions (author_id, text, anonymous) values (1, '', true)`))
        const [comment] = yield* sql<{ id: bigint }>`
          insert into comments (confession_id, author_id, text) values (${confession!.id}, 2, 'hi') returning id`
        yield* sql`insert into reactions (comment_id, user_id, kind) values (${comment!.id}, 1, 'like')`
        assert.isTrue(yield* constraintViolated(sql`
          insert into reactions (comment_id, user_id, kind) values (${comment!.id}, 1, 'dislike')`))
        assert.isTrue(yield* constraintViolated(sql`
          insert into reactions (comment_id, user_id, kind) values (${comment!.id}, 2, 'love')`))
        yield* sql`insert into reports (comment_id, user_id) values (${comment!.id}, 1)`
        assert.isTrue(yield* constraintViolated(sql`insert into reports (comment_id, user_id) values (${comment!.id}, 1)`))
        assert.isTrue(yield* constraintViolated(sql`
          insert into comments (confession_id, author_id, text) values (${confession!.id}, 999, 'no such user')`))
      }))
  })

  layer(TestDatabase.layer(), { timeout: "120 seconds" })(`errors (${TestDatabase.backend})`, (it) => {
    it.effect("a failed statement's message carries PostgreSQL's reason; its kind and constraint are kept", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`create table guarded (id int constraint guarded_id_positive check (id > 0), name text)`
        yield* sql`create unique index guarded_name_unique on guarded (name)`
        const check = yield* Effect.flip(sql`insert into guarded values (-1, 'a')`)
        assert.strictEqual(check.reason._tag, "ConstraintError")
        assert.include(check.message, 'violates check constraint "guarded_id_positive"')
        assert.include(check.message, "[23514]")
        yield* sql`insert into guarded values (1, 'taken')`
        const unique = yield* Effect.flip(sql`insert into guarded values (2, 'taken')`)
        assert.strictEqual(unique.reason._tag, "UniqueViolation")
        assert.strictEqual(unique.reason._tag === "UniqueViolation" ? unique.reason.constraint : "", "guarded_name_unique")
        assert.include(unique.message, "guarded_name_unique")
        // PostgreSQL's DETAIL quotes the row ("Key (name)=(taken) already exists"); it stays out of the message.
        assert.notInclude(unique.message, "(taken)")
        const nul = yield* Effect.flip(sql`insert into guarded values (3, ${"a\u0000b"})`)
        assert.include(nul.message, "0x00")
        const inTransaction = yield* Effect.flip(sql.withTransaction(sql`insert into guarded values (-2, 'b')`))
        assert.include(inTransaction.message, "guarded_id_positive")
      }))
  })

  describe("embedded PGlite", () => {
    layer(Layer.empty, { timeout: "120 seconds" })("persistence", (it) => {
      it.effect("layer - data survives a restart with the same DATA_DIR", () =>
        Effect.gen(function* () {
          const dataDir = yield* Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "confessions-pglite-")))
          const options = { ...TestDatabase.pgliteOptions, dataDir }
          yield* Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            yield* sql`insert into users (id, first_name) values (42, 'Persisted')`
          }).pipe(Effect.provide(Database.layer(options)))
          const names = yield* Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            return yield* sql<{ firstName: string }>`select first_name from users where id = 42`
          }).pipe(Effect.provide(Database.layer(options)))
          assert.deepStrictEqual(names.map((n) => n.firstName), ["Persisted"])
          yield* Effect.promise(() => Fs.rm(dataDir, { recursive: true, force: true }))
        }))
    })
  })
})

