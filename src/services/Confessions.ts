// The confessions repository: a user's submission becomes a pending row, admins page through the queue, and authors
// page through their own history. Deciding (approve / reject / delete) lives in Moderation.ts; the channel post goes
// through the outbox, which remembers the post's message id on the row once it is out.
import { Context, Data, Effect, Layer, Option, Result, Schema } from "effect"
import { SqlClient, type Statement } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../AppConfig.ts"
import { type Media, mediaOf, Status } from "../domain/Confession.ts"
import { validateCaption } from "../domain/Media.ts"
import { ConfessionId, UserId } from "../domain/Ids.ts"
import type * as Paging from "../domain/Paging.ts"
import { canParticipate } from "../domain/Permissions.ts"
import { type TextProblem, validateText } from "../domain/Validation.ts"
import * as SqlPaging from "../sql/Paging.ts"
import { decodeQuery, decodeRow, decodeRows, Int8, NullableInt8 } from "../sql/Rows.ts"
import { type AlreadyProcessed, Processed } from "../sql/Processed.ts"
import { visibleConfessions } from "../sql/Visibility.ts"
import { StatsCache } from "./StatsCache.ts"
import type { User } from "./Users.ts"

export class Confession extends Schema.Class<Confession>("Confession")({
  id: Int8.pipe(Schema.decodeTo(ConfessionId)),
  /** `null`: the author erased their data (/forget); the confession stays as an anonymous post, or a deleted shell. */
  authorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))),
  text: Schema.String,
  anonymous: Schema.Boolean,
  status: Status,
  channelMessageId: NullableInt8,
  decidedBy: NullableInt8,
  decidedAt: Schema.NullOr(Schema.Date),
  rejectReason: Schema.NullOr(Schema.String),
  createdAt: Schema.Date,
  mediaKind: Schema.NullOr(Schema.Literals(["photo", "voice"])),
  mediaFileId: Schema.NullOr(Schema.String),
  mediaDuration: Schema.NullOr(Schema.Number)
}) {
  /** The photo or voice note, `null` for a text confession. */
  get media(): Media | null {
    return mediaOf(this)
  }
}

export interface ConfessionsOptions {
  /** CONFESSION_MAX_LENGTH, in characters as `Validation.characterCount` counts them. */
  readonly confessionMaxLength: number
}

/** The author may not confess: blocked by an admin. */
export class Blocked extends Data.TaggedClass("Blocked")<{}> {}

/** The text breaks the length rule; the same rule the feature checked when the text arrived. */
export class Invalid extends Data.TaggedClass("Invalid")<{ readonly problem: TextProblem }> {}

export class ConfessionsError extends Data.TaggedError("ConfessionsError")<{
  readonly reason: Blocked | Invalid
}> {}

export class Confessions extends Context.Service<
  Confessions,
  {
    /** Stores a pending confession with the validated (trimmed) text. */
    /** A text confession, or a photo or voice note with `text` as its (possibly empty) caption. */
    readonly submit: (input: {
      readonly author: User
      readonly text: string
      readonly anonymous: boolean
      readonly media?: Media | null | undefined
    }) => Effect.Effect<Confession, SqlError | ConfessionsError | AlreadyProcessed>
    /** Any confession, in any state: for moderators, the author's own history and tests. */
    readonly get: (id: ConfessionId) => Effect.Effect<Option.Option<Confession>, SqlError>
    /** A confession anyone may see (`Visibility.ts`: approved); None when it is missing, pending, rejected or deleted. */
    readonly getVisible: (id: ConfessionId) => Effect.Effect<Option.Option<Confession>, SqlError>
    /** The moderation queue, oldest first. */
    readonly listPending: (request: Paging.PageRequest) => Effect.Effect<Paging.Page<Confession>, SqlError>
    /** "My confessions", newest first; deleted ones are left out. */
    readonly listByAuthor: (request: Paging.PageRequest & { readonly author: UserId }) => Effect.Effect<Paging.Page<Confession>, SqlError>
  }
>()("confessions/services/Confessions") {
  /** Needs the SqlClient, the program's one StatsCache and the processed-updates ledger (writes claim the update). */
  static readonly layer = (
    options: ConfessionsOptions
  ): Layer.Layer<Confessions, never, SqlClient.SqlClient | StatsCache | Processed> => Layer.effect(Confessions, make(options))

  static readonly layerConfig: Layer.Layer<
    Confessions,
    never,
    SqlClient.SqlClient | StatsCache | Processed | AppConfig
  > = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return Confessions.layer({ confessionMaxLength: config.confessionMaxLength })
    })
  )
}

const make = (options: ConfessionsOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const stats = yield* StatsCache
    const processed = yield* Processed

    const rows = decodeQuery(Confession)

    const paged = Effect.fnUntraced(function* (
      request: Paging.PageRequest,
      from: Statement.Fragment,
      orderBy: Statement.Fragment
    ) {
      const window = SqlPaging.windowOf(request, defaultPageSize)
      const listed = yield* SqlPaging.list(sql, window, { from, orderBy })
      const total = listed.length === 0 ? 0 : (yield* decodeRow(TotalRow, listed[0])).total
      return SqlPaging.pageOf(window, total, yield* decodeRows(Confession, listed))
    })

    return Confessions.of({
      submit: Effect.fn("Confessions.submit")(function* ({ author, text, anonymous, media }) {
        if (!canParticipate(author)) return yield* new ConfessionsError({ reason: new Blocked() })
        // A text follows the text rule; a caption may be empty, and must fit the channel post's caption whole.
        const valid =
          media === undefined || media === null ? validateText(text, options.confessionMaxLength) : validateCaption(text)
        if (Result.isFailure(valid)) return yield* new ConfessionsError({ reason: new Invalid({ problem: valid.failure }) })
        // The block flag is re-read inside the insert: `author` was loaded at the start of the update, and an admin may
        // have blocked them since. Every update registers its user first, so "no row" can only mean "blocked".
        const [created] = yield* processed.transaction(
          rows(sql`
            insert into confessions (author_id, text, anonymous, media_kind, media_file_id, media_duration)
            select id, ${valid.success}::text, ${anonymous}::boolean, ${media?.kind ?? null}::text,
              ${media?.fileId ?? null}::text, ${media?.duration ?? null}::int
            from users where id = ${author.id} and not blocked
            returning *`)
        )
        if (created === undefined) return yield* new ConfessionsError({ reason: new Blocked() })
        yield* stats.forget(author.id)
        return created
      }),

      get: Effect.fn("Confessions.get")(function* (id) {
        const [found] = yield* rows(sql`select * from confessions where id = ${id}`)
        return Option.fromNullishOr(found)
      }),

      getVisible: Effect.fn("Confessions.getVisible")(function* (id) {
        const [found] = yield* rows(sql`select * from ${visibleConfessions(sql)} as f where f.id = ${id}`)
        return Option.fromNullishOr(found)
      }),

      listPending: Effect.fn("Confessions.listPending")(function* (request) {
        return yield* paged(request, sql`confessions where status = 'pending'`, sql`id`)
      }),

      listByAuthor: Effect.fn("Confessions.listByAuthor")(function* (request) {
        return yield* paged(
          request,
          sql`confessions where author_id = ${request.author} and status <> 'deleted'`,
          sql`id desc`
        )
      })
    })
  })

/** Lists of confessions show a handful at a time unless the caller asks for another size. */
const defaultPageSize = 5

const TotalRow = Schema.Struct({ total: Schema.Number })

