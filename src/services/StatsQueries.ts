// The statistics read model: a user's profile numbers and the admins' system numbers, each in exactly one SQL
// statement (one round trip), so the stats cache can promise "a miss costs one statement".
// The numbers are raw counts; impact points and acceptance are derived in domain/Profile.ts.
import { Context, Effect, Layer, Metric, Schema } from "effect"
import { SqlClient, SqlSchema } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { UserId } from "../domain/Ids.ts"
import { Int8 } from "../sql/Rows.ts"
import type { ProfileStats } from "../domain/Profile.ts"
import type { SystemStats } from "../domain/Stats.ts"

/** Statements this service sent to the database, by `query` ("profile" or "system"). */
export const statementsTotal = Metric.counter("confessions_stats_queries_total", {
  description: "SQL statements issued by the statistics queries",
  incremental: true
})

export class StatsQueries extends Context.Service<
  StatsQueries,
  {
    /** One user's counts; a user who never wrote to the bot gets the defaults (anonymity on, all zero). */
    readonly profileOf: (user: UserId) => Effect.Effect<ProfileStats, SqlError>
    readonly system: Effect.Effect<SystemStats, SqlError>
  }
>()("confessions/services/StatsQueries") {
  static readonly layer: Layer.Layer<StatsQueries, never, SqlClient.SqlClient> = Layer.effect(
    StatsQueries,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient

      // Hidden comments are moderated away: they neither count as written nor earn their reactions.
      const profileRow = SqlSchema.findOne({
        Request: Schema.Number,
        Result: ProfileRow,
        execute: (user) => sql`
          select
            coalesce((select anonymous_default from users where id = ${user}), true) as anonymous_default,
            (select count(*) from confessions where author_id = ${user} and status = 'approved') as approved_confessions,
            written.comments_written,
            written.likes_received,
            written.dislikes_received
          from (
            select
              count(*) as comments_written,
              coalesce(sum(likes), 0) as likes_received,
              coalesce(sum(dislikes), 0) as dislikes_received
            from comments
            where author_id = ${user} and not hidden
          ) as written`
      })

      // One pass per table; `now()` is read once, so every "last 24 h" number uses the same window.
      const systemRow = SqlSchema.findOne({
        Request: Schema.Void,
        Result: SystemRow,
        execute: () => sql`
          with window_start as (select now() - interval '24 hours' as since),
          u as (
            select
              count(*) as users,
              count(*) filter (where created_at >= (select since from window_start)) as new_users,
              count(*) filter (where last_seen_at >= (select since from window_start)) as active_users
            from users
          ),
          c as (
            select
              count(*) filter (where status = 'pending') as confessions_pending,
              count(*) filter (where status = 'approved') as confessions_approved,
              count(*) filter (where status = 'rejected') as confessions_rejected,
              count(*) filter (where status = 'deleted') as confessions_deleted,
              count(*) filter (where created_at >= (select since from window_start)) as confessions_last24h
            from confessions
          ),
          m as (
            select
              count(*) as comments,
              count(*) filter (where created_at >= (select since from window_start)) as comments_last24h
            from comments
          ),
          r as (
            select
              count(*) as reactions,
              count(*) filter (where created_at >= (select since from window_start)) as reactions_last24h
            from reactions
          )
          select * from u, c, m, r`
      })

      const counted = (query: "profile" | "system") =>
        Metric.update(Metric.withAttributes(statementsTotal, { query }), 1)

      return StatsQueries.of({
        profileOf: Effect.fn("StatsQueries.profileOf")(function* (user) {
          yield* counted("profile")
          return yield* profileRow(user).pipe(Effect.catchTag(["SchemaError", "NoSuchElementError"], Effect.die))
        }),
        system: Effect.gen(function* () {
          yield* counted("system")
          const row = yield* systemRow(undefined).pipe(Effect.catchTag(["SchemaError", "NoSuchElementError"], Effect.die))
          return {
            users: row.users,
            confessionsPending: row.confessionsPending,
            confessionsApproved: row.confessionsApproved,
            confessionsRejected: row.confessionsRejected,
            confessionsDeleted: row.confessionsDeleted,
            comments: row.comments,
            reactions: row.reactions,
            last24h: {
              newUsers: row.newUsers,
              activeUsers: row.activeUsers,
              confessions: row.confessionsLast24h,
              comments: row.commentsLast24h,
              reactions: row.reactionsLast24h
            }
          }
        }).pipe(Effect.withSpan("StatsQueries.system"))
      })
    })
  )
}

// count(*) and sum(integer) are int8 in PostgreSQL and arrive as bigint.
const ProfileRow = Schema.Struct({
  anonymousDefault: Schema.Boolean,
  approvedConfessions: Int8,
  commentsWritten: Int8,
  likesReceived: Int8,
  dislikesReceived: Int8
})

const SystemRow = Schema.Struct({
  users: Int8,
  newUsers: Int8,
  activeUsers: Int8,
  confessionsPending: Int8,
  confessionsApproved: Int8,
  confessionsRejected: Int8,
  confessionsDeleted: Int8,
  confessionsLast24h: Int8,
  comments: Int8,
  commentsLast24h: Int8,
  reactions: Int8,
  reactionsLast24h: Int8
})
