// Admin commands: /pending (paged in place, with ✅ / ❌ per confession), /stats, /delete <ID> (also removes the
// channel post) and /block, /unblock c<ID> | m<ID>, which act on content and never reveal who its author is.
// Every route here is admin-only; the router answers "admins only" to everyone else.
import { Clock, Effect, Layer, Option } from "effect"
import { AppConfig } from "../AppConfig.ts"
import * as Channel from "../domain/Channel.ts"
import * as ContentRef from "../domain/ContentRef.ts"
import type { ConfessionId, UserId } from "../domain/Ids.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import { Confessions } from "../services/Confessions.ts"
import { Moderation } from "../services/Moderation.ts"
import { StatsCache } from "../services/StatsCache.ts"
import { Telegram } from "../services/Telegram.ts"
import { type CommandContext, Reply, Router } from "../updates/Router.ts"
import * as ConfessionViews from "../views/ConfessionViews.ts"
import type * as Keyboards from "../views/Keyboards.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const config = yield* AppConfig
    const confessions = yield* Confessions
    const moderation = yield* Moderation
    const notifications = yield* AdminNotifications
    const stats = yield* StatsCache
    const telegram = yield* Telegram
    const adminOnly = { adminOnly: true } as const

    const pendingView = (page: number) =>
      Effect.gen(function* () {
        const found = yield* confessions.listPending({ page, pageSize: ConfessionViews.pageSize })
        if (found.items.length === 0) return { text: Messages.noPending } satisfies Keyboards.View
        return ConfessionViews.pendingPage(found, yield* Clock.currentTimeMillis)
      })

    const send = (context: CommandContext, view: Keyboards.View) =>
      telegram.sendMessage(context.chatId, view.text, { replyMarkup: view.keyboard })

    yield* router.onCommand(
      "pending",
      Effect.fn("Admin.pending")(function* (context) {
        yield* send(context, yield* pendingView(1))
      }),
      adminOnly
    )

    yield* router.onCallback(
      "PendingPage",
      Effect.fn("Admin.pendingPage")(function* (context) {
        const view = yield* pendingView(context.action.page)
        yield* telegram.sendOrEdit(context.chatId, context.messageId, view.text, { replyMarkup: view.keyboard })
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      }),
      adminOnly
    )

    yield* router.onCommand(
      "stats",
      Effect.fn("Admin.stats")(function* (context) {
        yield* telegram.sendMessage(context.chatId, ConfessionViews.stats(yield* stats.system))
      }),
      adminOnly
    )

    /** Removes the channel post of a deleted confession; says what became of it. */
    const removePost = (post: Option.Option<number>) =>
      Effect.gen(function* () {
        if (Option.isNone(post)) return "none" as const
        if (Option.isNone(config.channelId)) return "noChannel" as const
        return yield* telegram.deleteMessage(Channel.chatId(config.channelId.value), post.value).pipe(
          Effect.as("removed" as const),
          Effect.catchCause((cause) => Effect.as(Effect.logWarning("could not delete a channel post", cause), "failed" as const))
        )
      })

    /** The admins' copies of a deleted confession say so (best effort: the deletion itself is done). */
    const markCopiesDeleted = (id: ConfessionId) =>
      Effect.gen(function* () {
        const confession = yield* confessions.get(id)
        if (Option.isNone(confession)) return
        const view = ConfessionViews.outcome(confession.value, "deleted")
        const copies = yield* notifications.copiesOf("confession", id)
        yield* Effect.forEach(copies, (copy) => telegram.editMessageText(copy.chatId, copy.messageId, view.text), {
          concurrency: 8,
          discard: true
        })
      }).pipe(Effect.catchCause((cause) => Effect.logWarning(`could not update the admins' copies of #${id}`, cause)))

    yield* router.onCommand(
      "delete",
      Effect.fn("Admin.delete")(function* (context) {
        const ref = ContentRef.confession(context.args)
        if (Option.isNone(ref)) return yield* new Reply({ text: Messages.deleteUsage })
        const id = ref.value
        const post = yield* moderation.delete(id, context.user.id).pipe(
          Effect.catchTag("ModerationError", (error) =>
            Effect.fail(
              new Reply({
                text: error.reason._tag === "AlreadyDecided" ? Messages.alreadyDeleted(id) : Messages.confessionNotFound(id)
              })
            )
          )
        )
        const removal = yield* Effect.uninterruptible(
          Effect.gen(function* () {
            const removal = yield* removePost(post)
            yield* markCopiesDeleted(id)
            return removal
          })
        )
        yield* telegram.sendMessage(context.chatId, Messages.deleted(id, removal))
      }),
      adminOnly
    )

    for (const command of ["block", "unblock"] as const) {
      const act = (subject: ContentRef.Subject, admin: UserId) =>
        command === "block" ? moderation.blockAuthorOf(subject, admin) : moderation.unblockAuthorOf(subject, admin)
      const done = command === "block" ? Messages.blockedAuthor : Messages.unblockedAuthor
      yield* router.onCommand(
        command,
        Effect.fn(`Admin.${command}`)(function* (context) {
          const ref = ContentRef.subject(context.args)
          if (Option.isNone(ref)) return yield* new Reply({ text: Messages.blockUsage(command) })
          const subject = ref.value
          const changed = yield* act(subject, context.user.id).pipe(
            Effect.catchTag("ModerationError", () => Effect.fail(new Reply({ text: Messages.subjectNotFound(subject.kind, subject.id) })))
          )
          yield* telegram.sendMessage(context.chatId, done(subject.kind, subject.id, changed))
        }),
        adminOnly
      )
    }
  })
)
