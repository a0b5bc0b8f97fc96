// A person's own data: /mydata reads everything stored about them (one statement, so the export is one consistent
// snapshot), at most once per `exportInterval`, on Effect's RateLimiter (in memory by default; a Redis store makes the
// limit hold across processes); /forget erases them in the caller's claiming transaction.
//
// What erasing does, and why (every step keeps other people's content and numbers consistent):
// - Reactions and reports they gave are deleted and the comments' counters lowered by exactly what went, so likes,
//   dislikes and report counts keep equalling their rows; the comments' writers' numbers change with them (returned
//   as `affected`, whose cached profiles the caller forgets).
// - Their replies are deleted, and each visible one is taken off its parent's reply counter.
// - Their top-level comments with replies by others become tombstones: no author, no text, no reactions (their
//   likes earn nobody anything), so the replies keep their thread; views show "deleted comment". Those without
//   replies are deleted.
// - Pending and rejected confessions are deleted. Published ones stay in the channel as anonymous posts without an
//   author ("keep"), or become deleted shells without author or text whose posts the caller withdraws ("delete");
//   confessions an admin had deleted become such shells too. Shells keep their id, so other people's comments under
//   them (and the numbers those earn) stay as they were after an admin's /delete.
// - Their feedback and their users row go; an audit row records that someone was forgotten, naming nobody.
// - The update inbox loses their own updates (handled or not: one still waiting is in the dispatcher's hands already
//   and is only lost to a replay after a crash) and every handled update (which may quote them, as an admin's
//   button press on a copy naming them does; the inbox drops handled updates at its next cleaning anyway).
//   `scrubOutbox` does the same for the outbox once the caller has queued what the erasure causes.
import { Context, Data, Duration, Effect, Layer, Option, Schema } from "effect"
import { RateLimiter } from "effect/persistence"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { type Media, mediaOf, Status } from "../domain/Confession.ts"
import { CommentId, ConfessionId, FeedbackId, UserId } from "../domain/Ids.ts"
import { PersonalExport, type PostsChoice } from "../domain/PersonalData.ts"
import { Outbox } from "../sql/Outbox.ts"
import { type AlreadyProcessed, Processed } from "../sql/Processed.ts"
import { decodeRow, decodeRows, Int8, NullableInt8 } from "../sql/Rows.ts"
import { RateLimiterStoreMemory } from "./RateLimiterStoreMemory.ts"

export interface PersonalDataOptions {
  /** How often a person may ask for their data (default 1 hour). */
  readonly exportInterval?: Duration.Input | undefined
}

/** A published confession kept in the channel as an anonymous post. */
export interface KeptPost {
  readonly id: ConfessionId
  /** The text, or the caption of its photo or voice note. */
  readonly text: string
  readonly media: Media | null
  readonly channelMessageId: Option.Option<number>
  /** The post showed the person's name, so it must be edited to "Anonymous". */
  readonly wasNamed: boolean
}

/** What an erasure did, for the messages it causes (all of them about content, none naming the person). */
export interface Erased {
  /** Every confession of theirs, whatever became of it. */
  readonly confessions: ReadonlyArray<ConfessionId>
  readonly kept: ReadonlyArray<KeptPost>
  /** Published confessions whose posts go (the person chose "also delete my posts"). */
  readonly withdrawn: ReadonlyArray<{ readonly id: ConfessionId; readonly channelMessageId: Option.Option<number> }>
  /** Confessions that were waiting for review: every admin's copy is closed. */
  readonly pending: ReadonlyArray<ConfessionId>
  /** Every comment of theirs (deleted, or now a tombstone). */
  readonly comments: ReadonlyArray<CommentId>
  /** Those of them that had been reported: admins may hold an alert about them. */
  readonly reported: ReadonlyArray<CommentId>
  /** Every feedback item of theirs; `open` ones still carry ✔️ / ↩️ buttons in the admins' chats. */
  readonly feedback: ReadonlyArray<FeedbackId>
  readonly openFeedback: ReadonlyArray<FeedbackId>
  /** Other people whose numbers changed (their comments lost this person's reactions). */
  readonly affected: ReadonlyArray<UserId>
}

