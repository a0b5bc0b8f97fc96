// A person's own data. `/mydata` sends everything stored about them as a JSON file, at most once an hour; a read, so
// it needs no outbox row. `/forget` asks first (keep my published confessions as anonymous posts, delete them too, or
// cancel), then erases them in one transaction together with every message the erasure causes: the admins' copies of
// their pending confessions, open feedback and reported comments turn into "withdrawn", named channel posts are edited
// to "Anonymous" (or withdrawn when chosen), and the outbox keeps nothing addressed to them. Admins (named in
// ADMIN_IDS) and blocked accounts cannot erase themselves.
import { Clock, Duration, Effect, Layer, Option, Random } from "effect"
import { AppConfig } from "../AppConfig.ts"
import * as BotCall from "../domain/BotCall.ts"
import * as DeepLink from "../domain/DeepLink.ts"
import type { UserId } from "../domain/Ids.ts"
import type { PostsChoice } from "../domain/PersonalData.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import { BotIdentity } from "../services/BotIdentity.ts"
import { ChannelPosts } from "../services/ChannelPosts.ts"
import { ConversationStore } from "../services/ConversationStore.ts"
import { Courier } from "../services/Courier.ts"
import { type Erased, PersonalData } from "../services/PersonalData.ts"
import { StatsCache } from "../services/StatsCache.ts"
import { Telegram } from "../services/Telegram.ts"
import { Users } from "../services/Users.ts"
import { type Incoming, Reply, Router } from "../updates/Router.ts"
import * as ConfessionViews from "../views/ConfessionViews.ts"
import * as Messages from "../views/Messages.ts"
import * as PersonalDataViews from "../views/PersonalDataViews.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const personalData = yield* PersonalData
    const telegram = yield* Telegram
    const courier = yield* Courier
    const admins = yield* AdminNotifications
    const channel = yield* ChannelPosts
    const bot = yield* BotIdentity
    const users = yield* Users
    const stats = yield* StatsCache
    const conversations = yield* ConversationStore
    const config = yield* AppConfig

    /** Admins stay listed in ADMIN_IDS whatever the database forgets; a blocked account would shed its block. */
    const refusal = (incoming: Incoming): string | undefined =>
      incoming.isAdmin ? Messages.forgetAdmin : incoming.user.blocked ? Messages.forgetBlocked : undefined

    yield* router.onCommand(
      "mydata",
      Effect.fn("PersonalData.myData")(function* (context) {
        yield* personalData.allowExport(context.user.id).pipe(
          Effect.catchReasons("PersonalDataError", {
            TooSoon: (reason) => Effect.fail(new Reply({ text: Messages.myDataTooSoon(reason.retryAfter) }))
          })
        )
        const data = yield* personalData.exportOf(context.user.id)
        // The router registered the sender before this handler ran, so they are stored.
        if (Option.isNone(data)) return yield* Effect.die(new Error("a registered user has no users row"))
        const file = PersonalDataViews.myDataFile(data.value, new Date(yield* Clock.currentTimeMillis))
        yield* telegram.sendDocument(context.chatId, file, { caption: Messages.myDataCaption })
      })
    )

    yield* router.onCommand(
      "forget",
      Effect.fn("PersonalData.askForget")(function* (context) {
        const refused = refusal(context)
        if (refused !== undefined) return yield* new Reply({ text: refused })
        const view = PersonalDataViews.forgetQuestion
        yield* telegram.sendMessage(context.chatId, view.text, { replyMarkup: view.keyboard })
      })
    )

    /**
     * A random delay of its own for each visible withdrawal, within ADMIN_NOTIFY_JITTER: admins' copies closing, or
     * channel posts disappearing, all at once would tell that those items had one author.
     */
    const spreadMillis = Duration.toMillis(config.adminNotifyJitter)
    const spread = Effect.map(
      spreadMillis > 0 ? Random.nextIntBetween(0, spreadMillis) : Effect.succeed(0),
      Duration.millis
    )

    /** The messages an erasure causes, queued in its transaction, each about content and none naming the person. */
    const follow = (user: UserId, erased: Erased) =>
      Effect.gen(function* () {
        const withdrawn = [
          ...erased.pending.map((id) => ({ topic: `confession:${id}`, text: Messages.withdrawnCopy("confession", id) })),
          ...erased.openFeedback.map((id) => ({ topic: `feedback:${id}`, text: Messages.withdrawnCopy("feedback", id) })),
          ...erased.reported.map((id) => ({ topic: `comment:${id}`, text: Messages.withdrawnCopy("comment", id) }))
        ]
        for (const copy of withdrawn) yield* admins.close(copy.topic, "withdrawn", copy.text, { delay: yield* spread })
        for (const post of erased.withdrawn) {
          yield* channel.withdraw(post.id, post.channelMessageId, { delay: yield* spread })
        }
        // After the closes and withdrawals (which need the sent copies and posts to refer to), before the revised
        // posts (whose stored calls must keep their new words).
        yield* personalData.scrubOutbox(
          user,
          [
            ...erased.confessions.map((id) => `confession:${id}`),
            ...erased.feedback.map((id) => `feedback:${id}`),
            ...erased.comments.map((id) => `comment:${id}`)
          ],
          Messages.withdrawnPlaceholder
        )
        for (const post of erased.kept) {
          if (!post.wasNamed) continue
          const view = ConfessionViews.channelPost(
            { id: post.id, text: post.text, media: post.media, anonymous: true, authorFirstName: "", authorUsername: null },
            bot.startUrl(DeepLink.OpenComments(post.id))
          )
          yield* channel.revise(post.id, post.channelMessageId, { call: (chatId) => BotCall.send(chatId, view) })
        }
      })

    for (const [tag, posts] of [
      ["ForgetKeepPosts", "keep"],
      ["ForgetDeletePosts", "delete"]
    ] as const satisfies ReadonlyArray<readonly [string, PostsChoice]>) {
      yield* router.onCallback(
        tag,
        Effect.fn("PersonalData.forget")(function* (context) {
          const refused = refusal(context)
          if (refused !== undefined) return yield* new Reply({ text: refused, alert: true })
          const user = context.user.id
          const erased = yield* courier.commit(
            Effect.tap(personalData.erase(user, posts), (erased) => follow(user, erased))
          )
          // This process's memories of them go too (a Redis conversation store that cannot be reached forgets
          // their state at STATE_TTL instead).
          yield* users.forget(user)
          yield* stats.forget(user)
          yield* Effect.forEach(erased.affected, stats.forget, { discard: true })
          yield* conversations.clear(user).pipe(Effect.ignore({ log: "Warn" }))
          // Sent directly, not through the outbox: an outbox row would keep their chat id, which nothing stored may.
          // If this fails the erasure still stands; only the confirmation is lost.
          yield* telegram.answerCallbackQuery(context.callbackQueryId)
          yield* telegram.sendOrEdit(context.chatId, context.messageId, Messages.forgotten(posts === "delete"))
        })
      )
    }

    yield* router.onCallback(
      "ForgetCancel",
      Effect.fn("PersonalData.cancelForget")(function* (context) {
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
        yield* telegram.sendOrEdit(context.chatId, context.messageId, Messages.forgetCancelled)
      })
    )
  })
)
