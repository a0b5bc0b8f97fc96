// Admin decisions on content, each exactly once: approve / reject are one conditional update on a pending row (the
// database picks the single winner when two admins press at the same instant), delete and (un)block write an audit
// row in the same statement, and blocking acts on a content id without ever telling the admin who the author is.
import { Context, Data, Effect, Layer, Option, Result, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { type Media, mediaOf, Status, validateRejectReason } from "../domain/Confession.ts"
import type { Subject } from "../domain/ContentRef.ts"
import { type ConfessionId, UserId } from "../domain/Ids.ts"
import type { TextProblem } from "../domain/Validation.ts"
import { decodeQuery, decodeRow, decodeRows, Int8, NullableInt8 } from "../sql/Rows.ts"
import { type AlreadyProcessed, Processed } from "../sql/Processed.ts"
import { Confession } from "./Confessions.ts"
import { StatsCache } from "./StatsCache.ts"
import { Users } from "./Users.ts"

/**
 * A decided confession with what its channel post and the author's notice need: the author's names. Only a pending
 * confession is decided, and a pending one always has its author (a forgotten person's are deleted).
 */
export class ModeratedConfession extends Confession.extend<ModeratedConfession>("ModeratedConfession")({
  authorId: Int8.pipe(Schema.decodeTo(UserId)),
  authorFirstName: Schema.String,
  authorUsername: Schema.NullOr(Schema.String)
}) {}


/** A deleted confession: what its admins' copies show, and its channel post when one was sent. */
export interface Deleted {
  readonly id: ConfessionId
  readonly text: string
  readonly media: Media | null
  readonly channelMessageId: Option.Option<number>
}

/** No such confession (or comment). */
export class NotFound extends Data.TaggedClass("NotFound")<{}> {}

/** Someone (maybe this admin) decided first; `status` is what it is now. */
export class AlreadyDecided extends Data.TaggedClass("AlreadyDecided")<{ readonly status: Status }> {}

/** A reject reason was sent for a confession that is not rejected (`status` is what it is now). */
export class NotRejected extends Data.TaggedClass("NotRejected")<{ readonly status: Status }> {}

/** A reject reason was sent by an admin other than the one who rejected. */
export class DecidedByAnotherAdmin extends Data.TaggedClass("DecidedByAnotherAdmin")<{}> {}

/** The author already got a reason for this rejection; a second one is not passed on. */
export class ReasonAlreadyGiven extends Data.TaggedClass("ReasonAlreadyGiven")<{}> {}

/** The reject reason is empty or longer than `Confession.rejectReasonMaxLength`. */
export class InvalidReason extends Data.TaggedClass("InvalidReason")<{ readonly problem: TextProblem }> {}

export class ModerationError extends Data.TaggedError("ModerationError")<{
  readonly reason: NotFound | AlreadyDecided | NotRejected | DecidedByAnotherAdmin | ReasonAlreadyGiven | InvalidReason
}> {}

export class Moderation extends Context.Service<
  Moderation,
  {
    /** pending → approved. Every other state fails `AlreadyDecided` and changes nothing. */
    readonly approve: (
      id: ConfessionId,
      admin: UserId
    ) => Effect.Effect<ModeratedConfession, SqlError | ModerationError | AlreadyProcessed>
    /** pending → rejected, optionally with a reason for the author (validated, ≤ 500 characters). */
    readonly reject: (
      id: ConfessionId,
      admin: UserId,
      reason?: string
    ) => Effect.Effect<ModeratedConfession, SqlError | ModerationError | AlreadyProcessed>
    /** The follow-up reason of the admin who rejected; accepted once. */
    readonly setRejectReason: (
      id: ConfessionId,
      admin: UserId,
      reason: string
    ) => Effect.Effect<ModeratedConfession, SqlError | ModerationError | AlreadyProcessed>
    /**
     * Any state but deleted → deleted, with an audit row. Returns the confession with the channel post to delete, if its
     * id is known. Deleting twice fails `AlreadyDecided { status: "deleted" }`.
     */
    readonly delete: (
      id: ConfessionId,
      admin: UserId
    ) => Effect.Effect<Deleted, SqlError | ModerationError | AlreadyProcessed>
    /** Blocks the author of the content; `true` when this changed anything. Never reveals who the author is. */
    readonly blockAuthorOf: (
      subject: Subject,
      admin: UserId
    ) => Effect.Effect<boolean, SqlError | ModerationError | AlreadyProcessed>
    readonly unblockAuthorOf: (
      subject: Subject,
      admin: UserId
    ) => Effect.Effect<boolean, SqlError | ModerationError | AlreadyProcessed>
  }
>()("confessions/services/Moderation") {
  /**
   * Needs the SqlClient, the program's one StatsCache and Users (a block forgets the author's remembered row), and
   * the processed-updates ledger (writes claim the update).
   */
  static readonly layer: Layer.Layer<Moderation, never, SqlClient.SqlClient | StatsCache | Users | Processed> = Layer.effect(
    Moderation,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const stats = yield* StatsCache
      const processed = yield* Processed
      const users = yield* Users

      const moderated = decodeQuery(ModeratedConfession)
      const deletedRows = decodeQuery(DeletedConfession)

      /** The confession as it is now, read after a conditional update matched nothing. */
      const currentState = (id: ConfessionId) =>
        Effect.flatMap(
          sql`select status, decided_by from confessions where id = ${id}`,
          (rows) => Effect.map(decodeRows(ConfessionState, rows), (states) => Option.fromNullishOr(states[0]))
        )

      const fail = (reason: ModerationError["reason"]) => Effect.fail(new ModerationError({ reason }))

      /** Why a `where status = 'pending'` update matched nothing: the row is gone, or it was decided already. */
      const whyNotPending = Effect.fnUntraced(function* (id: ConfessionId) {
        const state = yield* currentState(id)
        if (Option.isNone(state)) return yield* fail(new NotFound())
        // Nothing ever returns to pending (Confession.canTransition), so a pending row here would be a bug.
        if (state.value.status === "pending") {
          return yield* Effect.die(`confession ${id} matched no pending update but is pending`)
        }
        return yield* fail(new AlreadyDecided({ status: state.value.status }))
      })

      /** The single statement behind approve and reject: only a pending row changes, and only one caller gets it. */
      const decide = Effect.fnUntraced(function* (
        id: ConfessionId,
        admin: UserId,
        to: "approved" | "rejected",
        reason: string | null
      ) {
        const [decided] = yield* processed.transaction(
          moderated(sql`
          with decided as (
            update confessions
            set status = ${to}, decided_by = ${admin}, decided_at = now(), reject_reason = ${reason}
            where id = ${id} and status = 'pending'
            returning *
          )
          select decided.*, users.first_name as author_first_name, users.username as author_username
          from decided join users on users.id = decided.author_id`)
        )
        if (decided === undefined) return yield* whyNotPending(id)
        yield* stats.forget(decided.authorId)
        return decided
      })

      const validReason = (text: string) =>
        Result.match(validateRejectReason(text), {
          onSuccess: Effect.succeed,
          onFailure: (problem) => fail(new InvalidReason({ problem }))
        })

      const setBlocked = Effect.fnUntraced(function* (subject: Subject, admin: UserId, blocked: boolean) {
        const table = subject.kind === "confession" ? "confessions" : "comments"
        // One statement: find the author, flip the flag, write the audit row. The author's id stays inside the
        // database; the audit row names the content, and the caller learns only whether anything changed.
        const [row] = yield* processed.transaction(sql<{ readonly found: boolean; readonly changedUser: unknown }>`
          with target as (
            select author_id from ${sql(table)} where id = ${subject.id}
          ), changed as (
            update users set blocked = ${blocked}
            where id in (select author_id from target) and blocked <> ${blocked}
            returning id
          ), audit as (
            insert into audit_log (actor_id, action, subject_kind, subject_id, detail)
            select ${admin}::int8, ${blocked ? "block" : "unblock"}::text, ${subject.kind}::text, ${subject.id}::int8,
              case when exists (select 1 from changed) then null else 'no change' end
            from target
          )
          select exists (select 1 from target) as found, (select id from changed) as changed_user`)
        if (row === undefined || !row.found) return yield* fail(new NotFound())
        const changedUser = yield* decodeRow(ChangedUser, row.changedUser)
        if (changedUser === null) return false
        // Users remembers recent rows; the author's must show the new flag on their next update. The id stays here.
        yield* users.forget(changedUser)
        return true
      })

      return Moderation.of({
        approve: Effect.fn("Moderation.approve")(function* (id, admin) {
          return yield* decide(id, admin, "approved", null)
        }),

        reject: Effect.fn("Moderation.reject")(function* (id, admin, reason) {
          const text = reason === undefined ? null : yield* validReason(reason)
          return yield* decide(id, admin, "rejected", text)
        }),

        setRejectReason: Effect.fn("Moderation.setRejectReason")(function* (id, admin, reason) {
          const text = yield* validReason(reason)
          const [updated] = yield* processed.transaction(
            moderated(sql`
            with updated as (
              update confessions set reject_reason = ${text}
              where id = ${id} and status = 'rejected' and decided_by = ${admin} and reject_reason is null
              returning *
            )
            select updated.*, users.first_name as author_first_name, users.username as author_username
            from updated join users on users.id = updated.author_id`)
          )
          if (updated !== undefined) return updated
          const state = yield* currentState(id)
          if (Option.isNone(state)) return yield* fail(new NotFound())
          if (state.value.status !== "rejected") return yield* fail(new NotRejected({ status: state.value.status }))
          if (state.value.decidedBy !== admin) return yield* fail(new DecidedByAnotherAdmin())
          return yield* fail(new ReasonAlreadyGiven())
        }),

        delete: Effect.fn("Moderation.delete")(function* (id, admin) {
          // Data-modifying CTEs run exactly once whether or not the outer select reads them, so the audit row is
          // written in the same statement (and the same commit) as the state change, and only when it happened.
          const [deleted] = yield* processed.transaction(
            deletedRows(sql`
            with deleted as (
              update confessions set status = 'deleted'
              where id = ${id} and status <> 'deleted'
              returning author_id, text, channel_message_id, media_kind, media_file_id, media_duration
            ), audit as (
              insert into audit_log (actor_id, action, subject_kind, subject_id)
              select ${admin}::int8, 'delete', 'confession', ${id}::int8 from deleted
            )
            select author_id, text, channel_message_id, media_kind, media_file_id, media_duration from deleted`)
          )
          if (deleted === undefined) {
            const state = yield* currentState(id)
            return yield* Option.isNone(state)
              ? fail(new NotFound())
              : fail(new AlreadyDecided({ status: state.value.status }))
          }
          if (deleted.authorId !== null) yield* stats.forget(deleted.authorId)
          return {
            id,
            text: deleted.text,
            media: mediaOf(deleted),
            channelMessageId: Option.fromNullishOr(deleted.channelMessageId)
          }
        }),

        blockAuthorOf: Effect.fn("Moderation.blockAuthorOf")(function* (subject, admin) {
          return yield* setBlocked(subject, admin, true)
        }),

        unblockAuthorOf: Effect.fn("Moderation.unblockAuthorOf")(function* (subject, admin) {
          return yield* setBlocked(subject, admin, false)
        })
      })
    })
  )
}

const ConfessionState = Schema.Struct({
  status: Status,
  decidedBy: NullableInt8
})

const DeletedConfession = Schema.Struct({
  authorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))),
  text: Schema.String,
  channelMessageId: NullableInt8,
  mediaKind: Schema.NullOr(Schema.Literals(["photo", "voice"])),
  mediaFileId: Schema.NullOr(Schema.String),
  mediaDuration: Schema.NullOr(Schema.Number)
})

const ChangedUser = Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId)))
