// The confessions repository: a user's submission becomes a pending row, admins page through the queue, authors page
// through their own history, and the channel post of an approved confession is remembered so it can be deleted later.
// Deciding (approve / reject / delete) lives in Moderation.ts; the publication protocol (claim, post, remember, or
// release) is driven by Publisher.ts, which relies on the claim statements here being atomic.
import { Context, Data, Duration, Effect, Layer, Option, Result, Schema } from "effect"
import { SqlClient, type Statement } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../AppConfig.ts"
import { Status } from "../domain/Confession.ts"
import { ConfessionId, UserId } from "../domain/Ids.ts"
import type * as Paging from "../domain/Paging.ts"
import { canParticipate } from "../domain/Permissions.ts"
import { type TextProblem, validateText } from "../domain/Validation.ts"
import * as SqlPaging from "../sql/Paging.ts"
import { decodeQuery, decodeRow, decodeRows, Int8, NullableInt8 } from "../sql/Rows.ts"
import { type AlreadyProcessed, Processed } from "../sql/Processed.ts"
import { StatsCache } from "./StatsCache.ts"
import type { User } from "./Users.ts"

export class Confession extends Schema.Class<Confession>("Confession")({
  id: Int8.pipe(Schema.decodeTo(ConfessionId)),
  authorId: Int8.pipe(Schema.decodeTo(UserId)),
  text: Schema.String,
  anonymous: Schema.Boolean,
  status: Status,
  channelMessageId: NullableInt8,
  decidedBy: NullableInt8,
  decidedAt: Schema.NullOr(Schema.Date),
  rejectReason: Schema.NullOr(Schema.String),
  createdAt: Schema.Date
}) {}

/**
 * An approved confession that has no channel post yet, with what the post needs (the author's names) and whom to
 * tell once it is out.
 */
export class Unpublished extends Schema.Class<Unpublished>("Unpublished")({
  id: Int8.pipe(Schema.decodeTo(ConfessionId)),
  authorId: Int8.pipe(Schema.decodeTo(UserId)),
  text: Schema.String,
  anonymous: Schema.Boolean,
  authorFirstName: Schema.String,
  authorUsername: Schema.NullOr(Schema.String)
}) {}

/**
 * A claim to publish a confession, stored in place of its channel message id until the real id replaces it: minus the
 * claim's time in epoch seconds, so it can never be mistaken for a Telegram message id (always positive) and its age
 * is known. A claim older than the caller's `abandonedAfter` belongs to a publisher that died, and may be taken over.
 */
export type PublicationClaim = number

export interface UnpublishedRequest {
  /** Decided at least this long ago: younger approvals are still being posted by the admin who approved them. */
  readonly decidedAtLeast: Duration.Input
  /** Decided at most this long ago: an approval that missed the channel for longer is stale and left alone. */
  readonly decidedAtMost: Duration.Input
  /** Claims older than this count as abandoned (their publisher died), so those confessions are listed again. */
  readonly abandonedAfter: Duration.Input
  readonly limit: number
}

export interface ConfessionsOptions {
  /** CONFESSION_MAX_LENGTH, in characters as `Validation.characterCount` counts them. */
  readonly confessionMaxLength: number
}

/** The author may not confess: blocked by an admin. */
export class Blocked extends Data.TaggedClass("Blocked")<{}> {}

/** The text breaks the length rule; the same rule the feature checked when the text arrived. */
export class Invalid extends Data.TaggedClass("Invalid")<{ readonly problem: TextProblem }> {}

/** The confession is not (or no longer) approved, e.g. deleted while its channel post was being sent. */
export class NotApproved extends Data.TaggedClass("NotApproved")<{ readonly confessionId: ConfessionId }> {}

/** The publication claim is not the one stored: another publisher took over an abandoned claim (or finished). */
export class ClaimLost extends Data.TaggedClass("ClaimLost")<{ readonly confessionId: ConfessionId }> {}

export class ConfessionsError extends Data.TaggedError("ConfessionsError")<{
  readonly reason: Blocked | Invalid | NotApproved | ClaimLost
}> {}

