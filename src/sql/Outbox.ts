// The outbox ledger: Bot API calls stored by the transaction of the write that causes them, and the statements that
// hand them out for delivery. A row is claimed with a lease (`locked_until`) under `FOR UPDATE SKIP LOCKED`, so several
// couriers (processes) never hold the same row at once, and a courier that died only delays its rows until the lease
// ends. Every time is the program's clock, passed in. A row may wait for a parent row (an edit of the copy it sent):
// it is handed out once the parent is finished, with the parent's message id.
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { type BotCall, BotCallFromJson } from "../domain/BotCall.ts"
import { ConfessionId } from "../domain/Ids.ts"
import { decodeRows, Int8, NullableInt8 } from "./Rows.ts"

/** What a row is for: the label of the delivery metrics, and the kinds the ledger's own statements look for. */
export type Kind =
  | "answer"
  | "admin_notice"
  | "admin_close"
  | "admin_alert"
  | "channel_post"
  | "channel_delete"
  | "notice"

export const kinds: ReadonlyArray<Kind> = ["answer", "admin_notice", "admin_close", "admin_alert", "channel_post", "channel_delete", "notice"]

/** A call to store. */
export interface NewMessage {
  /** Unique for what the call means (e.g. `confession:42:post`); storing the same key again stores nothing. */
  readonly dedupeKey: string
  readonly kind: Kind
  /** Groups the rows of one subject (e.g. `confession:42`), so they can be found and closed together. */
  readonly topic?: string | undefined
  readonly call: BotCall
  /** The dedupe key of the row whose sent message this call edits or deletes (stored earlier or in this batch). */
  readonly parentKey?: string | undefined
  readonly dueAt: Date
  /** Held by the storing process until then (it sends the call itself right after its commit). */
  readonly lockedUntil?: Date | undefined
  /** A channel post remembers its message id on the confession once it is sent. */
  readonly postOf?: ConfessionId | undefined
}

/** A row handed out for delivery, with its parent's outcome when it has one. */
export interface Claimed {
  readonly id: number
  readonly kind: Kind
  readonly topic: string | null
  readonly call: BotCall
  readonly attempts: number
  readonly createdAt: Date
  readonly postOf: ConfessionId | null
  /** `undefined`: no parent. `null`: the parent sent nothing (cancelled, failed, skipped, or gone). */
  readonly parentMessageId: number | null | undefined
}

/** How a delivery attempt ended. */
export type Outcome =
  | { readonly _tag: "Delivered"; readonly id: number; readonly messageId: number | undefined; readonly postOf: ConfessionId | null }
  | { readonly _tag: "Retry"; readonly id: number; readonly dueAt: Date; readonly error: string }
  /** Not tried: its chat's rate limit had no room; due again at `dueAt`, and the claim does not count as an attempt. */
  | { readonly _tag: "Deferred"; readonly id: number; readonly dueAt: Date }
  | { readonly _tag: "Failed"; readonly id: number; readonly error: string }
  | { readonly _tag: "Skipped"; readonly id: number; readonly reason: string }

/** A row of a topic that was sent or is being sent, so a later call can refer to it. */
export interface Superseded {
  readonly id: number
  readonly dedupeKey: string
  /** The chat the row writes to. */
  readonly chatId: string | null
  /** Its call's kind (`SendMessage`, `SendPhoto`…): an edit of a media message edits its caption. */
  readonly callTag: string | null
}

/**
 * The calls a write stores, collected while it runs (`add` inside `CurrentBatch`) and stored in one statement before
 * it commits (`flush`, see Courier.commit): one statement per write however many services queued calls. Any other
 * statement of the ledger inside the write (`supersede`) stores what was queued first, so it sees every row the write
 * added, as if each had been stored at once.
 */
export interface Batch {
  /** Calls added and not stored yet. */
  readonly messages: Array<NewMessage>
  /** Calls this write stored, as stored, with their row ids (a key stored earlier by another write is not here). */
  readonly stored: Array<{ readonly message: NewMessage; readonly id: number }>
}

