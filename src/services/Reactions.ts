// Likes, dislikes and reports on comments, and the admins' decision on a reported comment. Each press is one SQL
// statement whose counter changes are derived from the rows it actually changed, so `comments.likes/dislikes/reports`
// always equal the rows of `reactions`/`reports`, and "exactly once" holds under any concurrency. A 👍/👎 press claims
// its update inside that same statement (no transaction around it: the press is one round trip); report and decide
// run in the update's claiming transaction (`Processed.transaction`). Either way a redelivered press changes nothing.
import { Context, Data, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../AppConfig.ts"
import { CommentId, UserId } from "../domain/Ids.ts"
import { canParticipate } from "../domain/Permissions.ts"
import * as Reaction from "../domain/Reaction.ts"
import type { Decision, Reported, Toggled } from "../domain/Reaction.ts"
import { decodeRow, Int8 } from "../sql/Rows.ts"
import { type AlreadyProcessed, Processed } from "../sql/Processed.ts"
import { commentVisible } from "../sql/Visibility.ts"
import { StatsCache } from "./StatsCache.ts"
import type { User } from "./Users.ts"

export interface ReactionsOptions {
  /** REPORT_THRESHOLD: the report count that alerts the admins. */
  readonly reportThreshold: number
}

/** The user is blocked by an admin. */
export class Blocked extends Data.TaggedClass("Blocked")<{}> {}

/** The comment is missing, hidden, or under a confession that is no longer approved. */
export class CommentNotFound extends Data.TaggedClass("CommentNotFound")<{ readonly id: CommentId }> {}

/** Another admin (or an earlier press) already decided on this comment. */
export class AlreadyDecided extends Data.TaggedClass("AlreadyDecided")<{ readonly decision: Decision }> {}

export class ReactionsError extends Data.TaggedError("ReactionsError")<{
  readonly reason: Blocked | CommentNotFound | AlreadyDecided
}> {}

export class Reactions extends Context.Service<
  Reactions,
  {
    /** 👍 / 👎: adds the reaction, removes it when pressed again, or switches from the other one. */
    readonly toggle: (input: {
      readonly commentId: CommentId
      readonly user: User
      readonly kind: Reaction.Kind
    }) => Effect.Effect<Toggled, SqlError | ReactionsError | AlreadyProcessed>
    /** ⚠️: counts once per user. */
    readonly report: (input: {
      readonly commentId: CommentId
      readonly user: User
    }) => Effect.Effect<Reported, SqlError | ReactionsError | AlreadyProcessed>
    /**
     * 🙈 Hide / ✔️ Keep on a reported comment, exactly once whoever presses first. The feature has checked that
     * `admin` is one (`Permissions.isAdmin`); the id is recorded as the decider.
     */
    readonly decide: (input: {
      readonly commentId: CommentId
      readonly admin: UserId
      readonly decision: Decision
    }) => Effect.Effect<void, SqlError | ReactionsError | AlreadyProcessed>
  }
>()("confessions/services/Reactions") {
  /** Needs the SqlClient, the processed-updates ledger and the program's one StatsCache. */
  static readonly layer = (
    options: ReactionsOptions
  ): Layer.Layer<Reactions, never, SqlClient.SqlClient | Processed | StatsCache> => Layer.effect(Reactions, make(options))

  /** REPORT_THRESHOLD from the configuration. */
  static readonly layerConfig: Layer.Layer<Reactions, never, SqlClient.SqlClient | Processed | StatsCache | AppConfig> =
    Layer.unwrap(
      Effect.gen(function* () {
        const config = yield* AppConfig
        return Reactions.layer({ reportThreshold: config.reportThreshold })
      })
    )
}

const make = (options: ReactionsOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const processed = yield* Processed
    const stats = yield* StatsCache
    const fail = (reason: ReactionsError["reason"]) => Effect.fail(new ReactionsError({ reason }))

    const currentReaction = (commentId: CommentId, userId: UserId) =>
      Effect.flatMap(
        sql`select kind from reactions where comment_id = ${commentId} and user_id = ${userId}`,
        ([row]) => (row === undefined ? Effect.succeed(null) : Effect.map(decodeRow(KindRow, row), (r) => r.kind))
      )

    const decisionOf = (commentId: CommentId) =>
      Effect.flatMap(sql`select decision from report_decisions where comment_id = ${commentId}`, ([row]) =>
        Effect.map(decodeRow(DecisionRow, row), (r) => r.decision)
      )

    return Reactions.of({
      toggle: Effect.fn("Reactions.toggle")(function* ({ commentId, user, kind }) {
        if (!canParticipate(user)) return yield* fail(new Blocked())
        // Invariants, in one statement without an explicit transaction (autocommit: all of it or none of it):
        // - `claim` records the update id. Every write below depends on `target`, which is empty unless `claim`
        //   returned its row, so a redelivered press (the id already recorded, or being recorded by a concurrent
        //   delivery: the insert waits for it and then does nothing) writes nothing, and a first delivery's claim
        //   commits exactly with its writes. Data-modifying CTEs all run once and to completion; reading `claim`
        //   inside `target` makes the claim happen before anything that depends on it.
        // - At most one of `removed` (same kind pressed again), `switched` (the other kind held) and `added` runs on
        //   the (comment, user) row; they lock it, and under READ COMMITTED a row changed by a concurrent press is
        //   re-checked (or skipped when gone), while `on conflict do nothing` absorbs a concurrent first press. So one
        //   user's concurrent presses leave at most one row, never two.
        // - The counter deltas come from what those three returned, not from a snapshot read, and `counted` adds them
        //   to the comment row under its row lock (re-read after waiting), so counters always equal the rows.
        // A tombstone (its writer erased their data with /forget: `author_id` null) takes no reactions and no reports.
        const claim = yield* processed.claimInStatement
        const [row] = yield* sql`
          with claim as (
            ${claim.cte}
          ), actor as (
            select id from users where id = ${user.id} and not blocked
          ), target as (
            select m.id, m.author_id
            from comments m join confessions f on f.id = m.confession_id
            where m.id = ${commentId} and ${commentVisible(sql, "m", "f")} and m.author_id is not null
              and exists (select 1 from actor) and exists (select 1 from claim)
          ), removed as (
            delete from reactions
            where comment_id = (select id from target) and user_id = ${user.id} and kind = ${kind}::text
            returning kind
          ), switched as (
            update reactions set kind = ${kind}::text, created_at = now()
            where comment_id = (select id from target) and user_id = ${user.id} and kind <> ${kind}::text
            returning kind
          ), added as (
            insert into reactions (comment_id, user_id, kind)
            select id, ${user.id}, ${kind}::text from target
            where not exists (select 1 from removed) and not exists (select 1 from switched)
            on conflict (comment_id, user_id) do nothing
            returning kind
          ), delta as (
            select
              (select count(*) from added)::int + (select count(*) from switched)::int
                - (select count(*) from removed)::int as pressed,
              -(select count(*) from switched)::int as other
          ), counted as (
            update comments set
              likes = likes + case when ${kind}::text = 'like' then delta.pressed else delta.other end,
              dislikes = dislikes + case when ${kind}::text = 'like' then delta.other else delta.pressed end
            from delta
            where id = (select id from target)
            returning likes, dislikes
          )
          select
            exists (select 1 from claim) as claimed,
            exists (select 1 from actor) as allowed,
            target.author_id,
            counted.likes,
            counted.dislikes,
            exists (select 1 from removed) as removed,
            exists (select 1 from switched) as switched,
            exists (select 1 from added) as added
          from (select 1) as one
          left join target on true
          left join counted on true`
        const outcome = yield* decodeRow(ToggleOutcome, row)
        yield* claim.commit(outcome.claimed)
        if (!outcome.allowed) return yield* fail(new Blocked())
        if (outcome.authorId === null || outcome.likes === null || outcome.dislikes === null) {
          return yield* fail(new CommentNotFound({ id: commentId }))
        }
        const before: Reaction.Current | undefined = outcome.removed
          ? kind
          : outcome.switched
            ? Reaction.opposite(kind)
            : outcome.added
              ? null
              : undefined
        // `undefined`: a concurrent press by the same user changed the row first and this press was absorbed; only
        // then does it cost a second statement, to report what the user now holds.
        const mine =
          before === undefined ? yield* currentReaction(commentId, user.id) : Reaction.toggle(before, kind).next
        if (before !== undefined) yield* stats.forget(outcome.authorId)
        return { likes: outcome.likes, dislikes: outcome.dislikes, mine }
      }),

      report: Effect.fn("Reactions.report")(function* ({ commentId, user }) {
        if (!canParticipate(user)) return yield* fail(new Blocked())
        // The reports primary key makes a user's report count once; `counted` increments under the comment's row
        // lock, so concurrent reports see distinct totals and exactly one of them equals the threshold.
        const [row] = yield* processed.transaction(sql`
          with actor as (
            select id from users where id = ${user.id} and not blocked
          ), target as (
            select m.id, m.reports
            from comments m join confessions f on f.id = m.confession_id
            where m.id = ${commentId} and ${commentVisible(sql, "m", "f")} and m.author_id is not null
              and exists (select 1 from actor)
          ), filed as (
            insert into reports (comment_id, user_id) select id, ${user.id} from target
            on conflict (comment_id, user_id) do nothing
            returning comment_id
          ), counted as (
            update comments set reports = reports + 1 where id = (select comment_id from filed)
            returning reports
          )
          select
            exists (select 1 from actor) as allowed,
            target.reports as before,
            (select reports from counted) as after
          from (select 1) as one
          left join target on true`)
        const outcome = yield* decodeRow(ReportOutcome, row)
        if (!outcome.allowed) return yield* fail(new Blocked())
        if (outcome.before === null) return yield* fail(new CommentNotFound({ id: commentId }))
        return outcome.after === null
          ? { reports: outcome.before, counted: false, alert: false }
          : { reports: outcome.after, counted: true, alert: outcome.after === options.reportThreshold }
      }),

      decide: Effect.fn("Reactions.decide")(function* ({ commentId, admin, decision }) {
        // The report_decisions primary key makes the first decision the only one. Hiding a reply also takes it off
        // its parent's reply counter, so the counter keeps matching the visible replies.
        const [row] = yield* processed.transaction(sql`
          with target as (
            select id, author_id, parent_id from comments where id = ${commentId}
          ), decided as (
            insert into report_decisions (comment_id, decision, decided_by)
            select id, ${decision}::text, ${admin} from target
            on conflict (comment_id) do nothing
            returning decision
          ), hid as (
            update comments set hidden = true
            where id = (select id from target) and ${decision}::text = 'hidden' and not hidden
              and exists (select 1 from decided)
            returning parent_id
          ), parent as (
            update comments set replies = replies - 1
            where id = (select parent_id from hid) and replies > 0
            returning id
          )
          select
            target.author_id,
            (select decision from decided) as decided,
            (select decision from report_decisions where comment_id = ${commentId}) as earlier,
            (select count(*) from parent)::int as parents
          from target`)
        if (row === undefined) return yield* fail(new CommentNotFound({ id: commentId }))
        const outcome = yield* decodeRow(DecideOutcome, row)
        if (outcome.decided === null) {
          // Our snapshot may predate a decision committed while we waited on its key; read it afresh then.
          const earlier = outcome.earlier ?? (yield* decisionOf(commentId))
          return yield* fail(new AlreadyDecided({ decision: earlier }))
        }
        // A hidden comment no longer counts as written nor earns its reactions.
        if (outcome.decided === "hidden" && outcome.authorId !== null) yield* stats.forget(outcome.authorId)
      })
    })

  })

// ---- rows -------------------------------------------------------------------------------------------------------

const ToggleOutcome = Schema.Struct({
  claimed: Schema.Boolean,
  allowed: Schema.Boolean,
  authorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))),
  likes: Schema.NullOr(Schema.Number),
  dislikes: Schema.NullOr(Schema.Number),
  removed: Schema.Boolean,
  switched: Schema.Boolean,
  added: Schema.Boolean
})

const ReportOutcome = Schema.Struct({
  allowed: Schema.Boolean,
  before: Schema.NullOr(Schema.Number),
  after: Schema.NullOr(Schema.Number)
})

const DecisionLiteral = Schema.Literals(["hidden", "kept"])

const DecideOutcome = Schema.Struct({
  /** `null`: a tombstone, whose writer is forgotten (/forget). */
  authorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))),
  decided: Schema.NullOr(DecisionLiteral),
  earlier: Schema.NullOr(DecisionLiteral)
})

const DecisionRow = Schema.Struct({ decision: DecisionLiteral })

const KindRow = Schema.Struct({ kind: Reaction.Kind })
