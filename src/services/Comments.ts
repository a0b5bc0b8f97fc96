// The comments repository: comments and replies under approved confessions, the paged comment and reply views, and a
// user's own comment history. Every call is one SQL statement (one round trip); author ids are read only to compute
// the "author" tag and never leave this module.
import { Context, Data, Effect, Layer, Option, Predicate, Result, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../AppConfig.ts"
import * as Comment from "../domain/Comment.ts"
import { mediaOf } from "../domain/Confession.ts"
import type { CommentRecord, CommentsPage, RepliesPage } from "../domain/Comment.ts"
import type * as Paging from "../domain/Paging.ts"
import { CommentId, ConfessionId, UserId } from "../domain/Ids.ts"
import { canParticipate } from "../domain/Permissions.ts"
import { type TextProblem, validateText } from "../domain/Validation.ts"
import { decodeRow, decodeRows, Int8 } from "../sql/Rows.ts"
import * as SqlPaging from "../sql/Paging.ts"
import { commentVisible, confessionVisible, visibleComments } from "../sql/Visibility.ts"
import { type AlreadyProcessed, Processed } from "../sql/Processed.ts"
import { StatsCache } from "./StatsCache.ts"
import type { User } from "./Users.ts"

/** Someone to tell about a new comment, never shown to anyone. */
export interface Addressee {
  readonly userId: UserId
  /** `reply`: their comment got a reply; `comment`: their confession got a comment (or a reply under one). */
  readonly about: "comment" | "reply"
}

export interface Added {
  readonly comment: CommentRecord
  /**
   * Whom to tell: the replied comment's writer, and the confession's author; never the writer themselves, and
   * nobody twice (the confession's author replied to hears of the reply only).
   */
  readonly notify: ReadonlyArray<Addressee>
}

export interface CommentsOptions {
  /** COMMENT_MAX_LENGTH, in characters as `Validation.characterCount` counts them. */
  readonly maxLength: number
  /** COMMENTS_PAGE_SIZE: the page size when a request names none. */
  readonly pageSize: number
}

/** The confession is missing, or not approved (pending, rejected, deleted): it takes no comments. */
export class ConfessionNotFound extends Data.TaggedClass("ConfessionNotFound")<{ readonly id: ConfessionId }> {}

/** The comment is missing, hidden, a reply (replies take no replies), or under a confession that is not approved. */
export class CommentNotFound extends Data.TaggedClass("CommentNotFound")<{ readonly id: CommentId }> {}

/** The author is blocked by an admin. */
export class Blocked extends Data.TaggedClass("Blocked")<{}> {}

/** The text breaks the comment length rule. */
export class Invalid extends Data.TaggedClass("Invalid")<{ readonly problem: TextProblem }> {}

export class CommentsError extends Data.TaggedError("CommentsError")<{
  readonly reason: ConfessionNotFound | CommentNotFound | Blocked | Invalid
}> {}

export class Comments extends Context.Service<
  Comments,
  {
    /**
     * Stores a comment, or a reply when `parentId` is given (the parent must be a visible top-level comment of the same
     * confession; its reply counter goes up in the same statement).
     */
    readonly add: (input: {
      readonly confessionId: ConfessionId
      readonly author: User
      readonly text: string
      readonly parentId?: CommentId | undefined
    }) => Effect.Effect<Added, SqlError | CommentsError | AlreadyProcessed>
    readonly page: (
      request: Paging.PageRequest & { readonly confessionId: ConfessionId }
    ) => Effect.Effect<CommentsPage, SqlError | CommentsError>
    readonly replies: (
      request: Paging.PageRequest & { readonly commentId: CommentId }
    ) => Effect.Effect<RepliesPage, SqlError | CommentsError>
    /**
     * "My comments": the user's own comments and replies that are not hidden (also under confessions deleted since),
     * newest first, each with its confession id.
     */
    readonly listByAuthor: (
      request: Paging.PageRequest & { readonly author: UserId }
    ) => Effect.Effect<Paging.Page<CommentRecord>, SqlError>
    /** `/reports`: visible comments with at least `threshold` reports that no admin has decided on, oldest first. */
    readonly reported: (
      request: Paging.PageRequest & { readonly threshold: number }
    ) => Effect.Effect<Paging.Page<CommentRecord>, SqlError>
    /**
     * A comment anyone may see (`Visibility.ts`): not hidden, under an approved confession; None otherwise. Every path
     * that shows a comment to a non-moderator, or lets one act on it, reads it through this.
     */
    readonly getVisible: (id: CommentId) => Effect.Effect<Option.Option<CommentRecord>, SqlError>
    /**
     * Any comment, hidden ones and those under unpublished or deleted confessions included (`hidden` says so): for
     * moderators only (the report alert, the outcome of a decision).
     */
    readonly get: (id: CommentId) => Effect.Effect<Option.Option<CommentRecord>, SqlError>
  }
>()("confessions/services/Comments") {
  /** Needs the SqlClient, the processed-updates ledger and the program's one StatsCache. */
  static readonly layer = (
    options: CommentsOptions
  ): Layer.Layer<Comments, never, SqlClient.SqlClient | Processed | StatsCache> => Layer.effect(Comments, make(options))

  /** COMMENT_MAX_LENGTH and COMMENTS_PAGE_SIZE from the configuration. */
  static readonly layerConfig: Layer.Layer<Comments, never, SqlClient.SqlClient | Processed | StatsCache | AppConfig> =
    Layer.unwrap(
      Effect.gen(function* () {
        const config = yield* AppConfig
        return Comments.layer({ maxLength: config.commentMaxLength, pageSize: config.commentsPageSize })
      })
    )
}

const make = (options: CommentsOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const processed = yield* Processed
    const stats = yield* StatsCache
    const fail = (reason: CommentsError["reason"]) => Effect.fail(new CommentsError({ reason }))
    const windowOf = (request: Paging.PageRequest) => SqlPaging.windowOf(request, options.pageSize)

    return Comments.of({
      add: Effect.fn("Comments.add")(function* ({ confessionId, author, text, parentId }) {
        if (!canParticipate(author)) return yield* fail(new Blocked())
        const valid = validateText(text, options.maxLength)
        if (Result.isFailure(valid)) return yield* fail(new Invalid({ problem: valid.failure }))
        const parent = parentId ?? null
        // One statement, so the reply counter and the reply are written together or not at all. The block flag is
        // re-read here: `author` was loaded at the start of the update and an admin may have blocked them since.
        // Exactly one row comes back, whatever happened; its nulls say what was missing. The statement runs in the
        // update's claiming transaction, so a redelivered update never stores the comment twice.
        const [row] = yield* processed.transaction(sql`
          with actor as (
            select id from users where id = ${author.id} and not blocked
          ), confession as (
            select f.* from confessions f where f.id = ${confessionId} and ${confessionVisible(sql, "f")}
          ), parent as (
            update comments m set replies = m.replies + 1
            from confession
            where m.id = ${parent}::bigint and m.confession_id = confession.id and m.parent_id is null
              and ${commentVisible(sql, "m", "confession")} and exists (select 1 from actor)
            returning m.id, m.author_id
          ), inserted as (
            insert into comments (confession_id, parent_id, author_id, text)
            select confession.id, ${parent}::bigint, actor.id, ${valid.success}::text from confession cross join actor
            where ${parent}::bigint is null or exists (select 1 from parent)
            returning *
          )
          select
            exists (select 1 from actor) as allowed,
            exists (select 1 from confession) as found,
            confession.author_id as confession_author_id,
            (select author_id from parent) as parent_author_id,
            inserted.*
          from (select 1) as one
          left join confession on true
          left join inserted on true`)
        const outcome = yield* decodeRow(AddOutcome, row)
        if (!outcome.allowed) return yield* fail(new Blocked())
        if (!outcome.found) return yield* fail(new ConfessionNotFound({ id: confessionId }))
        if (outcome.id === null) {
          // With author and confession there, only a reply can fail: its parent is missing, hidden, or a reply itself.
          return yield* fail(
            parentId === undefined
              ? new ConfessionNotFound({ id: confessionId })
              : new CommentNotFound({ id: parentId })
          )
        }
        const comment = yield* decodeRow(CommentRow, row)
        yield* stats.forget(author.id)
        // A forgotten person (a null author: /forget) is told nothing.
        const candidates: ReadonlyArray<Addressee> = [
          ...(outcome.parentAuthorId === null ? [] : [{ userId: outcome.parentAuthorId, about: "reply" as const }]),
          ...(comment.confessionAuthorId === null ? [] : [{ userId: comment.confessionAuthorId, about: "comment" as const }])
        ]
        const notify = candidates.filter(
          (candidate, index) =>
            candidate.userId !== author.id && candidates.findIndex((other) => other.userId === candidate.userId) === index
        )
        return { comment: toRecord(comment), notify }
      }),

      page: Effect.fn("Comments.page")(function* (request) {
        const window = windowOf(request)
        // One statement for the whole view: the confession, the count, and the clamped page of comments.
        const rows = yield* sql`
          with confession as (
            select f.id, f.text, f.media_kind, f.media_file_id, f.media_duration
            from confessions f where f.id = ${request.confessionId} and ${confessionVisible(sql, "f")}
          ), ${SqlPaging.totalAndShown(
            sql,
            window,
            sql`${visibleComments(sql)} as m where m.confession_id = ${request.confessionId} and m.parent_id is null`
          )}
          select confession.text as confession_text, confession.media_kind as confession_media_kind,
            confession.media_file_id as confession_media_file_id,
            confession.media_duration as confession_media_duration, total.n as total, c.*
          from confession cross join total cross join shown
          left join lateral (
            select * from ${visibleComments(sql)} as m
            where m.confession_id = confession.id and m.parent_id is null
            order by m.id desc ${SqlPaging.shownSlice(sql, window)}
          ) as c on true
          order by c.id desc`
        if (rows.length === 0) return yield* fail(new ConfessionNotFound({ id: request.confessionId }))
        const head = yield* decodeRow(PageHead, rows[0])
        return {
          confession: {
            id: request.confessionId,
            text: head.confessionText,
            media: mediaOf({
              mediaKind: head.confessionMediaKind,
              mediaFileId: head.confessionMediaFileId,
              mediaDuration: head.confessionMediaDuration
            })
          },
          ...SqlPaging.pageOf(window, head.total, yield* commentsOf(rows))
        }
      }),

      replies: Effect.fn("Comments.replies")(function* (request) {
        const window = windowOf(request)
        // One statement: the parent (position 0), then one page of its visible replies (position 1).
        const rows = yield* sql`
          with parent as (
            select * from ${visibleComments(sql)} as m where m.id = ${request.commentId} and m.parent_id is null
          ), ${SqlPaging.totalAndShown(sql, window, sql`${visibleComments(sql)} as m where m.parent_id = ${request.commentId}`)}
          select 0 as position, parent.*, total.n as total from parent cross join total
          union all
          select 1 as position, r.*, total.n as total
          from parent cross join total cross join shown
          cross join lateral (
            select * from ${visibleComments(sql)} as m
            where m.parent_id = parent.id
            order by m.id ${SqlPaging.shownSlice(sql, window)}
          ) as r
          order by position, id`
        if (rows.length === 0) return yield* fail(new CommentNotFound({ id: request.commentId }))
        const [head, ...replies] = rows
        const { total } = yield* decodeRow(ListHead, head)
        const parent = toRecord(yield* decodeRow(CommentRow, head))
        return {
          // The stored counter also counts replies hidden later; the view shows what it can page through.
          parent: { ...parent, replies: total },
          ...SqlPaging.pageOf(window, total, yield* commentsOf(replies))
        }
      }),

      listByAuthor: Effect.fn("Comments.listByAuthor")(function* (request) {
        const window = windowOf(request)
        // The writer's own comments, so outside the visibility rule like "My confessions": the same set the profile
        // counts as "comments written", which leaves out hidden ones (moderated away) and keeps those under a
        // confession deleted since (they stay the writer's words).
        const rows = yield* SqlPaging.list(sql, window, {
          from: sql`(
            select m.*, f.author_id as confession_author_id
            from comments m join confessions f on f.id = m.confession_id
            where m.author_id = ${request.author} and not m.hidden
          ) as mine`,
          orderBy: sql`id desc`
        })
        const total = rows.length === 0 ? 0 : (yield* decodeRow(ListHead, rows[0])).total
        return SqlPaging.pageOf(window, total, yield* commentsOf(rows))
      }),

      reported: Effect.fn("Comments.reported")(function* (request) {
        const window = windowOf(request)
        const rows = yield* SqlPaging.list(sql, window, {
          from: sql`(
            select * from ${visibleComments(sql)} as m
            where m.reports >= ${Math.max(1, Math.trunc(request.threshold))}
              and not exists (select 1 from report_decisions d where d.comment_id = m.id)
          ) as reported`,
          orderBy: sql`id`
        })
        const total = rows.length === 0 ? 0 : (yield* decodeRow(ListHead, rows[0])).total
        return SqlPaging.pageOf(window, total, yield* commentsOf(rows))
      }),

      getVisible: Effect.fn("Comments.getVisible")(function* (id) {
        const rows = yield* sql`select * from ${visibleComments(sql)} as m where m.id = ${id}`
        return Option.fromNullishOr((yield* commentsOf(rows))[0])
      }),

      get: Effect.fn("Comments.get")(function* (id) {
        // Deliberately outside the visibility rule: moderators act on hidden comments and on unpublished confessions.
        const rows = yield* sql`
          select m.*, f.author_id as confession_author_id
          from comments m join confessions f on f.id = m.confession_id
          where m.id = ${id}`
        return Option.fromNullishOr((yield* commentsOf(rows))[0])
      })
    })
  })