export const CurrentBatch = Context.Reference<Batch | undefined>("confessions/sql/Outbox/CurrentBatch", {
  defaultValue: () => undefined
})

export interface PendingStats {
  /** Rows waiting: due, in back-off, waiting for their parent, or scheduled for later. */
  readonly pending: number
  /**
   * Seconds the longest-waiting row has been late: since it fell due, or since it was stored once it has been tried;
   * 0 when none is due.
   */
  readonly oldestSeconds: number
}

export class Outbox extends Context.Service<
  Outbox,
  {
    /**
     * Stores calls (one statement; of calls with the same key, the first); returns the ids of the rows it stored, by
     * dedupe key.
     */
    readonly enqueue: (messages: ReadonlyArray<NewMessage>, now: Date) => Effect.Effect<ReadonlyMap<string, number>, SqlError>
    /** Adds calls to the current write's `CurrentBatch`; without one, stores them at once. */
    readonly add: (messages: ReadonlyArray<NewMessage>, now: Date) => Effect.Effect<void, SqlError>
    /**
     * Stores what `batch` holds that is not stored yet (one statement, none when nothing waits). Only the write's `last`
     * statement stores calls as held (`lockedUntil`: the answers its process sends right after the commit); stored
     * before then, nothing is held, since a later statement of the same write may still change or remove the row, so
     * only a claim, which reads it, may deliver it.
     */
    readonly flush: (batch: Batch, now: Date, options?: { readonly last?: boolean }) => Effect.Effect<void, SqlError>
    /** Claims up to `limit` due rows until `leaseUntil`, oldest due first. */
    readonly claimDue: (now: Date, limit: number, leaseUntil: Date) => Effect.Effect<ReadonlyArray<Claimed>, SqlError>
    /**
     * Records how attempts ended (one statement for all of them) and releases their leases; a row already finished
     * (by another courier, after this one's lease ended) is left as it is.
     */
    readonly finish: (outcomes: ReadonlyArray<Outcome>, now: Date) => Effect.Effect<void, SqlError>
    /** Releases leases early (the process stops, or gives a row back to the courier): due at once. */
    readonly release: (ids: ReadonlyArray<number>, now: Date) => Effect.Effect<void, SqlError>
    /**
     * Ends a topic's pending rows of `kind` that nobody holds (their call is no longer wanted) and returns the ids of
     * the others of that kind (sent or being sent), e.g. to edit every admin's copy after a decision.
     */
    readonly supersede: (topic: string, kind: Kind, now: Date) => Effect.Effect<ReadonlyArray<Superseded>, SqlError>
    /**
     * Replaces the stored call of a row, whatever its status (a row not sent yet goes out as `call`; a sent one keeps
     * no copy of its old words). `out`: it was sent or is being sent, so its message may still show the old call.
     */
    readonly rewrite: (
      dedupeKey: string,
      call: BotCall,
      now: Date
    ) => Effect.Effect<Option.Option<{ readonly out: boolean }>, SqlError>
    /**
     * Forgets a person (/forget), after the caller queued what their erasure causes: every row addressed to `chatId`
     * goes (pending or not: nothing may keep their chat id), finished rows of `topics` (their subjects) go unless a
     * pending row waits for them, and the admin copies and channel posts of `topics` still kept (being sent, or the
     * parent of a pending edit) get `placeholder` as their text or caption, so no stored call keeps the person's name
     * or words.
     */
    readonly forget: (chatId: number, topics: ReadonlyArray<string>, placeholder: string) => Effect.Effect<void, SqlError>
    /** Rows still waiting, and the age of the oldest. */
    readonly pendingStats: (now: Date) => Effect.Effect<PendingStats, SqlError>
    /** Removes finished rows older than `before`; an admin's sent copy stays while nothing has closed it. */
    readonly prune: (before: Date) => Effect.Effect<number, SqlError>
  }