export class Confessions extends Context.Service<
  Confessions,
  {
    /** Stores a pending confession with the validated (trimmed) text. */
    readonly submit: (input: {
      readonly author: User
      readonly text: string
      readonly anonymous: boolean
    }) => Effect.Effect<Confession, SqlError | ConfessionsError | AlreadyProcessed>
    readonly get: (id: ConfessionId) => Effect.Effect<Option.Option<Confession>, SqlError>
    /** The moderation queue, oldest first. */
    readonly listPending: (request: Paging.PageRequest) => Effect.Effect<Paging.Page<Confession>, SqlError>
    /** "My confessions", newest first; deleted ones are left out. */
    readonly listByAuthor: (request: Paging.PageRequest & { readonly author: UserId }) => Effect.Effect<Paging.Page<Confession>, SqlError>
    /**
     * Remembers the channel post of an approved confession. Fails `NotApproved` when it was deleted in the meantime,
     * so the caller deletes the post it just made instead of leaving an orphan in the channel. With `claim`, the post
     * replaces only that publication claim, and fails `ClaimLost` when another publisher holds the confession now.
     */
    readonly setChannelMessage: (
      id: ConfessionId,
      messageId: number,
      claim?: PublicationClaim
    ) => Effect.Effect<void, SqlError | ConfessionsError | AlreadyProcessed>
    /**
     * Approved confessions without a channel post (none stored, or only an abandoned claim), decided within the
     * requested age window, oldest decision first. The ages are computed by the database clock.
     */
    readonly listUnpublished: (request: UnpublishedRequest) => Effect.Effect<ReadonlyArray<Unpublished>, SqlError>
    /**
     * Atomically claims an approved confession for publishing: succeeds for exactly one caller while it has no post
     * and no live claim (a claim older than `abandonedAfter` is taken over). `None`: not approved, already posted,
     * or someone else is posting it. Publication bookkeeping, not a write on behalf of an update: it claims no update.
     */
    readonly claimPublication: (
      id: ConfessionId,
      abandonedAfter: Duration.Input
    ) => Effect.Effect<Option.Option<PublicationClaim>, SqlError>
    /** Gives a claim up (the post failed), so the next recovery round tries again; a claim no longer held is left. */
    readonly releasePublication: (id: ConfessionId, claim: PublicationClaim) => Effect.Effect<void, SqlError>
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

    /** `channel_message_id` holds a publication claim (minus its epoch second) older than `abandonedAfter`. */
    const abandonedClaim = (abandonedAfter: Duration.Input) => sql`(
      channel_message_id < 0
      and channel_message_id > -floor(extract(epoch from now() - make_interval(secs => ${seconds(abandonedAfter)}))))`
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
      submit: Effect.fn("Confessions.submit")(function* ({ author, text, anonymous }) {
        if (!canParticipate(author)) return yield* new ConfessionsError({ reason: new Blocked() })
        const valid = validateText(text, options.confessionMaxLength)
        if (Result.isFailure(valid)) return yield* new ConfessionsError({ reason: new Invalid({ problem: valid.failure }) })
        // The block flag is re-read inside the insert: `author` was loaded at the start of the update, and an admin may
        // have blocked them since. Every update registers its user first, so "no row" can only mean "blocked".
        const [created] = yield* processed.transaction(
          rows(sql`
            insert into confessions (author_id, text, anonymous)
            select id, ${valid.success}::text, ${anonymous}::boolean from users where id = ${author.id} and not blocked
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

      listPending: Effect.fn("Confessions.listPending")(function* (request) {
        return yield* paged(request, sql`confessions where status = 'pending'`, sql`id`)
      }),

      listByAuthor: Effect.fn("Confessions.listByAuthor")(function* (request) {
        return yield* paged(
          request,
          sql`confessions where author_id = ${request.author} and status <> 'deleted'`,
          sql`id desc`
        )
      }),

      setChannelMessage: Effect.fn("Confessions.setChannelMessage")(function* (id, messageId, claim) {
        const [updated] = yield* processed.transaction(sql<{ readonly approved: boolean; readonly stored: boolean }>`
          with target as (
            select id, status = 'approved' as approved from confessions where id = ${id}
          ), stored as (
            update confessions set channel_message_id = ${messageId}
            where id = ${id} and status = 'approved'
              and (${claim === undefined}::boolean or channel_message_id = ${claim ?? null}::int8)
            returning id
          )
          select coalesce((select approved from target), false) as approved, exists (select 1 from stored) as stored`)
        if (updated?.stored === true) return
        return yield* new ConfessionsError({
          reason: updated?.approved === true ? new ClaimLost({ confessionId: id }) : new NotApproved({ confessionId: id })
        })
      }),

      listUnpublished: Effect.fn("Confessions.listUnpublished")(function* (request) {
        const rows = yield* sql`
          select confessions.id, confessions.author_id, confessions.text, confessions.anonymous,
            users.first_name as author_first_name, users.username as author_username
          from confessions join users on users.id = confessions.author_id
          where confessions.status = 'approved'
            and confessions.decided_at <= now() - make_interval(secs => ${seconds(request.decidedAtLeast)})
            and confessions.decided_at > now() - make_interval(secs => ${seconds(request.decidedAtMost)})
            and (channel_message_id is null or ${abandonedClaim(request.abandonedAfter)})
          order by confessions.decided_at, confessions.id
          limit ${Math.max(1, Math.floor(request.limit))}`
        return yield* decodeRows(Unpublished, rows)
      }),

      claimPublication: Effect.fn("Confessions.claimPublication")(function* (id, abandonedAfter) {
        // One conditional update: of two publishers racing for the same row, the database lets exactly one match.
        const [claimed] = yield* sql<{ readonly claim: unknown }>`
          update confessions set channel_message_id = -floor(extract(epoch from now()))::int8
          where id = ${id} and status = 'approved'
            and (channel_message_id is null or ${abandonedClaim(abandonedAfter)})
          returning channel_message_id as claim`
        return claimed === undefined ? Option.none() : Option.some(Number(claimed.claim))
      }),

      releasePublication: Effect.fn("Confessions.releasePublication")(function* (id, claim) {
        yield* sql`update confessions set channel_message_id = null where id = ${id} and channel_message_id = ${claim}`
      })
    })
  })

/** Lists of confessions show a handful at a time unless the caller asks for another size. */
const defaultPageSize = 5

const TotalRow = Schema.Struct({ total: Schema.Number })

const seconds = (duration: Duration.Input): number => Duration.toSeconds(Duration.fromInputUnsafe(duration))
