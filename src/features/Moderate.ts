// The admins' ✅ Approve and ❌ Reject buttons (on the notification and in /pending). A decision is taken exactly once
// (the database picks the winner) and commits together with everything it causes: the channel post with the comments
// button, the author's notice (with the post's link once it is out), every admin's copy turned into the outcome, and
// the answer to the admin who pressed. Rejecting then asks for an optional reason, which their next text (or /skip)
// answers; the author gets it through the same outbox.
import { Effect, Layer, Option } from "effect"
import * as BotCall from "../domain/BotCall.ts"
import * as Conversation from "../domain/Conversation.ts"
import * as DeepLink from "../domain/DeepLink.ts"
import type { ConfessionId } from "../domain/Ids.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import { BotIdentity } from "../services/BotIdentity.ts"
import { ChannelPosts } from "../services/ChannelPosts.ts"
import { ConversationStore } from "../services/ConversationStore.ts"
import { Courier } from "../services/Courier.ts"
import { type ModeratedConfession, Moderation, type ModerationError } from "../services/Moderation.ts"
import { Telegram } from "../services/Telegram.ts"
import { Reply, Router } from "../updates/Router.ts"
import * as ConfessionViews from "../views/ConfessionViews.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const moderation = yield* Moderation
    const channel = yield* ChannelPosts
    const admins = yield* AdminNotifications
    const courier = yield* Courier
    const bot = yield* BotIdentity
    const conversations = yield* ConversationStore
    const telegram = yield* Telegram

    /** The loser of a race, a second press, or a forged id: answered, nothing changes. */
    const refused = (id: ConfessionId) => (error: ModerationError) =>
      Effect.fail(
        new Reply({
          text:
            error.reason._tag === "AlreadyDecided"
              ? Messages.alreadyDecided(id, error.reason.status)
              : Messages.confessionNotFound(id)
        })
      )

    const topic = (id: ConfessionId) => `confession:${id}`

    /** To the author, after the post when there is one, so the notice can carry the post's link. */
    const tellApproved = (confession: ModeratedConfession, post: Option.Option<string>) =>
      courier.send([
        {
          key: `${topic(confession.id)}:approved`,
          kind: "notice",
          topic: topic(confession.id),
          call: BotCall.BotCall.cases.SendMessage.make({
            chatId: confession.authorId,
            text: Messages.authorApproved(confession.id, undefined),
            ...Option.match(Option.all([post, channel.channelId]), {
              onNone: () => ({}),
              onSome: ([, channelId]) => ({
                postLinked: { template: Messages.authorApproved(confession.id, "{link}"), channelId }
              })
            })
          }),
          after: Option.getOrUndefined(post)
        }
      ])

    yield* router.onCallback(
      "Approve",
      Effect.fn("Moderate.approve")(function* (context) {
        const id = context.action.confessionId
        yield* courier.commit(
          Effect.gen(function* () {
            const confession = yield* moderation.approve(id, context.user.id).pipe(Effect.catchTag("ModerationError", refused(id)))
            const view = ConfessionViews.channelPost(confession, bot.startUrl(DeepLink.OpenComments(id)))
            const post = yield* channel.post(id, { call: (chatId) => BotCall.send(chatId, view) })
            yield* tellApproved(confession, post)
            yield* admins.close(topic(id), "approved", ConfessionViews.outcome(confession, "approved").text)
            yield* courier.answer([
              Option.isSome(channel.channelId)
                ? BotCall.answerCallback(context.callbackQueryId, Messages.approvedToast)
                : BotCall.answerCallback(context.callbackQueryId, Messages.approvedNoChannel, true)
            ])
          })
        )
      }),
      { adminOnly: true }
    )

    yield* router.onCallback(
      "Reject",
      Effect.fn("Moderate.reject")(function* (context) {
        const id = context.action.confessionId
        yield* courier.commit(
          Effect.gen(function* () {
            const confession = yield* moderation.reject(id, context.user.id).pipe(Effect.catchTag("ModerationError", refused(id)))
            yield* courier.send([
              {
                key: `${topic(id)}:rejected`,
                kind: "notice",
                topic: topic(id),
                call: BotCall.sendMessage(confession.authorId, Messages.authorRejected(id))
              }
            ])
            yield* admins.close(topic(id), "rejected", ConfessionViews.outcome(confession, "rejected").text)
            yield* courier.answer([
              BotCall.answerCallback(context.callbackQueryId, Messages.rejectedToast),
              BotCall.sendMessage(context.chatId, Messages.askRejectReason(id))
            ])
          })
        )
        yield* conversations.set(context.user.id, Conversation.awaitingRejectReason(id))
      }),
      { adminOnly: true }
    )

    yield* router.onState(
      "AwaitingRejectReason",
      Effect.fn("Moderate.rejectReason")(function* (context) {
        const id = context.state.confessionId
        if (context.text === undefined) return yield* new Reply({ text: Messages.textOnly("reason") })
        const text = context.text
        yield* courier.commit(
          Effect.gen(function* () {
            const confession = yield* moderation.setRejectReason(id, context.user.id, text).pipe(
              Effect.catchTag("ModerationError", (error) =>
                Effect.gen(function* () {
                  const reason = error.reason
                  // A reason that breaks the rule can be sent again; anything else ends the flow.
                  if (reason._tag === "InvalidReason") {
                    return yield* new Reply({ text: Messages.textProblem(reason.problem, "reason") })
                  }
                  yield* conversations.clear(context.user.id)
                  return yield* new Reply({
                    text:
                      reason._tag === "ReasonAlreadyGiven"
                        ? Messages.reasonAlreadyGiven(id)
                        : reason._tag === "DecidedByAnotherAdmin"
                          ? Messages.reasonNotYours(id)
                          : reason._tag === "NotRejected"
                            ? Messages.reasonNotRejected(id, reason.status)
                            : reason._tag === "AlreadyDecided"
                              ? Messages.alreadyDecided(id, reason.status)
                              : Messages.confessionNotFound(id)
                  })
                })
              )
            )
            yield* courier.send([
              {
                key: `${topic(id)}:reason`,
                kind: "notice",
                topic: topic(id),
                call: BotCall.sendMessage(confession.authorId, Messages.authorRejectReason(id, confession.rejectReason ?? "")),
                after: `${topic(id)}:rejected`
              }
            ])
            yield* courier.answer([BotCall.sendMessage(context.chatId, Messages.reasonSent)])
          })
        )
        yield* conversations.clear(context.user.id)
      })
    )

    yield* router.onCommand(
      "skip",
      Effect.fn("Moderate.skipReason")(function* (context) {
        const state = yield* conversations.get(context.user.id)
        const waiting = Option.isSome(state) && state.value._tag === "AwaitingRejectReason"
        if (waiting) yield* conversations.clear(context.user.id)
        yield* telegram.sendMessage(context.chatId, waiting ? Messages.reasonSkipped : Messages.nothingToSkip)
      })
    )
  })
)