>()("confessions/sql/Outbox") {
  static readonly layer: Layer.Layer<Outbox, never, SqlClient.SqlClient> = Layer.effect(
    Outbox,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const encodeCall = Schema.encodeSync(BotCallFromJson)

      const enqueue = Effect.fnUntraced(function* (all: ReadonlyArray<NewMessage>, now: Date) {
        // One row per key: a second row with a key already in the statement could not name its parent unambiguously.
        const seen = new Set<string>()
        const messages = all.filter((message) => !seen.has(message.dedupeKey) && seen.add(message.dedupeKey))
        if (messages.length === 0) return new Map<string, number>()
        const input = messages.map((message, ord) => ({
          ord,
          dedupe_key: message.dedupeKey,
          kind: message.kind,
          topic: message.topic ?? null,
          call: encodeCall(message.call),
          parent_key: message.parentKey ?? null,
          due_at: message.dueAt.toISOString(),
          locked_until: message.lockedUntil?.toISOString() ?? null,
          post_of: message.postOf ?? null
        }))
        // Ids are drawn first, so a row can name a parent stored by the same statement.
        const rows = yield* sql<{ readonly id: unknown; readonly dedupeKey: string }>`
          with input as (
            select * from json_to_recordset(${JSON.stringify(input)}::json) as x(
              ord int, dedupe_key text, kind text, topic text, call text, parent_key text,
              due_at timestamptz, locked_until timestamptz, post_of bigint)
          ), ids as (
            select ord, dedupe_key, nextval(pg_get_serial_sequence('outbox', 'id')) as id from input
          )
          insert into outbox (id, dedupe_key, kind, topic, call, parent_id, due_at, locked_until, on_delivered, created_at)
          select ids.id, x.dedupe_key, x.kind, x.topic, x.call,
            coalesce(
              (select i.id from ids i where i.dedupe_key = x.parent_key),
              (select o.id from outbox o where o.dedupe_key = x.parent_key)
            ),
            x.due_at, x.locked_until,
            case when x.post_of is null then null else json_build_object('postOf', x.post_of)::text end,
            ${now.toISOString()}::timestamptz
          from input x join ids on ids.ord = x.ord
          order by x.ord
          on conflict (dedupe_key) do nothing
          returning id, dedupe_key`
        return new Map(rows.map((row) => [row.dedupeKey, Number(row.id)]))
      })

      const flush = Effect.fnUntraced(function* (batch: Batch, now: Date, options?: { readonly last?: boolean }) {
        if (batch.messages.length === 0) return
        const queued = batch.messages.splice(0)
        const messages = options?.last === true ? queued : queued.map(unheld)
        const ids = yield* enqueue(messages, now)
        for (const message of messages) {
          const id = ids.get(message.dedupeKey)
          if (id !== undefined) batch.stored.push({ message, id })
        }
      })

      /** Before a statement that reads or changes rows inside a write: what the write queued is stored first. */
      const flushCurrent = (now: Date) =>
        Effect.flatMap(CurrentBatch, (batch) => (batch === undefined ? Effect.void : flush(batch, now)))

      return Outbox.of({
        enqueue,
        flush,

        add: Effect.fnUntraced(function* (messages, now) {
          const batch = yield* CurrentBatch
          if (batch === undefined) yield* enqueue(messages, now)
          else batch.messages.push(...messages)
        }),

        claimDue: Effect.fnUntraced(function* (now, limit, leaseUntil) {
          const rows = yield* sql`
            with due as (
              select c.id from outbox c
              where c.status = 'pending' and c.due_at <= ${now.toISOString()}::timestamptz
                and (c.locked_until is null or c.locked_until <= ${now.toISOString()}::timestamptz)
                and not exists (select 1 from outbox p where p.id = c.parent_id and p.status = 'pending')
              order by c.due_at, c.id
              limit ${limit}
              for update of c skip locked
            )
            update outbox o set locked_until = ${leaseUntil.toISOString()}::timestamptz, attempts = o.attempts + 1
            from due where o.id = due.id
            returning o.id, o.kind, o.topic, o.call, o.attempts, o.created_at, o.on_delivered, o.parent_id,
              (select p.status from outbox p where p.id = o.parent_id) as parent_status,
              (select p.result_message_id from outbox p where p.id = o.parent_id) as parent_message_id`
          // RETURNING has no order: hand rows out oldest first, so calls to one chat go in the order they were made.
          return (yield* decodeRows(ClaimedRow, rows)).map(toClaimed).sort((a, b) => a.id - b.id)
        }),

        finish: Effect.fnUntraced(function* (outcomes, now) {
          if (outcomes.length === 0) return
          const input = outcomes.map((outcome) => ({
            id: outcome.id,
            status:
              outcome._tag === "Delivered"
                ? "delivered"
                : outcome._tag === "Retry" || outcome._tag === "Deferred"
                  ? "pending"
                  : outcome._tag === "Failed"
                    ? "failed"
                    : "skipped",
            message_id: outcome._tag === "Delivered" ? (outcome.messageId ?? null) : null,
            post_of: outcome._tag === "Delivered" ? outcome.postOf : null,
            error:
              outcome._tag === "Retry" || outcome._tag === "Failed"
                ? outcome.error.slice(0, 1000)
                : outcome._tag === "Skipped"
                  ? outcome.reason.slice(0, 1000)
                  : null,
            due_at: outcome._tag === "Retry" || outcome._tag === "Deferred" ? outcome.dueAt.toISOString() : null,
            uncount: outcome._tag === "Deferred"
          }))
          yield* sql`
            with input as (
              select * from json_to_recordset(${JSON.stringify(input)}::json) as x(
                id bigint, status text, message_id bigint, post_of bigint, error text, due_at timestamptz, uncount boolean)
            ), posted as (
              update confessions c set channel_message_id = x.message_id
              from input x where c.id = x.post_of and x.status = 'delivered' and x.message_id is not null
              returning c.id
            )
            update outbox o set
              status = x.status,
              result_message_id = coalesce(x.message_id, o.result_message_id),
              last_error = coalesce(x.error, o.last_error),
              due_at = coalesce(x.due_at, o.due_at),
              attempts = o.attempts - case when x.uncount then 1 else 0 end,
              locked_until = null,
              finished_at = case when x.status = 'pending' then null else ${now.toISOString()}::timestamptz end
            from input x where o.id = x.id and o.status = 'pending'`
        }),

        release: Effect.fnUntraced(function* (ids, now) {
          if (ids.length === 0) return
          yield* sql`
            update outbox set locked_until = null, due_at = least(due_at, ${now.toISOString()}::timestamptz)
            where id in ${sql.in(ids)} and status = 'pending'`
        }),

        supersede: Effect.fnUntraced(function* (topic, kind, now) {
          yield* flushCurrent(now)
          const rows = yield* sql<{
            readonly id: unknown
            readonly dedupeKey: string
            readonly chatId: string | null
            readonly callTag: string | null
          }>`
            with ended as (
              update outbox set status = 'cancelled', finished_at = ${now.toISOString()}::timestamptz
              where topic = ${topic} and kind = ${kind} and status = 'pending'
                and (locked_until is null or locked_until <= ${now.toISOString()}::timestamptz)
              returning id
            )
            select id, dedupe_key, call::json ->> 'chatId' as chat_id, call::json ->> '_tag' as call_tag from outbox
            where topic = ${topic} and kind = ${kind} and status in ('pending', 'delivered')
              and id not in (select id from ended)
            order by id`
          return rows.map((row) => ({ id: Number(row.id), dedupeKey: row.dedupeKey, chatId: row.chatId, callTag: row.callTag }))
        }),

        rewrite: Effect.fnUntraced(function* (dedupeKey, call, now) {
          yield* flushCurrent(now)
          const rows = yield* sql<{ readonly out: boolean }>`
            update outbox set call = ${encodeCall(call)}
            where dedupe_key = ${dedupeKey}
            returning status = 'delivered'
              or (status = 'pending' and coalesce(locked_until > ${now.toISOString()}::timestamptz, false)) as out`
          return Option.fromNullishOr(rows[0]).pipe(Option.map((row) => ({ out: row.out })))
        }),

        forget: Effect.fnUntraced(function* (chatId, topics, placeholder) {
          // What the write queued (the closes and withdrawals an erasure causes) is in the table first, so the rows
          // they follow are kept and what they address is forgotten too.
          yield* flushCurrent(new Date(yield* Clock.currentTimeMillis))
          // Three statements (the caller's transaction holds them together), so no row is touched twice by one.
          yield* sql`delete from outbox where call::json ->> 'chatId' = ${String(chatId)}`
          if (topics.length === 0) return
          const topicList = sql`(select value from json_array_elements_text(${JSON.stringify(topics)}::json))`
          yield* sql`
            delete from outbox o
            where o.topic in ${topicList} and o.status <> 'pending'
              and not exists (select 1 from outbox c where c.parent_id = o.id and c.status = 'pending')`
          // A kept copy stays of its kind (a later close edits a photo's caption, not a text). An admin's copy of a
          // photo or voice note loses the file (resent, it would fail and end); a channel post keeps it, so a post
          // resent after its courier died still goes out whole, to be withdrawn or revised after it.
          yield* sql`
            update outbox set call = (case
              when call::json ->> '_tag' = 'SendMessage'
                then json_build_object('_tag', 'SendMessage', 'chatId', call::json -> 'chatId', 'text', ${placeholder}::text)
              else json_build_object(
                '_tag', call::json ->> '_tag', 'chatId', call::json -> 'chatId',
                'fileId', case when kind = 'channel_post' then call::json ->> 'fileId' else 'erased' end,
                'caption', ${placeholder}::text)
            end)::text
            where topic in ${topicList} and kind in ('admin_notice', 'channel_post')
              and call::json ->> '_tag' in ('SendMessage', 'SendPhoto', 'SendVoice')`
        }),

        pendingStats: Effect.fnUntraced(function* (now) {
          // A row waits from when it fell due (a jittered notice is not late before its time) or, once tried, from when
          // it was stored (a retry moves its due time, not its wait).
          const [row] = yield* sql<{ readonly pending: unknown; readonly oldest: unknown }>`
            select count(*) as pending,
              coalesce(extract(epoch from ${now.toISOString()}::timestamptz - min(
                case when attempts = 0 then due_at else created_at end
              ) filter (where attempts > 0 or due_at <= ${now.toISOString()}::timestamptz)), 0) as oldest
            from outbox where status = 'pending'`
          return { pending: Number(row?.pending ?? 0), oldestSeconds: Math.max(0, Number(row?.oldest ?? 0)) }
        }),

        prune: Effect.fnUntraced(function* (before) {
          const [row] = yield* sql<{ readonly n: unknown }>`
            with gone as (
              delete from outbox o
              where o.status <> 'pending' and o.finished_at < ${before.toISOString()}::timestamptz
                and not (o.kind = 'admin_notice' and o.status = 'delivered'
                  and not exists (select 1 from outbox c where c.parent_id = o.id))
              returning 1
            )
            select count(*) as n from gone`
          return Number(row?.n ?? 0)
        })
      })
    })
  )
}

