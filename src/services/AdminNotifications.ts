// The one place that writes to the admins: a notice to every admin about a subject (a new confession, a reported
// comment, feedback), a one-off alert, and closing every admin's copy of a subject once one of them decided, so nobody
// acts twice. All of it goes through the outbox in the caller's transaction; a copy not sent yet when its subject closes
// is not sent at all, and a copy being sent is edited once it is out.
import { Clock, Context, Duration, Effect, Layer, Random } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../AppConfig.ts"
import * as BotCall from "../domain/BotCall.ts"
import { Outbox } from "../sql/Outbox.ts"

/** A rendered message for the admins: text, or a confession's photo or voice note with its caption. */
export type AdminMessage = BotCall.Rendered

export interface AdminNotificationsOptions {
  readonly adminIds: ReadonlyArray<number>
  /** Longest random delay of a `delayed` notice (ADMIN_NOTIFY_JITTER); zero sends at once. */
  readonly jitter: Duration.Input
}

export class AdminNotifications extends Context.Service<
  AdminNotifications,
  {
    /**
     * Every admin gets `message` about `topic` (e.g. `confession:42`), once per admin whatever happens. `delayed`:
     * all copies wait the same random time up to the jitter, so their arrival does not tell when the author acted.
     */
    readonly notify: (
      topic: string,
      message: AdminMessage,
      options?: { readonly delayed?: boolean }
    ) => Effect.Effect<void, SqlError>
    /**
     * Every admin's copy of `topic` becomes `text` without buttons (a media copy's caption: `text` must then fit a
     * caption); `outcome` names this closing (e.g. `approved`).
     */
    readonly close: (
      topic: string,
      outcome: string,
      text: string,
      options?: { readonly delay?: Duration.Input }
    ) => Effect.Effect<void, SqlError>
    /** A message to every admin with no decision to take, sent once per `key`. */
    readonly alert: (key: string, text: string) => Effect.Effect<void, SqlError>
  }
>()("confessions/services/AdminNotifications") {
  static readonly layer = (options: AdminNotificationsOptions): Layer.Layer<AdminNotifications, never, Outbox> =>
    Layer.effect(AdminNotifications, make(options))

  /** ADMIN_IDS and ADMIN_NOTIFY_JITTER. */
  static readonly layerConfig: Layer.Layer<AdminNotifications, never, Outbox | AppConfig> = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return AdminNotifications.layer({ adminIds: config.adminIds, jitter: config.adminNotifyJitter })
    })
  )
}

const make = (options: AdminNotificationsOptions) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox
    const jitterMillis = Duration.toMillis(Duration.fromInputUnsafe(options.jitter))
    const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

    const noticeKey = (topic: string, admin: number) => `${topic}:notice:${admin}`

    return AdminNotifications.of({
      notify: Effect.fn("AdminNotifications.notify")(function* (topic, message, notifyOptions) {
        const at = yield* now
        const delay = notifyOptions?.delayed === true && jitterMillis > 0 ? yield* Random.nextIntBetween(0, jitterMillis) : 0
        yield* outbox.enqueue(
          options.adminIds.map((admin) => ({
            dedupeKey: noticeKey(topic, admin),
            kind: "admin_notice",
            topic,
            call: BotCall.send(admin, message),
            dueAt: new Date(at.getTime() + delay)
          })),
          at
        )
      }),

      close: Effect.fn("AdminNotifications.close")(function* (topic, outcome, text, closeOptions) {
        const at = yield* now
        const dueAt = new Date(at.getTime() + Duration.toMillis(Duration.fromInputUnsafe(closeOptions?.delay ?? 0)))
        // Copies nobody holds yet are simply not sent; an earlier closing still waiting is replaced by this one.
        const copies = yield* outbox.supersede(topic, "admin_notice", at)
        yield* outbox.supersede(topic, "admin_close", at)
        yield* outbox.enqueue(
          copies.flatMap((copy) =>
            copy.chatId === null
              ? []
              : [
                  {
                    dedupeKey: `${topic}:close:${outcome}:${copy.id}`,
                    kind: "admin_close" as const,
                    topic,
                    call: isMediaSend(copy.callTag)
                      ? BotCall.editCaption(chatIdOf(copy.chatId), undefined, text)
                      : BotCall.editText(chatIdOf(copy.chatId), undefined, text),
                    parentKey: copy.dedupeKey,
                    dueAt
                  }
                ]
          ),
          at
        )
      }),

      alert: Effect.fn("AdminNotifications.alert")(function* (key, text) {
        const at = yield* now
        yield* outbox.enqueue(
          options.adminIds.map((admin) => ({
            dedupeKey: `${key}:${admin}`,
            kind: "admin_alert",
            call: BotCall.sendMessage(admin, text),
            dueAt: at
          })),
          at
        )
      })
    })
  })

/** Whether a stored copy is a photo or voice message, whose caption (not text) an edit replaces. */
const isMediaSend = (callTag: string | null): boolean => callTag === "SendPhoto" || callTag === "SendVoice"

/** Chat ids come back from the stored JSON as text; admins' chats are numeric. */
const chatIdOf = (stored: string): number | string => (/^-?[0-9]{1,16}$/.test(stored) ? Number(stored) : stored)
