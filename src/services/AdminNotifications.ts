// Which message each admin got about a confession, a reported comment or a feedback item, so that when one admin acts
// every admin's copy can be edited to the outcome and nobody acts twice.
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { UserId } from "../domain/Ids.ts"
import { decodeRows, Int8 } from "../sql/Rows.ts"
import { type AlreadyProcessed, Processed } from "../sql/Processed.ts"

export const NotificationKind = Schema.Literals(["confession", "report", "feedback"])
export type NotificationKind = typeof NotificationKind.Type

/** One admin's copy of a notification. */
export class NotificationCopy extends Schema.Class<NotificationCopy>("NotificationCopy")({
  adminId: Int8.pipe(Schema.decodeTo(UserId)),
  chatId: Int8,
  messageId: Int8
}) {}

export interface NotificationRecord {
  readonly kind: NotificationKind
  /** The confession id, the reported comment's id, or the feedback id, depending on `kind`. */
  readonly subjectId: number
  readonly adminId: UserId
  readonly chatId: number
  readonly messageId: number
}

export class AdminNotifications extends Context.Service<
  AdminNotifications,
  {
    /** Remembers one admin's copy; recording the same admin and subject again replaces the message. */
    readonly record: (record: NotificationRecord) => Effect.Effect<void, SqlError | AlreadyProcessed>
    /** Every admin's copy for the subject, in admin order; empty when nobody was notified. */
    readonly copiesOf: (kind: NotificationKind, subjectId: number) => Effect.Effect<ReadonlyArray<NotificationCopy>, SqlError>
  }
>()("confessions/services/AdminNotifications") {
  /** Needs the SqlClient and the processed-updates ledger (a recorded copy claims the update it was sent for). */
  static readonly layer: Layer.Layer<AdminNotifications, never, SqlClient.SqlClient | Processed> = Layer.effect(
    AdminNotifications,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const processed = yield* Processed

      return AdminNotifications.of({
        record: Effect.fn("AdminNotifications.record")(function* (record) {
          yield* processed.transaction(sql`
            insert into admin_notifications (kind, subject_id, admin_id, chat_id, message_id)
            values (${record.kind}, ${record.subjectId}, ${record.adminId}, ${record.chatId}, ${record.messageId})
            on conflict (kind, subject_id, admin_id) do update set
              chat_id = excluded.chat_id,
              message_id = excluded.message_id,
              created_at = now()`)
        }),
        copiesOf: Effect.fn("AdminNotifications.copiesOf")(function* (kind, subjectId) {
          const rows = yield* sql`
            select admin_id, chat_id, message_id from admin_notifications
            where kind = ${kind} and subject_id = ${subjectId}
            order by admin_id`
          return yield* decodeRows(NotificationCopy, rows)
        })
      })
    })
  )
}
