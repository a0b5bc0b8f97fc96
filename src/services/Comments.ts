// The comments repository: comments and replies under approved confessions, the paged comment and reply views, and a
// user's own comment history. Every call is one SQL statement (one round trip); author ids are read only to compute
// the "author" tag and never leave this module.
import { Context, Data, Effect, Layer, Option, Predicate, Result, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../AppConfig.ts"
import * as Comment from "../domain/Comment.ts"
import * as Paging from "../domain/Paging.ts"
import { CommentId, ConfessionId, UserId } from "../domain/Ids.ts"
import { canParticipate } from "../domain/Permissions.ts"
import { type TextProblem, validateText } from "../domain/Validation.ts"
import { Int8 } from "../sql/Columns.ts"
import { type AlreadyProcessed, Processed } from "../updates/Processed.ts"
import { StatsCache } from "./StatsCache.ts"
import type { User } from "./Users.ts"

/** A comment as views show it: never who wrote it, only whether it was the confession's own author. */
export interface CommentRecord {
  readonly id: CommentId
  readonly confessionId: ConfessionId
  /** The top-level comment this one replies to; `null` for a top-level comment. */
  readonly parentId: CommentId | null
  readonly text: string
  /** Hidden by an admin after reports; hidden comments never appear in `page`, `replies` or `listByAuthor`. */
  readonly hidden: boolean
  readonly likes: number
  readonly dislikes: number
  readonly reports: number
  /** Visible replies (top-level comments only; always 0 for a reply). */
  readonly replies: number
  /** Written by the author of the confession it belongs to. */
  readonly authorTag: boolean
  readonly createdAt: Date
}

export interface PageRequest {
  /** Anything a callback may carry: negative, zero, fractional or huge numbers are clamped, never an error. */
  readonly page: number
  /** Defaults to COMMENTS_PAGE_SIZE; clamped to `1..Paging.MaxPageSize`. */
  readonly pageSize?: number | undefined
}

/** The comments view: the confession and one page of its visible top-level comments, newest first. */
export interface CommentsPage extends Paging.Page<CommentRecord> {
  readonly confession: { readonly id: ConfessionId; readonly text: string }
}

/** The replies view: the comment replied to and one page of its visible replies, oldest first (reading order). */
export interface RepliesPage extends Paging.Page<CommentRecord> {
  readonly parent: CommentRecord
}

export interface Added {
  readonly comment: CommentRecord
  /**
   * Who wrote the confession, so the feature can tell them "someone commented on your confession #ID" (unless
   * `comment.authorTag`, i.e. they commented themselves). Never shown to anyone.
   */
  readonly confessionAuthorId: UserId
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
      request: PageRequest & { readonly confessionId: ConfessionId }
    ) => Effect.Effect<CommentsPage, SqlError | CommentsError>
    readonly replies: (
      request: PageRequest & { readonly commentId: CommentId }
    ) => Effect.Effect<RepliesPage, SqlError | CommentsError>
    /** "My comments": the user's visible comments and replies, newest first, each with its confession id. */
    readonly listByAuthor: (
      request: PageRequest & { readonly author: UserId }
    ) => Effect.Effect<Paging.Page<CommentRecord>, SqlError>
    /** Any comment, hidden ones included (`hidden` says so), e.g. for the admins' report alert. */
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
    const sizeOf = (request: PageRequest) => Paging.normalizePageSize(request.pageSize ?? options.pageSize)

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
            select id, author_id from confessions where id = ${confessionId} and status = 'approved'
          ), parent as (
            update comments set replies = replies + 1
            where id = ${parent}::bigint and confession_id = ${confessionId} and parent_id is null and not hidden
              and exists (select 1 from confession) and exists (select 1 from actor)
            returning id
          ), inserted as (
            insert into comments (confession_id, parent_id, author_id, text)
            select confession.id, ${parent}::bigint, actor.id, ${valid.success}::text from confession cross join actor
            where ${parent}::bigint is null or exists (select 1 from parent)
            returning *
          )
          select
            exists (select 1 from actor) as allowed,
            confession.author_id as confession_author_id,
            inserted.*
          from (select 1) as one
          left join confession on true
          left join inserted on true`)
        const outcome = yield* decodeRow(AddOutcome, row)
        if (!outcome.allowed) return yield* fail(new Blocked())
        if (outcome.confessionAuthorId === null) return yield* fail(new ConfessionNotFound({ id: confessionId }))
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
        return { comment: toRecord(comment), confessionAuthorId: comment.confessionAuthorId }
      }),

      page: Effect.fn("Comments.page")(function* (request) {
        const size = sizeOf(request)
        const requested = Paging.normalizePage(request.page)
        // One statement for the whole view: the confession, the count, and the clamped page of comments. The page is
        // clamped in SQL by the rule of `Paging.clampPage`, so a forged page number never costs a second round trip.
        const rows = yield* sql`
          with confession as (
            select id, author_id, text from confessions where id = ${request.confessionId} and status = 'approved'
          ), total as (
            select count(*)::int as n from comments
            where confession_id = ${request.confessionId} and parent_id is null and not hidden
          ), shown as (
            select least(${requested}::int, greatest(ceil(n / ${size}::numeric)::int, 1)) as page from total
          )
          select confession.text as confession_text, confession.author_id as confession_author_id, total.n as total, c.*
          from confession cross join total cross join shown
          left join lateral (
            select * from comments
            where confession_id = confession.id and parent_id is null and not hidden
            order by id desc
            limit ${size}::int offset (shown.page - 1) * ${size}::int
          ) as c on true
          order by c.id desc`
        if (rows.length === 0) return yield* fail(new ConfessionNotFound({ id: request.confessionId }))
        const head = yield* decodeRow(PageHead, rows[0])
        const window = Paging.clampPage(requested, head.total, size)
        return {
          confession: { id: request.confessionId, text: head.confessionText },
          items: yield* commentsOf(rows),
          page: window.page,
          totalPages: window.totalPages,
          total: head.total
        }
      }),

      replies: Effect.fn("Comments.replies")(function* (request) {
        const size = sizeOf(request)
        const requested = Paging.normalizePage(request.page)
        // One statement: the parent (position 0), then one page of its visible replies (position 1).
        const rows = yield* sql`
          with parent as (
            select m.*, f.author_id as confession_author_id
            from comments m join confessions f on f.id = m.confession_id
            where m.id = ${request.commentId} and m.parent_id is null and not m.hidden and f.status = 'approved'
          ), total as (
            select count(*)::int as n from comments where parent_id = ${request.commentId} and not hidden
          ), shown as (
            select least(${requested}::int, greatest(ceil(n / ${size}::numeric)::int, 1)) as page from total
          )
          select 0 as position, parent.*, total.n as total from parent cross join total
          union all
          select 1 as position, r.*, parent.confession_author_id, total.n as total
          from parent cross join total cross join shown
          cross join lateral (
            select * from comments
            where parent_id = parent.id and not hidden
            order by id
            limit ${size}::int offset (shown.page - 1) * ${size}::int
          ) as r
          order by position, id`
        if (rows.length === 0) return yield* fail(new CommentNotFound({ id: request.commentId }))
        const [head, ...replies] = rows
        const { total } = yield* decodeRow(ListHead, head)
        const parent = toRecord(yield* decodeRow(CommentRow, head))
        const window = Paging.clampPage(requested, total, size)
        return {
          // The stored counter also counts replies hidden later; the view shows what it can page through.
          parent: { ...parent, replies: total },
          items: yield* commentsOf(replies),
          page: window.page,
          totalPages: window.totalPages,
          total
        }
      }),

      listByAuthor: Effect.fn("Comments.listByAuthor")(function* (request) {
        const size = sizeOf(request)
        const requested = Paging.normalizePage(request.page)
        // Visible comments only: the same set the profile counts as "comments written".
        const rows = yield* sql`
          with total as (
            select count(*)::int as n from comments where author_id = ${request.author} and not hidden
          ), shown as (
            select least(${requested}::int, greatest(ceil(n / ${size}::numeric)::int, 1)) as page from total
          )
          select m.*, f.author_id as confession_author_id, total.n as total
          from total cross join shown
          cross join lateral (
            select * from comments
            where author_id = ${request.author} and not hidden
            order by id desc
            limit ${size}::int offset (shown.page - 1) * ${size}::int
          ) as m
          join confessions f on f.id = m.confession_id
          order by m.id desc`
        const total = rows.length === 0 ? 0 : (yield* decodeRow(ListHead, rows[0])).total
        const window = Paging.clampPage(requested, total, size)
        return { items: yield* commentsOf(rows), page: window.page, totalPages: window.totalPages, total }
      }),

      get: Effect.fn("Comments.get")(function* (id) {
        const rows = yield* sql`
          select m.*, f.author_id as confession_author_id
          from comments m join confessions f on f.id = m.confession_id
          where m.id = ${id}`
        return Option.fromNullishOr((yield* commentsOf(rows))[0])
      })
    })
  })

// ---- rows -------------------------------------------------------------------------------------------------------

/** The columns of `comments` plus the confession's author, which only `toRecord` reads (for the tag). */
const commentFields = {
  id: Int8.pipe(Schema.decodeTo(CommentId)),
  confessionId: Int8.pipe(Schema.decodeTo(ConfessionId)),
  parentId: Schema.NullOr(Int8.pipe(Schema.decodeTo(CommentId))),
  authorId: Int8.pipe(Schema.decodeTo(UserId)),
  confessionAuthorId: Int8.pipe(Schema.decodeTo(UserId)),
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

/** `add`'s one row: may the author write, the confession's author (null: not found), the new comment's id. */
const AddOutcome = Schema.Struct({
  allowed: Schema.Boolean,
  confessionAuthorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))),
  id: Schema.NullOr(Int8)
})

/** What every row of the comments view repeats: the confession and the count. */
const PageHead = Schema.Struct({ confessionText: Schema.String, total: Schema.Number })

/** The count every row of a list repeats. */
const ListHead = Schema.Struct({ total: Schema.Number })

/** Checks one row against `schema`. A row that does not match means schema and code disagree: a bug, so a defect. */
const decodeRow = <A>(schema: Schema.Decoder<A>, row: unknown): Effect.Effect<A> =>
  Effect.orDie(Schema.decodeUnknownEffect(schema)(row))

const decodeRows = <A>(schema: Schema.Decoder<A>, rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>> =>
  Effect.forEach(rows, (row) => decodeRow(schema, row))

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
