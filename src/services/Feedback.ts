// Feedback to the admins: users submit a text, admins page through the open items and resolve each exactly once.
// Every call is one SQL statement, except a failed `resolve`, which reads why it failed. Writes run in the update's
// claiming transaction (`Processed.transaction`), so a redelivered update never applies them twice.
import { Context, Data, Effect, Layer, Option, Result, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../AppConfig.ts"
import type { FeedbackItem } from "../domain/Feedback.ts"
import type * as Paging from "../domain/Paging.ts"
import { FeedbackId, UserId } from "../domain/Ids.ts"
import { type TextProblem, validateText } from "../domain/Validation.ts"
import * as SqlPaging from "../sql/Paging.ts"
import { decodeRow, decodeRows, Int8, NullableInt8 } from "../sql/Rows.ts"
import { type AlreadyProcessed, Processed } from "../sql/Processed.ts"
import type { User } from "./Users.ts"

/** A feedback row; its Type is the domain's `FeedbackItem`. */
export class FeedbackRow extends Schema.Class<FeedbackRow>("FeedbackRow")({
  id: Int8.pipe(Schema.decodeTo(FeedbackId)),
  /** Who wrote it, so an admin's answer can reach them; feedback is not anonymous content. */
  authorId: Int8.pipe(Schema.decodeTo(UserId)),
  text: Schema.String,
  status: Schema.Literals(["open", "resolved"]),
  resolvedBy: NullableInt8,
  resolvedAt: Schema.NullOr(Schema.Date),
  adminNote: Schema.NullOr(Schema.String),
  createdAt: Schema.Date
}) {}

export interface FeedbackOptions {
  /** The longest feedback text, in characters (COMMENT_MAX_LENGTH). */
  readonly maxLength: number
  /** The page size when a request names none (COMMENTS_PAGE_SIZE). */
  readonly pageSize: number
}

/** The text is empty or too long. */
export class Invalid extends Data.TaggedClass("Invalid")<{ readonly problem: TextProblem }> {}

/** No feedback with this id. */
export class NotFound extends Data.TaggedClass("NotFound")<{ readonly id: FeedbackId }> {}

/** Another admin (or an earlier press) resolved it already. */
export class AlreadyResolved extends Data.TaggedClass("AlreadyResolved")<{
  readonly id: FeedbackId
  readonly resolvedBy: number | null
}> {}

export class FeedbackError extends Data.TaggedError("FeedbackError")<{
  readonly reason: Invalid | NotFound | AlreadyResolved
}> {}

export class Feedback extends Context.Service<
  Feedback,
  {
    /** Stores the validated (trimmed) text as an open item. Blocked users may still write: it is how they appeal. */
    readonly submit: (input: {
      readonly author: User
      readonly text: string
    }) => Effect.Effect<FeedbackItem, SqlError | FeedbackError | AlreadyProcessed>
    /** Open items, oldest first, so the longest waiting is answered first. */
    readonly listOpen: (request: Paging.PageRequest) => Effect.Effect<Paging.Page<FeedbackItem>, SqlError>
    /** Marks an open item resolved, exactly once whoever presses first. */
    readonly resolve: (
      id: FeedbackId,
      admin: UserId
    ) => Effect.Effect<FeedbackItem, SqlError | FeedbackError | AlreadyProcessed>
    readonly get: (id: FeedbackId) => Effect.Effect<Option.Option<FeedbackItem>, SqlError>
    /**
     * An admin's answer to an item (validated, at most `maxLength`), kept as its latest note; returns the item, whose
     * sender the caller relays the answer to. Answering a resolved item is allowed.
     */
    readonly reply: (id: FeedbackId, text: string) => Effect.Effect<FeedbackItem, SqlError | FeedbackError | AlreadyProcessed>
  }
>()("confessions/services/Feedback") {
  /** Needs the SqlClient and the processed-updates ledger. */
  static readonly layer = (options: FeedbackOptions): Layer.Layer<Feedback, never, SqlClient.SqlClient | Processed> =>
    Layer.effect(Feedback, make(options))

  /** COMMENT_MAX_LENGTH and COMMENTS_PAGE_SIZE from the configuration. */
  static readonly layerConfig: Layer.Layer<Feedback, never, SqlClient.SqlClient | Processed | AppConfig> = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return Feedback.layer({ maxLength: config.commentMaxLength, pageSize: config.commentsPageSize })
    })
  )
}

const make = (options: FeedbackOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const processed = yield* Processed
    const fail = (reason: FeedbackError["reason"]) => Effect.fail(new FeedbackError({ reason }))

    return Feedback.of({
      submit: Effect.fn("Feedback.submit")(function* ({ author, text }) {
        const valid = validateText(text, options.maxLength)
        if (Result.isFailure(valid)) return yield* fail(new Invalid({ problem: valid.failure }))
        const rows = yield* processed.transaction(sql`
          insert into feedback (author_id, text) values (${author.id}, ${valid.success}::text) returning *`)
        return yield* decodeRow(FeedbackRow, rows[0])
      }),

      listOpen: Effect.fn("Feedback.listOpen")(function* (request) {
        const window = SqlPaging.windowOf(request, options.pageSize)
        const rows = yield* SqlPaging.list(sql, window, { from: sql`feedback where status = 'open'`, orderBy: sql`id` })
        const total = rows.length === 0 ? 0 : (yield* decodeRow(TotalRow, rows[0])).total
        return SqlPaging.pageOf(window, total, yield* decodeRows(FeedbackRow, rows))
      }),

      resolve: Effect.fn("Feedback.resolve")(function* (id, admin) {
        // `status = 'open'` is re-checked after waiting on a concurrent resolve's row lock, so only one succeeds.
        const rows = yield* processed.transaction(sql`
          update feedback set status = 'resolved', resolved_by = ${admin}, resolved_at = now()
          where id = ${id} and status = 'open'
          returning *`)
        if (rows.length > 0) return yield* decodeRow(FeedbackRow, rows[0])
        const [row] = yield* sql`select * from feedback where id = ${id}`
        if (row === undefined) return yield* fail(new NotFound({ id }))
        const existing = yield* decodeRow(FeedbackRow, row)
        return yield* fail(new AlreadyResolved({ id, resolvedBy: existing.resolvedBy }))
      }),

      reply: Effect.fn("Feedback.reply")(function* (id, text) {
        const valid = validateText(text, Math.min(options.maxLength, noteMaxLength))
        if (Result.isFailure(valid)) return yield* fail(new Invalid({ problem: valid.failure }))
        const rows = yield* processed.transaction(sql`
          update feedback set admin_note = ${valid.success}
          where id = ${id}
          returning *`)
        if (rows.length === 0) return yield* fail(new NotFound({ id }))
        return yield* decodeRow(FeedbackRow, rows[0])
      }),

      get: Effect.fn("Feedback.get")(function* (id) {
        const [row] = yield* sql`select * from feedback where id = ${id}`
        return row === undefined ? Option.none() : Option.some(yield* decodeRow(FeedbackRow, row))
      })
    })
  })

const TotalRow = Schema.Struct({ total: Schema.Number })

/** The `admin_note` column's limit. */
const noteMaxLength = 1000