/** /mydata was used less than `exportInterval` ago. */
export class TooSoon extends Data.TaggedClass("TooSoon")<{ readonly retryAfter: Duration.Duration }> {}

export class PersonalDataError extends Data.TaggedError("PersonalDataError")<{ readonly reason: TooSoon }> {}

export class PersonalData extends Context.Service<
  PersonalData,
  {
    /**
     * Uses up the person's export for this interval, or fails `TooSoon` saying when the next one is allowed. A store
     * failure (Redis down) passes through as `RateLimiterError`.
     */
    readonly allowExport: (user: UserId) => Effect.Effect<void, PersonalDataError | RateLimiter.RateLimiterError>
    /** Everything stored about the person (one statement); `None` when nothing is (never registered, or forgotten). */
    readonly exportOf: (user: UserId) => Effect.Effect<Option.Option<PersonalExport>, SqlError>
    /**
     * Erases the person in the current claiming transaction (a redelivered update fails `AlreadyProcessed`). Run it
     * inside `Courier.commit`, queue what it causes, then call `scrubOutbox` last.
     */
    readonly erase: (user: UserId, posts: PostsChoice) => Effect.Effect<Erased, SqlError | AlreadyProcessed>
    /**
     * Leaves the outbox without a trace of the person: nothing addressed to them, nothing finished about their
     * subjects (`topics`), and no kept copy with their name or words (those read `placeholder`).
     */
    readonly scrubOutbox: (user: UserId, topics: ReadonlyArray<string>, placeholder: string) => Effect.Effect<void, SqlError>
  }
>()("confessions/services/PersonalData") {
  /** Needs a `RateLimiterStore` (memory, or Redis for several processes), the SqlClient, the ledger and the outbox. */
  static readonly layerNoDeps = (
    options: PersonalDataOptions = {}
  ): Layer.Layer<PersonalData, never, RateLimiter.RateLimiterStore | SqlClient.SqlClient | Processed | Outbox> =>
    Layer.effect(PersonalData, make(options))

  /** The export limit in this process's memory. */
  static readonly layer = (
    options: PersonalDataOptions = {}
  ): Layer.Layer<PersonalData, never, SqlClient.SqlClient | Processed | Outbox> =>
    PersonalData.layerNoDeps(options).pipe(Layer.provide(RateLimiterStoreMemory.layer()))
}