/** A call stored before its write's last statement: nobody holds it (see `flush`). */
const unheld = (message: NewMessage): NewMessage => {
  const { lockedUntil: _held, ...rest } = message
  return rest
}

const ClaimedRow = Schema.Struct({
  id: Int8,
  kind: Schema.Literals(["answer", "admin_notice", "admin_close", "admin_alert", "channel_post", "channel_delete", "notice"]),
  topic: Schema.NullOr(Schema.String),
  call: BotCallFromJson,
  attempts: Schema.Number,
  createdAt: Schema.Date,
  onDelivered: Schema.NullOr(Schema.fromJsonString(Schema.Struct({ postOf: Int8.pipe(Schema.decodeTo(ConfessionId)) }))),
  parentId: NullableInt8,
  parentStatus: Schema.NullOr(Schema.String),
  parentMessageId: NullableInt8
})

const toClaimed = (row: typeof ClaimedRow.Type): Claimed => ({
  id: row.id,
  kind: row.kind,
  topic: row.topic,
  call: row.call,
  attempts: row.attempts,
  createdAt: row.createdAt,
  postOf: row.onDelivered === null ? null : row.onDelivered.postOf,
  parentMessageId:
    row.parentId === null ? undefined : row.parentStatus === "delivered" ? row.parentMessageId : null
})
