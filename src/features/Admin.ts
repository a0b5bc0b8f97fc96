// Admin commands: /pending (paged in place, with ✅ / ❌ per confession), /stats, /delete <ID> (also removes the
// channel post) and /block, /unblock c<ID> | m<ID>, which act on content and never reveal who its author is.
// Every route here is admin-only; the router answers "admins only" to everyone else.
import { Clock, Effect, Layer, Option } from "effect"
import * as BotCall from "../domain/BotCall.ts"
import * as ContentRef from "../domain/ContentRef.ts"
import type { UserId } from "../domain/Ids.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import { ChannelPosts } from "../services/ChannelPosts.ts"
import { Courier } from "../services/Courier.ts"
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
    const confessions = yield* Confessions
    const moderation = yield* Moderation
    const admins = yield* AdminNotifications
    const channel = yield* ChannelPosts
    const courier = yield* Courier
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

    yield* router.onCommand(
      "delete",
      Effect.fn("Admin.delete")(function* (context) {
        const ref = ContentRef.confession(context.args)
        if (Option.isNone(ref)) return yield* new Reply({ text: Messages.deleteUsage })
        const id = ref.value
        // The deletion, the post's removal, every admin's copy saying so and the answer commit together.
        yield* courier.commit(
          Effect.gen(function* () {
            const deleted = yield* moderation.delete(id, context.user.id).pipe(
              Effect.catchTag("ModerationError", (error) =>
                Effect.fail(
                  new Reply({
                    text: error.reason._tag === "AlreadyDecided" ? Messages.alreadyDeleted(id) : Messages.confessionNotFound(id)
                  })
                )
              )
            )
            const hadPost = yield* channel.withdraw(id, deleted.channelMessageId)
            const removal: Messages.PostRemoval = !hadPost ? "none" : Option.isNone(channel.channelId) ? "noChannel" : "removing"
            yield* admins.close(`confession:${id}`, "deleted", ConfessionViews.outcome(deleted, "deleted").text)
            yield* courier.answer([BotCall.sendMessage(context.chatId, Messages.deleted(id, removal))])
          })
        )
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
          yield* courier.commit(
            Effect.gen(function* () {
              yield* act(subject, context.user.id).pipe(
                Effect.catchTag("ModerationError", () =>
                  Effect.fail(new Reply({ text: Messages.subjectNotFound(subject.kind, subject.id) }))
                )
              )
              yield* courier.answer([BotCall.sendMessage(context.chatId, done(subject.kind, subject.id))])
            })
          )
        }),
        adminOnly
      )
    }
  })
)