const make = (options: PersonalDataOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const processed = yield* Processed
    const outbox = yield* Outbox
    const limiter = yield* RateLimiter.make
    const interval = Duration.fromInputUnsafe(options.exportInterval ?? "1 hour")

    return PersonalData.of({
      allowExport: Effect.fn("PersonalData.allowExport")(function* (user) {
        yield* limiter.consume({ key: `mydata:${user}`, limit: 1, window: interval, onExceeded: "fail" }).pipe(
          Effect.catchReason("RateLimiterError", "RateLimitExceeded", (limit) =>
            Effect.fail(new PersonalDataError({ reason: new TooSoon({ retryAfter: limit.retryAfter }) }))
          )
        )
      }),

      exportOf: Effect.fn("PersonalData.exportOf")(function* (user) {
        // Explicit columns only: `decided_by` and `resolved_by` name admins, and reactions to their comments name
        // other people; neither is theirs to take.
        const [row] = yield* sql`
          select
            json_build_object(
              'telegramId', u.id, 'firstName', u.first_name, 'lastName', u.last_name, 'username', u.username,
              'anonymousDefault', u.anonymous_default, 'blocked', u.blocked, 'inactive', u.inactive,
              'createdAt', u.created_at, 'lastSeenAt', u.last_seen_at
            ) as profile,
            coalesce((
              select json_agg(json_build_object(
                'id', c.id, 'status', c.status, 'text', c.text, 'anonymous', c.anonymous,
                'mediaKind', c.media_kind, 'mediaFileId', c.media_file_id, 'mediaDuration', c.media_duration,
                'channelMessageId', c.channel_message_id, 'rejectReason', c.reject_reason,
                'createdAt', c.created_at, 'decidedAt', c.decided_at
              ) order by c.id)
              from confessions c where c.author_id = u.id
            ), '[]'::json) as confessions,
            coalesce((
              select json_agg(json_build_object(
                'id', m.id, 'confessionId', m.confession_id, 'parentId', m.parent_id, 'text', m.text,
                'hidden', m.hidden, 'likes', m.likes, 'dislikes', m.dislikes, 'reports', m.reports,
                'replies', m.replies, 'createdAt', m.created_at
              ) order by m.id)
              from comments m where m.author_id = u.id
            ), '[]'::json) as comments,
            coalesce((
              select json_agg(json_build_object('commentId', r.comment_id, 'kind', r.kind, 'createdAt', r.created_at)
                order by r.created_at, r.comment_id)
              from reactions r where r.user_id = u.id
            ), '[]'::json) as reactions,
            coalesce((
              select json_agg(json_build_object('commentId', p.comment_id, 'createdAt', p.created_at)
                order by p.created_at, p.comment_id)
              from reports p where p.user_id = u.id
            ), '[]'::json) as reports,
            coalesce((
              select json_agg(json_build_object(
                'id', f.id, 'text', f.text, 'status', f.status, 'adminNote', f.admin_note,
                'resolvedAt', f.resolved_at, 'createdAt', f.created_at
              ) order by f.id)
              from feedback f where f.author_id = u.id
            ), '[]'::json) as feedback
          from users u where u.id = ${user}`
        return row === undefined ? Option.none() : Option.some(yield* decodeRow(PersonalExport, row))
      }),

      erase: Effect.fn("PersonalData.erase")(function* (user, posts) {
        return yield* processed.transaction(
          Effect.gen(function* () {
            const reported = yield* commentIds(
              sql`
                select m.id from comments m
                where m.author_id = ${user}
                  and (m.reports > 0 or exists (select 1 from report_decisions d where d.comment_id = m.id))`,
            )
            // Reactions and reports they gave: counters lowered by exactly the rows that went.
            const touched = yield* sql`
              with gone as (
                delete from reactions where user_id = ${user} returning comment_id, kind
              ), counts as (
                select comment_id,
                  count(*) filter (where kind = 'like')::int as likes,
                  count(*) filter (where kind = 'dislike')::int as dislikes
                from gone group by comment_id
              )
              update comments c set likes = c.likes - counts.likes, dislikes = c.dislikes - counts.dislikes
              from counts where c.id = counts.comment_id
              returning c.author_id`
            yield* sql`
              with gone as (
                delete from reports where user_id = ${user} returning comment_id
              )
              update comments c set reports = greatest(c.reports - 1, 0) from gone where c.id = gone.comment_id`
            // Their replies; a visible one is taken off its parent's counter (which counts visible replies).
            const replies = yield* commentIds(
              sql`
                with gone as (
                  delete from comments where author_id = ${user} and parent_id is not null
                  returning id, parent_id, hidden
                ), counts as (
                  select parent_id, count(*)::int as n from gone where not hidden group by parent_id
                ), counted as (
                  update comments p set replies = greatest(p.replies - counts.n, 0)
                  from counts where p.id = counts.parent_id
                )
                select id from gone`,
            )
            // Replies by others (theirs are gone now) keep a comment in place as a tombstone.
            const tombstones = yield* commentIds(
              sql`
                with stones as (
                  update comments m set author_id = null, text = '', likes = 0, dislikes = 0, reports = 0
                  where m.author_id = ${user} and m.parent_id is null
                    and exists (select 1 from comments r where r.parent_id = m.id)
                  returning m.id
                ), reactions_gone as (
                  delete from reactions where comment_id in (select id from stones)
                ), reports_gone as (
                  delete from reports where comment_id in (select id from stones)
                ), decisions_gone as (
                  delete from report_decisions where comment_id in (select id from stones)
                )
                select id from stones`,
            )
            const comments = yield* commentIds(sql`delete from comments where author_id = ${user} returning id`)
            const confessions = yield* decodeRows(
              MineRow,
              yield* sql`
                with mine as (
                  select id, status, anonymous, text, channel_message_id, media_kind, media_file_id, media_duration
                  from confessions
                  where author_id = ${user}
                  for update
                ), dropped as (
                  delete from confessions c using mine
                  where c.id = mine.id and mine.status in ('pending', 'rejected')
                ), kept as (
                  update confessions c set author_id = null, anonymous = true
                  from mine where c.id = mine.id and mine.status = 'approved' and ${posts}::text = 'keep'
                ), shelled as (
                  update confessions c
                  set author_id = null, anonymous = true, text = '', reject_reason = null, status = 'deleted',
                    media_kind = null, media_file_id = null, media_duration = null
                  from mine
                  where c.id = mine.id and (mine.status = 'deleted' or (mine.status = 'approved' and ${posts}::text = 'delete'))
                )
                select * from mine order by id`
            )
            const feedback = yield* decodeRows(
              FeedbackGone,
              yield* sql`delete from feedback where author_id = ${user} returning id, status`
            )
            yield* sql`delete from users where id = ${user}`
            yield* sql`
              insert into audit_log (actor_id, action, subject_kind, subject_id, detail)
              values (0, 'forget', 'user', 0, ${posts === "keep" ? "posts kept" : "posts deleted"})`
            // Their own updates carry their id as `"id":<id>` (sender and chat); handled ones of others may quote them.
            yield* sql`
              delete from update_inbox i
              where exists (select 1 from processed_updates p where p.update_id = i.update_id)
                or strpos(i.payload, ${`"id":${user},`}) > 0 or strpos(i.payload, ${`"id":${user}}`}) > 0`
            const approved = confessions.filter((c) => c.status === "approved")
            const affected = new Set<UserId>()
            for (const row of yield* decodeRows(AuthorRow, touched)) {
              if (row.authorId !== null && row.authorId !== user) affected.add(row.authorId)
            }
            return {
              confessions: confessions.map((c) => c.id),
              kept:
                posts === "keep"
                  ? approved.map((c) => ({
                      id: c.id,
                      text: c.text,
                      media: mediaOf(c),
                      channelMessageId: Option.fromNullishOr(c.channelMessageId),
                      wasNamed: !c.anonymous
                    }))
                  : [],
              withdrawn:
                posts === "delete"
                  ? approved.map((c) => ({ id: c.id, channelMessageId: Option.fromNullishOr(c.channelMessageId) }))
                  : [],
              pending: confessions.filter((c) => c.status === "pending").map((c) => c.id),
              comments: [...replies, ...tombstones, ...comments],
              reported,
              feedback: feedback.map((f) => f.id),
              openFeedback: feedback.filter((f) => f.status === "open").map((f) => f.id),
              affected: [...affected]
            } satisfies Erased
          })
        )
      }),

      scrubOutbox: Effect.fn("PersonalData.scrubOutbox")(function* (user, topics, placeholder) {
        yield* outbox.forget(user, topics, placeholder)
      })
    })
  })

const commentIds = (query: Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
  Effect.flatMap(query, (rows) => Effect.map(decodeRows(CommentIdRow, rows), (decoded) => decoded.map((row) => row.id)))

const CommentIdRow = Schema.Struct({ id: Int8.pipe(Schema.decodeTo(CommentId)) })

const MineRow = Schema.Struct({
  id: Int8.pipe(Schema.decodeTo(ConfessionId)),
  status: Status,
  anonymous: Schema.Boolean,
  text: Schema.String,
  channelMessageId: NullableInt8,
  mediaKind: Schema.NullOr(Schema.Literals(["photo", "voice"])),
  mediaFileId: Schema.NullOr(Schema.String),
  mediaDuration: Schema.NullOr(Schema.Number)
})

const FeedbackGone = Schema.Struct({
  id: Int8.pipe(Schema.decodeTo(FeedbackId)),
  status: Schema.Literals(["open", "resolved"])
})

const AuthorRow = Schema.Struct({ authorId: Schema.NullOr(Int8.pipe(Schema.decodeTo(UserId))) })