// ---- rows -------------------------------------------------------------------------------------------------------

/**
 * The columns of `comments` plus the confession's author, which only `toRecord` reads (for the tag). A null author is a
 * forgotten person (/forget): a tombstone comment, or a confession kept as an anonymous post.
 */
const commentFields = {
  id: Int8.pipe(Schema.decodeTo(CommentId)),
  confessionId: Int8.pipe(Schema.decodeTo(ConfessionId)),
  parentId: Schema.NullOr(Int8.pipe(Schema.decodeTo(CommentId))),
  authorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))),
  confessionAuthorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))),
  text: Schema.String,
  hidden: Schema.Boolean,
  likes: Schema.Number,
  dislikes: Schema.Number,
  reports: Schema.Number,
  replies: Schema.Number,
  createdAt: Schema.Date
}

const CommentRow = Schema.Struct(commentFields)
type CommentRow = typeof CommentRow.Type

/**
 * `add`'s one row: may the author write, is the confession there (its author may be null: forgotten), the replied
 * comment's writer, the new comment's id.
 */
const AddOutcome = Schema.Struct({
  allowed: Schema.Boolean,
  found: Schema.Boolean,
  confessionAuthorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))),
  parentAuthorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))),
  id: Schema.NullOr(Int8)
})

/** What every row of the comments view repeats: the confession and the count. */
const PageHead = Schema.Struct({
  confessionText: Schema.String,
  confessionMediaKind: Schema.NullOr(Schema.Literals(["photo", "voice"])),
  confessionMediaFileId: Schema.NullOr(Schema.String),
  confessionMediaDuration: Schema.NullOr(Schema.Number),
  total: Schema.Number
})

/** The count every row of a list repeats. */
const ListHead = Schema.Struct({ total: Schema.Number })

/** The comment rows of a result: a view without comments still has one row, with null comment columns. */
const commentsOf = (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<CommentRecord>> =>
  Effect.map(decodeRows(CommentRow, rows.filter(hasComment)), (comments) => comments.map(toRecord))

const hasComment = (row: unknown): boolean => Predicate.hasProperty(row, "id") && row.id !== null

const toRecord = (row: CommentRow): CommentRecord => ({
  id: row.id,
  confessionId: row.confessionId,
  parentId: row.parentId,
  text: row.text,
  hidden: row.hidden,
  likes: row.likes,
  dislikes: row.dislikes,
  reports: row.reports,
  replies: row.replies,
  authorTag: Comment.isAuthorTag(row.confessionAuthorId, row.authorId),
  createdAt: row.createdAt
})
